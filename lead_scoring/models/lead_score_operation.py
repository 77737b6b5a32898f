# Copyright 2026 Lead Scoring contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The score ledger: every change of a contact's score is one operation.

A contact's score is its ledger folded in date order: *set* makes the balance
that value, *add* and *remove* move it, expired operations count for nothing.
Lines written from SQL (the rule engine, the addons' jobs) go through
``lead.score.ledger._record_lines``, which writes each line's balance as it
inserts it. Every path that changes the ledger (create, unlink, expiry, the
rule engine) ends in ``lead.score.ledger._refresh_scores``, which replays the ledger of the contacts
concerned in SQL (the rule engine, only those with a line whose balance is
missing: see lead.score.value._touch) and lets the ORM recompute their stored
score, so that automation rules, tracking and related fields see the change.

A contact who objects to scoring (``res.partner.lead_score_objection``) gets
no line: ``lead.score.ledger._record_lines`` leaves them out, :meth:`create` refuses a
person's or an API's line and leaves out the engine's. Their ledger is kept
(it counts again should they withdraw the objection) but their score is 0;
a manager may erase it (:meth:`_erase_ledgers`).

The writer of lines from SQL is the service ``lead.score.ledger``
(``lead_scoring/engine/ledger.py``); decay and retention are services of
their own there (``lead.score.decay``, ``lead.score.retention``).
"""

import logging
from datetime import timedelta

from odoo import _, api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.osv import expression
from odoo.tools import SQL

from .lead_score_group import default_group
from .res_partner import MANUAL_SCORE_KEY

_logger = logging.getLogger(__name__)

MAX_POINTS = 1_000_000
# Keeps a folded balance inside PostgreSQL's int4, whatever the ledger holds.
MAX_BALANCE = 2_000_000_000
# From this many contacts in one create, their scores are stored as the
# engine stores them (see create).
BULK_CONTACTS = 100
# The most lines a person's or an external system's create records at once:
# the adjustment wizard's largest selection (about 45 s on 2 cores, within a
# worker's time limit). The engine's own lines are not counted.
MAX_CREATE_LINES = 50_000
# One decay line per contact and day (a reserved prefix, see below).
DECAY_KEY_PREFIX = "lead-scoring:decay:"

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
# The columns of a line that lead.score.ledger._record_lines takes from its
# caller, with their SQL types (the contact, its company and the balance are
# its own).
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
        # By date, then contact: a run's contacts in order
        # (lead.score.ledger._contacts_dated).
        cr.execute("DROP INDEX IF EXISTS lead_score_operation__date_index")
        cr.execute(
            "CREATE INDEX IF NOT EXISTS lead_score_operation_date_partner_idx"
            " ON lead_score_operation (date, partner_id)"
        )
        # The few lines whose balance awaits a replay (see
        # lead.score.ledger._unbalanced).
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
        self.env["lead.score.ledger"]._refresh_scores(
            partners.ids, flush=len(partners) >= BULK_CONTACTS
        )
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
        self.env["lead.score.ledger"]._refresh_scores(partners.ids)
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
        self.env["lead.score.ledger"]._refresh_scores(partners.ids)
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
        self.env["lead.score.ledger"]._refresh_scores(partner_ids, flush=True)
        return partner_ids
