# Copyright 2026 Lead Scoring contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The score ledger: every change of a contact's score is one operation.

A contact's score is its ledger folded in date order: *set* makes the balance
that value, *add* and *remove* move it, expired operations count for nothing.
Lines written from SQL (the rule engine, the addons' jobs) go through
:meth:`_record_lines`, which writes each line's balance as it inserts it.
Every path that changes the ledger (create, unlink, expiry, the rule engine)
ends in :meth:`_refresh_scores`, which replays the ledger of the contacts
concerned in SQL (the rule engine, only those with a line whose balance is
missing: see lead.score.value._touch) and lets the ORM recompute their stored
score, so that automation rules, tracking and related fields see the change.

A contact who objects to scoring (``res.partner.lead_score_objection``) gets
no line: :meth:`_record_lines` leaves them out, :meth:`create` refuses a
person's or an API's line and leaves out the engine's. Their ledger is kept
(it counts again should they withdraw the objection) but their score is 0;
a manager may erase it (:meth:`_erase_ledgers`).

Retention (:meth:`_compact_ledger`): the lines older than a cut-off are folded
into one *carried forward* line per contact, a *set* of the balance they
reached, dated as the last of them, so that the score, the breakdown's total
and every later line's balance stay the same. Per contact, only the lines
before its first line still pending (an expiry to come, a balance to replay)
are folded. A line whose key still protects against scoring twice stays, as
it is (before the carried-forward set, it counts no more): a rule's *once* or
record key and any idempotency key (forms, mailings, campaigns, API). A
repeating rule's key only matters within its period: its older lines fold,
as do decay lines older than a day.

Decay (:meth:`_decay_scores`): a daily job writes, set-based, one *remove*
line per contact and group whose score decays (the group's setting): the
points that make a positive score halve every so many days, or so many points
per whole period, for the days since the contact's last decay line. Lines
hold whole points, so that a replay equals the score.
"""

import logging
import time
from contextlib import contextmanager
from datetime import timedelta

from odoo import _, api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.osv import expression
from odoo.tools import SQL, split_every

from ..tools import int_array
from .lead_score_group import default_group
from .res_partner import MANUAL_SCORE_KEY


@contextmanager
def local_setting(cr, name, value):
    """Set a PostgreSQL setting for a while (within the transaction), then
    put back what it was."""
    cr.execute(SQL("SELECT current_setting(%s)", name))
    previous = cr.fetchone()[0]
    cr.execute(SQL("SELECT set_config(%s, %s, TRUE)", name, str(value)))
    yield previous
    cr.execute(SQL("SELECT set_config(%s, %s, TRUE)", name, previous))


def pass_position(cr, key):
    """Where a pass (decay, a configuration's recompute) stands: a system
    parameter, read from the table (a retried batch's rollback must be seen)."""
    cr.execute("SELECT value FROM ir_config_parameter WHERE key = %s", [key])
    row = cr.fetchone()
    return row[0] if row and row[0] else None


def set_pass_position(env, key, value):
    """Note where a pass stands (falsy: done), in SQL: Odoo's set_param
    would clear the caches of every Odoo worker at each batch."""
    if not value:
        env.cr.execute("DELETE FROM ir_config_parameter WHERE key = %s", [key])
        return
    env.cr.execute(
        """INSERT INTO ir_config_parameter (key, value, create_uid, create_date,
                                            write_uid, write_date)
           VALUES (%(key)s, %(value)s, %(uid)s, now() AT TIME ZONE 'UTC',
                   %(uid)s, now() AT TIME ZONE 'UTC')
           ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value,
               write_uid = EXCLUDED.write_uid, write_date = EXCLUDED.write_date""",
        {"key": key, "value": str(value), "uid": env.uid},
    )


_logger = logging.getLogger(__name__)

MAX_POINTS = 1_000_000
# Keeps a folded balance inside PostgreSQL's int4, whatever the ledger holds.
MAX_BALANCE = 2_000_000_000
REFRESH_BATCH = 20_000
# From this many contacts in one create, their scores are stored as the
# engine stores them (see create).
BULK_CONTACTS = 100
# The most lines a person's or an external system's create records at once:
# the adjustment wizard's largest selection (about 45 s on 2 cores, within a
# worker's time limit). The engine's own lines are not counted.
MAX_CREATE_LINES = 50_000
# Retention: the lines older than this many days (system parameter, empty or
# 0 for never) are compacted by the daily job; it says here what it did last.
COMPACT_DAYS_PARAM = "lead_scoring.compact_after_days"
COMPACT_LAST_PARAM = "lead_scoring.compact_last_run"
# The pass in progress: its cut-off, the last contact done, its counts.
COMPACT_PASS_PARAM = "lead_scoring.compact_pass"
# Contacts compacted per statement (about a second's work).
COMPACT_BATCH = 1_000
# One decay line per contact and day (a reserved prefix, see below).
DECAY_KEY_PREFIX = "lead-scoring:decay:"
# The decay pass in progress: its time and the last contact done.
DECAY_PASS_PARAM = "lead_scoring.decay_pass"
# Group scores decayed per transaction (a few seconds' work at most).
DECAY_BATCH = 20_000

OPERATIONS = [("add", "Add"), ("remove", "Remove"), ("set", "Set")]
SOURCES = [
    ("manual", "Manual"),
    ("rule", "Scoring rule"),
    ("website", "Website form"),
    ("automation", "Automation"),
    ("mailing", "Email marketing"),
    ("api", "API"),
    ("carried", "Carried forward"),
    ("decay", "Decay"),
]
# Once recorded, an operation's note is all that may change.
EDITABLE_FIELDS = {"note"}
# What a caller outside the addons' own code may record.
PUBLIC_SOURCES = {"manual", "api"}
# Only the engine and the addons' own code set these.
ENGINE_FIELDS = {
    "rule_id",
    "rule_name",
    "rule_key",
    "res_model",
    "res_id",
    "balance",
    "expired",
    "user_id",
    "company_id",
    "signed_value",
}
# Idempotency keys that the addons use for their own events: a caller who
# could record one would pre-claim the event, or exempt a contact from it.
RESERVED_KEY_PREFIXES = (
    "lead-scoring:",
    DECAY_KEY_PREFIX,
    "website-form:",
    "mailing-trace:",
    "automation.record.step:",
)
# The columns of a line that _record_lines takes from its caller, with their
# SQL types (the contact, its company and the balance are its own).
LINE_COLUMNS = {
    "date": "timestamp",
    "operation": "varchar",
    "value": "int4",
    "note": "text",
    "source": "varchar",
    "rule_id": "int4",
    "rule_key": "varchar",
    "res_model": "varchar",
    "res_id": "int4",
    "expiry_date": "timestamp",
    "idempotency_key": "varchar",
    "user_id": "int4",
    "group_id": "int4",
}
# A client's clock may be a little ahead of the server's.
CLOCK_SKEW = timedelta(minutes=5)
# The addons' own code passes this object in the context to write engine
# lines (see _engine()); an RPC caller cannot make one, as OCA queue_job
# guards its jobs.
_ENGINE = object()


class LeadScoreOperation(models.Model):
    _name = "lead.score.operation"
    _description = "Score Operation"
    _order = "date desc, id desc"
    _rec_names_search = ["partner_id", "note", "rule_name"]

    partner_id = fields.Many2one(
        "res.partner",
        string="Contact",
        required=True,
        ondelete="cascade",
        index=True,
    )
    company_id = fields.Many2one(
        related="partner_id.company_id", store=True, index="btree_not_null"
    )
    # Indexed with the contact (see init).
    date = fields.Datetime(required=True, default=fields.Datetime.now)
    operation = fields.Selection(OPERATIONS, required=True, default="add")
    value = fields.Integer(string="Points", required=True)
    signed_value = fields.Integer(
        compute="_compute_signed_value",
        store=True,
        string="Change",
        help="Points added (positive) or removed (negative); a set counts as its value.",
    )
    balance = fields.Integer(
        readonly=True,
        help="The contact's score right after this operation.",
    )
    note = fields.Text(string="Internal note")
    user_id = fields.Many2one(
        "res.users",
        string="Made by",
        default=lambda self: self.env.user,
        ondelete="set null",
    )
    source = fields.Selection(SOURCES, required=True, default="api", index=True)
    group_id = fields.Many2one(
        "lead.score.group",
        string="Score group",
        required=True,
        index=True,
        ondelete="restrict",
        default=default_group,
    )
    rule_id = fields.Many2one(
        "lead.score.rule", ondelete="restrict", index="btree_not_null"
    )
    rule_name = fields.Char(
        string="Rule title",
        translate=True,
        help="The rule's title when it scored, kept when the rule is renamed.",
    )
    rule_key = fields.Char(
        copy=False,
        help="Makes a rule score a contact once (per period or per source record).",
    )
    res_model = fields.Char(string="Source model", index="btree_not_null")
    res_id = fields.Many2oneReference(string="Source record", model_field="res_model")
    source_record_name = fields.Char(compute="_compute_source_record_name")
    expiry_date = fields.Datetime(
        string="Expires on",
        help="After this date the points no longer count; the line stays in history.",
    )
    expired = fields.Boolean(readonly=True, default=False, index=True)
    idempotency_key = fields.Char(
        copy=False,
        help="A caller's own key for this operation: a retried call with the same "
        "key returns the operation already recorded instead of scoring twice.",
    )

    _sql_constraints = [
        (
            "value_range",
            f"CHECK (value BETWEEN {-MAX_POINTS} AND {MAX_POINTS})",
            "Points must stay between -1,000,000 and 1,000,000.",
        ),
    ]

    def init(self):
        cr = self.env.cr
        # Folding a ledger reads it in this order, one score group at a time.
        cr.execute("DROP INDEX IF EXISTS lead_score_operation_fold_idx")
        cr.execute(
            "CREATE INDEX IF NOT EXISTS lead_score_operation_group_fold_idx"
            " ON lead_score_operation (partner_id, group_id, date, id)"
        )
        # By date, then contact: a run's contacts in order (_contacts_dated).
        cr.execute("DROP INDEX IF EXISTS lead_score_operation__date_index")
        cr.execute(
            "CREATE INDEX IF NOT EXISTS lead_score_operation_date_partner_idx"
            " ON lead_score_operation (date, partner_id)"
        )
        # The few lines whose balance awaits a replay (see _unbalanced).
        cr.execute(
            "CREATE INDEX IF NOT EXISTS lead_score_operation_unbalanced_idx"
            " ON lead_score_operation (partner_id) WHERE balance IS NULL"
        )
        # The database, not only Python, guarantees that a rule never scores
        # a contact twice for the same key and that an API retry is harmless.
        cr.execute(
            "CREATE UNIQUE INDEX IF NOT EXISTS lead_score_operation_rule_key_uniq"
            " ON lead_score_operation (rule_id, partner_id, rule_key)"
            " WHERE rule_id IS NOT NULL AND rule_key IS NOT NULL"
        )
        # A key is the contact's own: one contact's key says nothing about
        # another's, whatever their companies.
        cr.execute("DROP INDEX IF EXISTS lead_score_operation_idempotency_uniq")
        cr.execute(
            "CREATE UNIQUE INDEX IF NOT EXISTS lead_score_operation_partner_key_uniq"
            " ON lead_score_operation (partner_id, idempotency_key)"
            " WHERE idempotency_key IS NOT NULL"
        )
        cr.execute(
            "CREATE INDEX IF NOT EXISTS lead_score_operation_expiry_idx"
            " ON lead_score_operation (expiry_date) WHERE NOT expired"
        )

    @api.depends("operation", "value")
    def _compute_signed_value(self):
        for operation in self:
            sign = -1 if operation.operation == "remove" else 1
            operation.signed_value = sign * operation.value

    @api.depends("res_model", "res_id")
    @api.depends_context("uid")
    def _compute_source_record_name(self):
        for operation in self:
            name = False
            if operation.res_model in self.env and operation.res_id:
                record = self.env[operation.res_model].browse(operation.res_id)
                # Named only to those who may read it.
                record = record.exists()._filtered_access("read")
                name = record.sudo().display_name or False
            operation.source_record_name = name

    @api.depends("operation", "value", "partner_id")
    def _compute_display_name(self):
        labels = dict(self._fields["operation"]._description_selection(self.env))
        for operation in self:
            operation.display_name = (
                f"{labels.get(operation.operation, '')} {operation.value}"
                f" ({operation.partner_id.display_name or ''})"
            )

    # ------------------------------------------------------------------
    # Validation
    # ------------------------------------------------------------------
    @api.model
    def _check_vals(self, vals):
        value = vals.get("value", 0)
        if isinstance(value, float) and value.is_integer():
            vals["value"] = value = int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValidationError(_("Points must be a whole number, not %r.", value))
        operation = vals.get("operation", "add")
        low = -MAX_POINTS if operation == "set" else 0
        if not low <= value <= MAX_POINTS:
            raise ValidationError(
                _(
                    "%(value)s points is out of range: an operation adds or removes "
                    "0 to 1,000,000 points and sets a score between -1,000,000 and "
                    "1,000,000.",
                    value=value,
                )
            )
        if (
            vals.get("source", "api") == "manual"
            and not (vals.get("note") or "").strip()
        ):
            raise ValidationError(_("A manual operation needs an internal note."))

    @api.model
    def _check_partners(self, partner_ids):
        partners = self.env["res.partner"].with_context(active_test=False)
        partners = partners.browse(partner_ids)
        # A contact that the caller may not read is as one that does not
        # exist: nothing about it (archived, objecting, its name) is told.
        known = partners.exists()._filtered_access("read")
        if set(partner_ids) - set(known.ids):
            raise ValidationError(_("This contact does not exist (any more)."))
        partners = partners.sudo()
        archived = partners.filtered(lambda partner: not partner.active)
        if archived:
            raise ValidationError(
                _(
                    "The score of an archived contact cannot change: %s.",
                    ", ".join(archived.mapped("display_name")),
                )
            )

    @api.model
    def _without_objections(self, vals_list, engine):
        """The values of contacts who do not object to scoring: a person or
        an external system is told, the engine's lines are left out."""
        partners = self.env["res.partner"].sudo()
        objecting = partners.browse(
            {vals.get("partner_id") for vals in vals_list}
        ).filtered("lead_score_objection")
        if not objecting:
            return vals_list
        if not engine:
            raise ValidationError(
                _(
                    "These contacts object to scoring (GDPR Art. 21), their score "
                    "cannot change: %s.",
                    ", ".join(objecting.mapped("display_name")),
                )
            )
        return [v for v in vals_list if v.get("partner_id") not in objecting.ids]

    # ------------------------------------------------------------------
    # ORM
    # ------------------------------------------------------------------
    @api.model
    def _engine(self):
        """This model as the engine and the addons' own code use it: as
        superuser, allowed to record rule, form, mailing and automation lines."""
        return self.sudo().with_context(lead_scoring_engine=_ENGINE)

    def _is_engine(self):
        return self.env.context.get("lead_scoring_engine") is _ENGINE

    @api.model
    def _check_public_vals(self, vals):
        """What a user or an external system may record: manual and API
        operations, dated now or before (managers may date them later)."""
        if vals.get("source", "api") not in PUBLIC_SOURCES:
            raise AccessError(
                _("Only manual and API score operations can be recorded this way.")
            )
        forbidden = sorted(field for field in ENGINE_FIELDS if vals.get(field))
        if forbidden:
            raise AccessError(
                _(
                    "These values are set by the scoring engine only: %s.",
                    ", ".join(forbidden),
                )
            )
        key = vals.get("idempotency_key") or ""
        if key.startswith(RESERVED_KEY_PREFIXES):
            raise AccessError(
                _("Idempotency keys starting with %s are reserved.", key.split(":")[0])
            )
        date = vals.get("date") and fields.Datetime.to_datetime(vals["date"])
        if (
            date
            and date > fields.Datetime.now() + CLOCK_SKEW
            and not self.env.user.has_group("lead_scoring.group_lead_scoring_manager")
        ):
            raise AccessError(_("Only Lead Scoring managers can date points later."))

    @api.model_create_multi
    def create(self, vals_list):
        engine = self._is_engine()
        # The caller's rights first: someone who may not record points learns
        # nothing from the checks below (whether a contact exists ...).
        self.browse().check_access("create")
        if not engine and len(vals_list) > MAX_CREATE_LINES:
            # Formatted apart: an f-string within _() stops the extraction of
            # the file's terms.
            limit, given = format(MAX_CREATE_LINES, ","), format(len(vals_list), ",")
            raise UserError(
                _(
                    "Record at most %(max)s score operations at once (%(count)s "
                    "given): split the list.",
                    max=limit,
                    count=given,
                )
            )
        for vals in vals_list:
            if "group_id" in vals and not vals["group_id"]:
                # No group: the default one.
                del vals["group_id"]
            if not engine:
                self._check_public_vals(vals)
            self._check_vals(vals)
        self._check_partners(list({vals.get("partner_id") for vals in vals_list}))
        vals_list = self._without_objections(vals_list, engine)
        existing = self._find_by_idempotency_key(vals_list)
        new_vals = [v for v in vals_list if self._key_of(v) not in existing]
        created = super().create(new_vals) if new_vals else self.browse()
        created.filtered(lambda op: op.rule_id and not op.rule_name)._copy_rule_names()
        # A person's adjustment is logged in the contact's chatter (see
        # res.partner._mail_track).
        adjusted = created.filtered(lambda op: op.source == "manual").partner_id
        if adjusted:
            precommit = self.env.cr.precommit.data
            precommit.setdefault(MANUAL_SCORE_KEY, set()).update(adjusted.ids)
        # Many contacts at once (a person adjusting a selection, an automation
        # on a list): their scores are written and logged set-based, as the
        # engine's are, so that a large selection stays within a worker's
        # time limit.
        partners = created.partner_id
        created._refresh_scores(partners.ids, flush=len(partners) >= BULK_CONTACTS)
        # Answer in the caller's order, retried calls getting the first record.
        created_iter = iter(created)
        return self.browse(
            existing[self._key_of(v)].id
            if self._key_of(v) in existing
            else next(created_iter).id
            for v in vals_list
        )

    def _copy_rule_names(self):
        """Keep the rule's title, in every language it is translated in."""
        if not self:
            return
        self.flush_recordset()
        self.env["lead.score.rule"].flush_model(["name"])
        self.env.cr.execute(
            SQL(
                """
                UPDATE lead_score_operation o SET rule_name = r.name
                  FROM lead_score_rule r
                 WHERE o.id = ANY(%s) AND r.id = o.rule_id
                """,
                self.ids,
            )
        )
        self.invalidate_recordset(["rule_name"])

    @api.model
    def _copy_rule_name_translations(self, modules, langs):
        """Lines recorded before a language was loaded take the title in it
        of their rule, when these modules define the rule (their translation
        files give its title) and it still has the title they recorded."""
        self.env["lead.score.rule"].flush_model(["name"])
        self.flush_model(["rule_name"])
        self.env.cr.execute(
            "SELECT array_agg(res_id) FROM ir_model_data"
            " WHERE model = 'lead.score.rule' AND module = ANY(%s)",
            [list(modules)],
        )
        rule_ids = self.env.cr.fetchone()[0]
        if not rule_ids:
            return
        for lang in set(langs or ()) - {"en_US"}:
            self.env.cr.execute(
                SQL(
                    """
                    UPDATE lead_score_operation o
                       SET rule_name = o.rule_name
                           || jsonb_build_object(%(lang)s, r.name ->> %(lang)s)
                      FROM lead_score_rule r
                     WHERE r.id = o.rule_id
                       AND r.id = ANY(%(rule_ids)s)
                       AND r.name ? %(lang)s
                       AND NOT o.rule_name ? %(lang)s
                       AND o.rule_name ->> 'en_US' = r.name ->> 'en_US'
                    """,
                    lang=lang,
                    rule_ids=rule_ids,
                )
            )
        self.invalidate_model(["rule_name"])

    @api.model
    def _key_of(self, vals):
        key = vals.get("idempotency_key")
        return (vals.get("partner_id"), key) if key else None

    @api.model
    def _find_by_idempotency_key(self, vals_list):
        """{(contact, key): operation} already recorded for these values."""
        pairs = {self._key_of(vals) for vals in vals_list} - {None}
        if not pairs:
            return {}
        domain = expression.OR(
            [("partner_id", "=", partner_id), ("idempotency_key", "=", key)]
            for partner_id, key in pairs
        )
        # With the caller's rights: another company's line, its id or its
        # existence, is never an answer (their contacts are refused before).
        found = self.with_context(active_test=False).search(domain)
        return {(op.partner_id.id, op.idempotency_key): op for op in found}

    def write(self, vals):
        locked = set(vals) - EDITABLE_FIELDS
        if locked and not self._is_engine():
            raise UserError(
                _(
                    "A score operation cannot be changed once recorded (%s): delete it "
                    "and record a new one, so that the history stays true.",
                    ", ".join(sorted(locked)),
                )
            )
        return super().write(vals)

    def unlink(self):
        partners = self.partner_id.sudo()
        scores_before = {partner: partner.lead_score for partner in partners}
        lines = {
            partner: [op._summary() for op in self if op.partner_id == partner]
            for partner in partners
        }
        rules = self.rule_id
        result = super().unlink()
        self._refresh_scores(partners.ids)
        for partner in partners:
            partner._lead_score_log(
                _("Score operations deleted by %s.", self.env.user.name),
                scores_before[partner],
                old_lines=lines[partner],
                new_lines=[_("deleted")],
            )
        # Their contacts may earn them again: the next run looks at everyone.
        rules.sudo().write({"last_full_run_date": False})
        return result

    def _summary(self):
        """One line of the ledger, as the chatter lists a deleted one."""
        self.ensure_one()
        sources = dict(self._fields["source"]._description_selection(self.env))
        operations = dict(self._fields["operation"]._description_selection(self.env))
        parts = [
            fields.Datetime.to_string(self.date),
            f"{operations.get(self.operation)} {self.value}",
            sources.get(self.source),
            self.rule_name,
            self.note,
        ]
        return " · ".join(str(part) for part in parts if part)

    def action_delete(self):
        self.unlink()
        return True

    @api.model
    def _erase_ledgers(self, partners):
        """Delete these contacts' whole ledgers at once (a person's request,
        see lead.score.erase): unlike unlink, the chatter says who erased
        how many operations, not what they were."""
        partners = partners.sudo().with_context(active_test=False)
        scores_before = {partner: partner.lead_score for partner in partners}
        self.flush_model()
        self.env.cr.execute(
            SQL(
                "DELETE FROM lead_score_operation WHERE partner_id = ANY(%s)"
                " RETURNING partner_id, rule_id",
                partners.ids,
            )
        )
        rows = self.env.cr.fetchall()
        self.invalidate_model()
        self._refresh_scores(partners.ids)
        for partner in partners:
            partner._lead_score_log(
                _(
                    "Score history erased by %(user)s: %(count)s operations deleted.",
                    user=self.env.user.name,
                    count=sum(
                        1 for partner_id, _rule in rows if partner_id == partner.id
                    ),
                ),
                scores_before[partner],
            )
        # Their contacts may earn them again: the next run looks at everyone.
        rules = self.env["lead.score.rule"].browse({rule for _p, rule in rows if rule})
        rules.sudo().write({"last_full_run_date": False})
        return len(rows)

    # ------------------------------------------------------------------
    # The fold
    # ------------------------------------------------------------------
    @api.model
    def _replay_ledger(self, partner_ids):
        """Fold the ledger of these contacts in date order and store every
        line's balance; set operations start a new segment of the fold."""
        if not partner_ids:
            return
        self.flush_model()
        # Contacts are replayed one transaction at a time: a concurrent
        # transaction waits here, then (read committed) sees this one's lines.
        self.env.cr.execute(
            SQL(
                "SELECT id FROM res_partner WHERE id = ANY(%s) ORDER BY id FOR NO KEY UPDATE",
                int_array(partner_ids),
            )
        )
        self.env.cr.execute(
            SQL(
                """
                WITH ordered AS (
                    SELECT id, partner_id, group_id, date, balance,
                           CASE WHEN expired THEN 0
                                WHEN operation = 'remove' THEN -value
                                ELSE value END AS delta,
                           COUNT(*) FILTER (WHERE operation = 'set' AND NOT expired)
                               OVER (PARTITION BY partner_id, group_id
                                     ORDER BY date, id) AS segment
                      FROM lead_score_operation
                     WHERE partner_id = ANY(%(ids)s)
                ), folded AS (
                    SELECT id, balance,
                           GREATEST(-%(max)s, LEAST(%(max)s,
                               SUM(delta) OVER (PARTITION BY partner_id, group_id, segment
                                                ORDER BY date, id)))::int AS new_balance
                      FROM ordered
                )
                -- Only the lines whose balance changes are looked up again.
                UPDATE lead_score_operation op
                   SET balance = folded.new_balance
                  FROM (SELECT * FROM folded
                         WHERE balance IS DISTINCT FROM new_balance) folded
                 WHERE op.id = folded.id
                """,
                ids=int_array(partner_ids),
                max=MAX_BALANCE,
            )
        )
        self.invalidate_model(["balance"])

    @api.model
    def _record_lines(
        self,
        select,
        condition=None,
        rule_since=None,
        touch=True,
        unrecorded=False,
        **fixed,
    ):
        """Record ledger lines from an SQL SELECT, in one statement.

        ``select`` gives at least ``partner_id``, one row per line; each keyword
        (a column of LINE_COLUMNS) is either one value for every line or an
        ``SQL`` expression over the selected row ``src`` (``SQL("src.res_id")``).
        ``condition`` is an extra SQL filter on ``src`` and its contact's
        company ``p.company_id``.
        Archived contacts and those who object to scoring get nothing, and a line whose rule key (rule_id,
        partner_id, rule_key) or idempotency key (partner_id, idempotency_key)
        is recorded already is left out; with ``rule_since``, so is a line
        whose contact got one of the same rule after that date.

        Each line is written with its balance: the contact's previous balance
        plus the points (several lines of one contact follow each other), or
        NULL when the contact has a later-dated line or still awaits a replay.
        Returns (contact, needs a replay) for each line recorded; see
        :meth:`_refresh_recorded`. With ``touch``, the contacts' group score
        rows are written in the same transaction (lead.score.value._touch): a
        concurrent writer of their scores is then retried rather than leave a
        balance that misses this line. Without, the caller's refresh must
        replay every contact's ledger (see lead_scoring_queue_job).
        ``unrecorded``: the caller knows that none of these lines is recorded
        (a rule's first run), and the check is left out (the unique keys
        still refuse a duplicate): about 3% of a first run's time.
        """
        unknown = set(fixed) - set(LINE_COLUMNS)
        if unknown:
            raise ValueError(f"Not a ledger column: {', '.join(sorted(unknown))}")
        if (
            fixed.get("rule_key") is not None
            and fixed.get("idempotency_key") is not None
        ):
            raise ValueError("A line has a rule key or an idempotency key, not both.")
        values = {
            "date": fields.Datetime.now(),
            "operation": "add",
            "user_id": self.env.uid,
            "group_id": self.env["lead.score.group"]._default_group().id,
            **fixed,
        }
        # Typed, as a VALUES list or NULL would otherwise be text.
        columns = {
            name: SQL("CAST(%s AS %s)", values.get(name), SQL(sql_type))
            for name, sql_type in LINE_COLUMNS.items()
        }
        # Each a line that makes this one a duplicate; apart, so that each
        # is one lookup in an index.
        if values.get("idempotency_key") is not None:
            duplicates = [
                SQL(
                    "o.partner_id = line.partner_id"
                    " AND o.idempotency_key = line.dup_idempotency_key"
                )
            ]
            conflict = SQL(
                "ON CONFLICT (partner_id, idempotency_key)"
                " WHERE idempotency_key IS NOT NULL DO NOTHING"
            )
        elif values.get("rule_key") is not None:
            same_rule = SQL(
                "o.rule_id = line.dup_rule_id AND o.partner_id = line.partner_id"
            )
            duplicates = [SQL("%s AND o.rule_key = line.dup_rule_key", same_rule)]
            if rule_since:
                # Through the contact's lines only, whatever the statistics
                # say: "+ 0" keeps PostgreSQL off the indexes of the rule and
                # of the date, which a first run's lines (all of today, many
                # of this rule) make as long as the ledger.
                duplicates.append(
                    SQL(
                        "o.partner_id = line.partner_id"
                        " AND o.rule_id + 0 = line.dup_rule_id"
                        " AND o.date + interval '0 seconds' > %s",
                        rule_since,
                    )
                )
            conflict = SQL(
                "ON CONFLICT (rule_id, partner_id, rule_key)"
                " WHERE rule_id IS NOT NULL AND rule_key IS NOT NULL DO NOTHING"
            )
        else:
            duplicates, conflict = [], SQL()
        if unrecorded:
            duplicates = []
        # A contact's lines follow each other in this order, in the window
        # sums as in the ids that the replay orders them by.
        order = SQL("partner_id, res_id, idempotency_key, rule_key")
        self.flush_model()
        self.env["lead.score.rule"].flush_model(["name"])
        rows = self.env.execute_query(
            SQL(
                """
                -- Materialized: the duplicate check then looks up each line's
                -- keys in their unique index whatever the table's statistics
                -- say (a rule's lines counted as rare made it scan them all).
                WITH candidate AS MATERIALIZED (
                    SELECT src.*, %(rule_id)s AS dup_rule_id,
                           %(rule_key)s AS dup_rule_key,
                           %(idempotency_key)s AS dup_idempotency_key
                      FROM (%(select)s) src
                -- First what is new: a sweep finds most of its lines recorded
                -- already, and looks up nothing else for them.
                ), fresh AS MATERIALIZED (
                    SELECT * FROM candidate line WHERE %(new)s
                ), line AS MATERIALIZED (
                    SELECT src.partner_id, p.company_id, %(columns)s,
                           -- The title when it scored, in every language.
                           (SELECT r.name FROM lead_score_rule r
                             WHERE r.id = %(rule_id)s) AS rule_name,
                           last.date AS last_date, last.balance AS last_balance,
                           last.id IS NOT NULL AS has_last
                      FROM fresh src
                      -- Nor contacts who object to scoring (GDPR Art. 21).
                      -- LIMIT: one index lookup per line (a join would read
                      -- every contact for a chunk of a thousand).
                      JOIN LATERAL (
                            SELECT p.company_id FROM res_partner p
                             WHERE p.id = src.partner_id AND p.active
                               AND p.lead_score_objection IS NOT TRUE
                             LIMIT 1) p ON TRUE
                      LEFT JOIN LATERAL (
                            SELECT o.id, o.date, o.balance FROM lead_score_operation o
                             WHERE o.partner_id = src.partner_id
                               AND o.group_id = %(group_id)s
                             ORDER BY o.date DESC, o.id DESC LIMIT 1) last ON TRUE
                     WHERE %(condition)s
                ), new AS (
                    SELECT line.*,
                           CASE WHEN operation = 'remove' THEN -value
                                ELSE value END AS signed_value,
                           -- A set starts a new segment, as in _replay_ledger.
                           COUNT(*) FILTER (WHERE operation = 'set') OVER (
                               PARTITION BY partner_id, group_id ORDER BY %(order)s
                               ROWS UNBOUNDED PRECEDING) AS segment
                      FROM line
                )
                INSERT INTO lead_score_operation (
                    partner_id, company_id, %(names)s, rule_name, signed_value,
                    balance, expired, create_uid, create_date, write_uid, write_date)
                SELECT partner_id, company_id, %(names)s, rule_name, signed_value,
                       CASE WHEN last_date > date OR (has_last AND last_balance IS NULL)
                            THEN NULL
                            ELSE GREATEST(-%(max)s, LEAST(%(max)s,
                                CASE WHEN segment = 0 THEN COALESCE(last_balance, 0)
                                     ELSE 0 END
                                + SUM(CASE WHEN operation = 'set' THEN value
                                           ELSE signed_value END) OVER (
                                    PARTITION BY partner_id, group_id, segment
                                    ORDER BY %(order)s
                                    ROWS UNBOUNDED PRECEDING)))
                       END,
                       FALSE, %(uid)s, date, %(uid)s, date
                  FROM new
                 ORDER BY %(order)s
                %(conflict)s
                RETURNING partner_id, group_id, balance IS NULL
                """,
                columns=SQL(", ").join(
                    SQL("%s AS %s", value, SQL.identifier(name))
                    for name, value in columns.items()
                ),
                names=SQL(", ").join(SQL.identifier(name) for name in columns),
                rule_id=columns["rule_id"],
                rule_key=columns["rule_key"],
                idempotency_key=columns["idempotency_key"],
                group_id=columns["group_id"],
                select=select,
                condition=condition or SQL("TRUE"),
                # OFFSET 0: PostgreSQL keeps each check a lookup per line; made
                # a join, it may plan a scan of the whole ledger instead.
                new=SQL(" AND ").join(
                    SQL(
                        "NOT EXISTS (SELECT 1 FROM lead_score_operation o"
                        " WHERE %s OFFSET 0)",
                        duplicate,
                    )
                    for duplicate in duplicates
                )
                if duplicates
                else SQL("TRUE"),
                order=order,
                max=MAX_BALANCE,
                uid=self.env.uid,
                conflict=conflict,
            )
        )
        if touch:
            self.env["lead.score.value"]._touch(
                (partner_id, group_id) for partner_id, group_id, _unknown in rows
            )
        return [(partner_id, unknown) for partner_id, _group_id, unknown in rows]

    @api.model
    def _refresh_recorded(self, recorded):
        """Refresh the scores of the contacts that _record_lines scored,
        replaying only those whose lines have no balance; returns them."""
        changed = {partner_id for partner_id, _unknown in recorded}
        self.invalidate_model()
        self._refresh_scores(
            changed,
            flush=True,
            replay={partner_id for partner_id, unknown in recorded if unknown},
        )
        return changed

    @api.model
    def _record_and_refresh(self, select, condition=None, **fixed):
        """_record_lines, then the scores of the contacts it scored refreshed;
        returns them."""
        return self._refresh_recorded(self._record_lines(select, condition, **fixed))

    @api.model
    def _unbalanced(self, partner_ids):
        """Those of these contacts with a line whose balance is still to be
        replayed (a partial index holds them); every other line's balance
        counts the lines before it (see _record_lines)."""
        self.flush_model(["balance"])
        self.env.cr.execute(
            SQL(
                "SELECT DISTINCT partner_id FROM lead_score_operation"
                " WHERE balance IS NULL AND partner_id = ANY(%s)",
                int_array(partner_ids),
            )
        )
        return {row[0] for row in self.env.cr.fetchall()}

    @api.model
    def _contacts_dated(self, date, after, limit):
        """Up to ``limit`` contacts with a line dated ``date`` (every line of
        a rule run has the run's date), the first ones after contact
        ``after`` in id order."""
        self.flush_model(["date", "partner_id"])
        self.env.cr.execute(
            SQL(
                """SELECT DISTINCT partner_id FROM lead_score_operation
                    WHERE date = %s AND partner_id > %s
                    ORDER BY partner_id LIMIT %s""",
                date,
                after,
                limit,
            )
        )
        return [row[0] for row in self.env.cr.fetchall()]

    @api.model
    def _refresh_scores(
        self,
        partner_ids,
        flush=False,
        replay=None,
        engine_since=None,
        values_current=False,
    ):
        """Replay these contacts' ledgers, then have the ORM recompute their
        stored score (and what depends on it), batch by batch.

        ``replay`` limits the replay to those contacts, when the others' new
        lines were written with their balance (see _record_lines).
        With ``flush``, each batch is written at once and the cache emptied, so
        that memory stays flat in the number of contacts; the rule
        engine gives ``engine_since`` (see res.partner._store_lead_scores),
        and ``values_current`` when the group scores of the contacts it
        does not replay were written with their lines (see
        lead.score.rule._run_round).
        """
        for batch in split_every(REFRESH_BATCH, sorted(set(partner_ids))):
            # While statistics lag behind a fast-growing ledger (a first run
            # after an import), PostgreSQL misjudges these statements: it
            # spent seconds compiling (JIT) what runs in milliseconds, and
            # scanned the ledger for lines that its index on the contact finds.
            with (
                local_setting(self.env.cr, "jit", "off"),
                local_setting(self.env.cr, "enable_seqscan", "off"),
            ):
                self._refresh_batch(batch, flush, replay, engine_since, values_current)

    def _refresh_batch(self, batch, flush, replay, engine_since, values_current):
        partner_model = self.env["res.partner"]
        replayed = batch if replay is None else [pid for pid in batch if pid in replay]
        self._replay_ledger(replayed)
        # Each group's score, which the total score adds up, and the
        # company scores of their companies.
        self.env["lead.score.value"]._refresh(replayed if values_current else batch)
        if flush:
            partner_model.browse(batch)._store_lead_scores(engine_since)
            partner_model._store_lead_score_companies(batch)
            self.env.flush_all()
            self.env.invalidate_all()
        else:
            # As if the ORM had changed their ledger: the score, the tier
            # and what depends on them (leads' copies ...) are recomputed.
            partner_model.browse(batch).modified(["lead_score_operation_ids"])
            partner_model._store_lead_score_companies(batch)

    @api.model
    def _merge_ledgers(self, src_partners, dst_partner):
        """Move the ledgers of merged contacts to the one that survives.

        A rule earned by several of them stays in the history but counts once:
        the duplicates no longer count (as if expired) and lose their rule key.
        """
        self.flush_model()
        sources = list(src_partners.ids)
        self._expire_merged_duplicates(
            sources,
            dst_partner.id,
            ("rule_id", "rule_key"),
            _("Earned again by a merged duplicate contact: counts once."),
        )
        # The same for the keys of forms, mailings and API calls (unique per
        # contact): a form scored "once per contact" stays scored once.
        self._expire_merged_duplicates(
            sources,
            dst_partner.id,
            ("idempotency_key",),
            _("Recorded again for a merged duplicate contact: counts once."),
        )
        self.env.cr.execute(
            SQL(
                """
                UPDATE lead_score_operation SET partner_id = %s, company_id = %s
                 WHERE partner_id = ANY(%s) RETURNING id
                """,
                dst_partner.id,
                dst_partner.company_id.id or None,
                sources,
            )
        )
        moved = len(self.env.cr.fetchall())
        self.invalidate_model()
        score_before = dst_partner.sudo().lead_score
        self._refresh_scores(dst_partner.ids)
        if moved:
            dst_partner.sudo()._lead_score_log(
                _(
                    "Score history merged from %s.",
                    ", ".join(src_partners.mapped("display_name")),
                ),
                score_before,
                new_lines=[_("%s operations moved", moved)],
            )

    @api.model
    def _expire_merged_duplicates(self, sources, destination, key, why):
        """Lines of merged contacts whose key (the last of ``key``'s columns)
        the surviving contact or an earlier merged line holds already: they
        stay in the history, count no more, and lose their key."""
        key_column = SQL.identifier(key[-1])
        same_key = SQL(" AND ").join(
            SQL("d.%s = o.%s", SQL.identifier(column), SQL.identifier(column))
            for column in key
        )
        self.env.cr.execute(
            SQL(
                """
                UPDATE lead_score_operation o
                   SET %(key)s = NULL, expired = TRUE,
                       note = concat_ws(E'\n', note, %(why)s)
                 WHERE o.partner_id = ANY(%(src)s) AND o.%(key)s IS NOT NULL
                   AND EXISTS (SELECT 1 FROM lead_score_operation d
                                WHERE %(same_key)s
                                  AND (d.partner_id = %(dst)s
                                       OR (d.partner_id = ANY(%(src)s) AND d.id < o.id)))
                """,
                key=key_column,
                same_key=same_key,
                src=sources,
                dst=destination,
                why=why,
            )
        )

    @api.model
    def _expire_operations(self):
        """Mark operations past their expiry date, and refresh their contacts."""
        self.flush_model()
        self.env.cr.execute(
            SQL(
                """
                UPDATE lead_score_operation SET expired = TRUE
                 WHERE expiry_date <= %s AND NOT expired
                RETURNING partner_id
                """,
                fields.Datetime.now(),
            )
        )
        partner_ids = {row[0] for row in self.env.cr.fetchall()}
        self.invalidate_model(["expired"])
        self._refresh_scores(partner_ids, flush=True)
        return partner_ids

    # ------------------------------------------------------------------
    # Decay
    # ------------------------------------------------------------------
    @api.model
    def _cron_decay_scores(self):
        # Run by Odoo's scheduler, each batch is committed and a call lasts
        # as long as one of the rule engine's; the pass goes on at the next.
        commit = bool(self.env.context.get("cron_id"))
        deadline = None
        if commit:
            deadline = time.monotonic() + self.env["lead.score.rule"]._call_budget()
        if self._decay_scores(commit=commit, deadline=deadline) is None:
            if commit:
                # The rule engine is busy: try again a little later.
                self.env.ref("lead_scoring.ir_cron_decay_scores").sudo()._trigger(
                    fields.Datetime.now() + timedelta(minutes=10)
                )
        elif commit:
            pending = bool(pass_position(self.env.cr, DECAY_PASS_PARAM))
            self.env["ir.cron"]._notify_progress(done=1, remaining=int(pending))

    @api.model
    def _decay_scores(self, commit=False, now=None, deadline=None):
        """Decay the scores of each active group by its decay setting: one
        *remove* line per contact, group and day, written set-based (one
        statement for every group), of the points lost since the contact's
        last decay line (missed days are caught up) or, lacking one, since its
        score last reached the floor or began; never before the day the
        group's decay started.

        Half-life: positive scores halve every so many days. Points per
        period: so many points every whole period, the rest of a period
        carried over (the period's end is kept in the line's key). Rounded to
        whole points, a score never goes below 0, or below the floor that a
        group decaying below zero sets (its cap's minimum, if below 0); a loss
        of 0 is not written. ``now`` is the run's time (default: now).

        DECAY_BATCH group scores at a time in contact order, each batch
        committed with ``commit``, until ``deadline`` (time.monotonic()) when
        given: a pass stopped there goes on at the next call where it stopped,
        with its own time (DECAY_PASS_PARAM). Returns the contacts decayed
        (by this call), or None when the rule engine is busy."""
        rules = self.env["lead.score.rule"].sudo()
        if not rules._engine_lock(commit):
            _logger.info("Lead scoring: rules are running, decay postponed")
            return None
        try:
            state = pass_position(self.env.cr, DECAY_PASS_PARAM)
            if state:
                since, after = state.split("|")
                now, after = fields.Datetime.to_datetime(since), int(after)
            else:
                now, after = now or fields.Datetime.now(), 0
            groups = (
                self.env["lead.score.group"].sudo().search([("decay", "!=", "none")])
            )
            groups.filtered(lambda group: not group.decay_since).write(
                {"decay_since": now.date() - timedelta(days=1)}
            )
            decayed = set()
            while groups and after is not None:
                batch_decayed, after = self._decay_batch(groups, now, after, commit)
                decayed |= batch_decayed
                set_pass_position(
                    self.env,
                    DECAY_PASS_PARAM,
                    after and f"{fields.Datetime.to_string(now)}|{after}",
                )
                rules._commit(commit)
                if after and deadline is not None and time.monotonic() > deadline:
                    break
            if not groups:
                set_pass_position(self.env, DECAY_PASS_PARAM, False)
            _logger.info("Lead scoring: %s scores decayed", len(decayed))
            return decayed
        finally:
            if commit:
                rules._engine_unlock()

    @api.model
    def _decay_batch(self, groups, now, after, commit):
        """Decay the next DECAY_BATCH scores of these groups, of contacts
        after the contact ``after`` (its lines committed, then its scores,
        with ``commit``); returns the contacts decayed and the last contact
        of the batch (None when it was the last batch)."""
        today = now.date()
        self.env["lead.score.value"].flush_model()
        self.env.cr.execute(
            SQL(
                """
                SELECT partner_id FROM lead_score_value
                 WHERE partner_id > %s AND group_id = ANY(%s)
                 ORDER BY partner_id OFFSET %s LIMIT 1
                """,
                after,
                groups.ids,
                DECAY_BATCH - 1,
            )
        )
        row = self.env.cr.fetchone()
        until = row and row[0]

        def in_batch(alias):
            partner = SQL.identifier(alias, "partner_id")
            if until is None:
                return SQL("%s > %s", partner, after)
            return SQL("%s > %s AND %s <= %s", partner, after, partner, until)

        key = f"{DECAY_KEY_PREFIX}{fields.Date.to_string(today)}"
        self.env["res.partner"].flush_model(["active", "lead_score_objection"])
        groups.flush_recordset()
        recorded = self._engine()._record_lines(
            SQL(
                """
                SELECT v.partner_id, v.group_id,
                       CASE g.decay
                       WHEN 'half_life' THEN
                            d.balance - round(d.balance * power(0.5,
                                t.days / g.decay_half_life_days::float8))::int
                       ELSE LEAST(t.periods::int8 * g.decay_points,
                                  d.balance - g.floor)::int
                       END AS amount,
                       CASE g.decay WHEN 'linear' THEN ':' || to_char(
                            t.since + t.periods * g.decay_period_days, 'YYYY-MM-DD')
                       ELSE '' END AS period_end
                  FROM (SELECT *, CASE WHEN decay = 'linear' AND decay_below_zero
                                       THEN CASE WHEN use_cap THEN LEAST(score_min, 0)
                                                 ELSE -%(max)s END
                                       ELSE 0 END AS floor
                          FROM lead_score_group
                         WHERE id = ANY(%(groups)s)) g
                  JOIN lead_score_value v ON v.group_id = g.id
                                         AND (v.score > 0 OR g.floor < 0)
                                         AND %(in_batch)s
                  JOIN res_partner p ON p.id = v.partner_id AND p.active
                  JOIN LATERAL (
                        -- Since the last decay (the end of its last whole
                        -- period), the floor or compaction; or the first line.
                        SELECT GREATEST(MIN(o.date)::date, (array_agg(COALESCE(
                                   CASE WHEN o.source = 'decay' THEN NULLIF(
                                       split_part(o.idempotency_key, ':', 5), '')::date
                                   END, o.date::date)
                                   ORDER BY o.date DESC, o.id DESC)
                                   FILTER (WHERE o.source IN ('decay', 'carried')
                                              OR o.balance <= g.floor))[1]) AS since,
                               (array_agg(o.balance ORDER BY o.date DESC, o.id DESC))[1]
                                   AS balance
                          FROM lead_score_operation o
                         WHERE o.partner_id = v.partner_id
                           AND o.group_id = v.group_id) d ON TRUE
                  CROSS JOIN LATERAL (
                        SELECT s.since, s.days, s.days / g.decay_period_days AS periods
                          FROM (SELECT GREATEST(g.decay_since, d.since) AS since,
                                       GREATEST(0, %(today)s::date
                                                   - GREATEST(g.decay_since, d.since))
                                           AS days) s) t
                 WHERE d.balance > g.floor
                """,
                today=today,
                groups=groups.ids,
                max=MAX_POINTS,
                in_batch=in_batch("v"),
            ),
            SQL("src.amount > 0"),
            date=now,
            operation="remove",
            value=SQL("src.amount"),
            source="decay",
            group_id=SQL("src.group_id"),
            idempotency_key=SQL("%s || src.group_id || src.period_end", f"{key}:"),
        )
        rules = self.env["lead.score.rule"].sudo()
        rules._commit(commit)
        decayed = {partner_id for partner_id, _unknown in recorded}
        # With those whose scores a call earlier today left behind.
        behind = rules._scores_behind_lines(
            SQL(
                "o.date >= %s AND o.source = 'decay' AND o.idempotency_key LIKE %s"
                " AND %s",
                today,
                f"{key}:%",
                in_batch("o"),
            )
        )
        rules._refresh_in_chunks(decayed | behind, commit)
        return decayed, until

    # ------------------------------------------------------------------
    # Retention
    # ------------------------------------------------------------------
    @api.model
    def _cron_compact_ledger(self):
        params = self.env["ir.config_parameter"].sudo()
        days = int(params.get_param(COMPACT_DAYS_PARAM) or 0)
        if days <= 0:
            params.set_param(COMPACT_PASS_PARAM, False)
            return
        # Run by Odoo's scheduler, each batch is committed and a call lasts
        # as long as one of the rule engine's; the pass goes on at the next.
        commit = bool(self.env.context.get("cron_id"))
        budget = self.env["lead.score.rule"]._call_budget()
        pending = self._compact_ledger(
            fields.Datetime.now() - timedelta(days=days),
            commit=commit,
            deadline=time.monotonic() + budget if commit else None,
        )
        if commit:
            self.env["ir.cron"]._notify_progress(done=1, remaining=int(pending))

    @api.model
    def _compact_ledger(self, cutoff, commit=False, deadline=None):
        """Fold each contact's lines older than ``cutoff`` into one carried
        forward line (see the module's docstring), COMPACT_BATCH contacts at
        a time in contact order (each committed with ``commit``), until
        ``deadline`` (time.monotonic()) when given. A pass stopped there goes
        on where it stopped at the next call, with its own cut-off (kept in
        COMPACT_PASS_PARAM, with its counts). Returns whether the pass goes
        on."""
        params = self.env["ir.config_parameter"].sudo()
        state = params.get_param(COMPACT_PASS_PARAM)
        if state:
            since, after, folded, carried = state.split("|")
            cutoff = fields.Datetime.to_datetime(since)
            after, folded, carried = int(after), int(folded), int(carried)
        else:
            after = folded = carried = 0
        self.flush_model()
        while True:
            self.env.cr.execute(
                SQL(
                    """
                    SELECT DISTINCT partner_id FROM lead_score_operation
                     WHERE date < %s AND partner_id > %s
                     ORDER BY partner_id LIMIT %s
                    """,
                    cutoff,
                    after,
                    COMPACT_BATCH,
                )
            )
            batch = [row[0] for row in self.env.cr.fetchall()]
            if not batch:
                break
            rows = self._compact_contacts(batch, cutoff)
            folded += sum(count for _partner, count in rows)
            carried += len(rows)
            after = batch[-1]
            if deadline is not None and time.monotonic() > deadline:
                params.set_param(
                    COMPACT_PASS_PARAM,
                    f"{fields.Datetime.to_string(cutoff)}|{after}|{folded}|{carried}",
                )
                self._commit_batch(commit)
                return True
            self._commit_batch(commit)
        _logger.info(
            "Score history before %s compacted: %s lines into %s carried forward",
            cutoff,
            folded,
            carried,
        )
        params.set_param(COMPACT_PASS_PARAM, False)
        params.set_param(
            COMPACT_LAST_PARAM,
            f"{fields.Datetime.to_string(fields.Datetime.now())}|{folded}|{carried}",
        )
        self._commit_batch(commit)
        return False

    @api.model
    def _commit_batch(self, commit):
        if commit:
            self.env.cr.commit()  # pylint: disable=invalid-commit

    @api.model
    def _compact_contacts(self, partner_ids, cutoff):
        """Compact these contacts' lines older than ``cutoff``; returns
        (contact, lines folded) for each carried-forward line written."""
        self.env.cr.execute(
            SQL(
                "SELECT id FROM res_partner WHERE id = ANY(%s) ORDER BY id FOR NO KEY UPDATE",
                partner_ids,
            )
        )
        now = fields.Datetime.now()
        rows = self.env.execute_query(
            SQL(
                """
                WITH boundary AS (
                    -- A contact's lines fold up to the cut-off, or to its
                    -- first line still pending.
                    SELECT partner_id, group_id,
                           LEAST(%(cutoff)s, MIN(date) FILTER (
                               WHERE balance IS NULL
                                  OR (expiry_date IS NOT NULL AND NOT expired))) AS until
                      FROM lead_score_operation
                     WHERE partner_id = ANY(%(ids)s) AND date < %(cutoff)s
                     GROUP BY partner_id, group_id
                ), old AS (
                    SELECT o.id, o.partner_id, o.group_id, o.date, o.balance,
                           -- No key that still keeps the line from being recorded again.
                           (o.idempotency_key IS NULL
                            -- A decay line's key only matters on its day.
                            OR (o.idempotency_key LIKE %(decay)s
                                AND o.date < %(now)s - interval '1 day'))
                           AND (o.rule_key IS NULL
                                OR (o.rule_key LIKE %(every)s
                                    AND o.date < %(now)s
                                        - make_interval(days => COALESCE(r.repeat_days, 0))))
                               AS foldable,
                           ROW_NUMBER() OVER (PARTITION BY o.partner_id, o.group_id
                                              ORDER BY o.date DESC, o.id DESC) AS recent
                      FROM lead_score_operation o
                      JOIN boundary b ON b.partner_id = o.partner_id
                                     AND b.group_id = o.group_id AND o.date < b.until
                      LEFT JOIN lead_score_rule r ON r.id = o.rule_id
                ), carried AS (
                    SELECT partner_id, group_id, MAX(date) AS date,
                           MAX(balance) FILTER (WHERE recent = 1) AS balance,
                           COUNT(*) FILTER (WHERE foldable) AS folded
                      FROM old
                     GROUP BY partner_id, group_id
                    HAVING COUNT(*) FILTER (WHERE foldable) >= 2
                       -- A set holds at most MAX_POINTS.
                       AND MAX(balance) FILTER (WHERE recent = 1)
                           BETWEEN -%(max)s AND %(max)s
                ), deleted AS (
                    DELETE FROM lead_score_operation o
                     USING old JOIN carried c ON c.partner_id = old.partner_id
                                             AND c.group_id = old.group_id
                     WHERE o.id = old.id AND old.foldable
                )
                INSERT INTO lead_score_operation (
                    partner_id, group_id, company_id, date, operation, value, signed_value,
                    balance, note, source, expired, user_id,
                    create_uid, create_date, write_uid, write_date)
                SELECT c.partner_id, c.group_id, p.company_id, c.date, 'set', c.balance,
                       c.balance,
                       c.balance, format(%(note)s, c.folded), 'carried', FALSE,
                       %(uid)s, %(uid)s, %(now)s, %(uid)s, %(now)s
                  FROM carried c
                  JOIN res_partner p ON p.id = c.partner_id
                RETURNING partner_id, (SELECT folded FROM carried c
                                        WHERE c.partner_id = lead_score_operation.partner_id
                                          AND c.group_id = lead_score_operation.group_id)
                """,
                ids=partner_ids,
                cutoff=cutoff,
                now=now,
                every="every:%",
                decay=f"{DECAY_KEY_PREFIX}%",
                max=MAX_POINTS,
                uid=self.env.uid,
                note=_("Carried forward: the score made by %s older operations."),
            )
        )
        self.invalidate_model()
        # Score history lines kept before a carried-forward set count no more:
        # their balances are replayed (the scores do not change).
        self._replay_ledger([partner_id for partner_id, _count in rows])
        return rows
