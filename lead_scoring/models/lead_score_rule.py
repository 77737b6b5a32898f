# Copyright 2026 Lead Scoring contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Scoring rules and the engine that applies them.

Each rule is applied as one ``INSERT INTO lead_score_operation ... SELECT``
built from the ORM's own query for the rule's domain; a unique index on
``(rule_id, partner_id, rule_key)`` makes a re-run (or a run after a crash)
harmless. Only the contacts that got an operation have their score replayed.
"""

import json
import logging
import re
import time
from datetime import timedelta

from dateutil.relativedelta import relativedelta

from odoo import SUPERUSER_ID, _, api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.osv import expression
from odoo.tools import SQL
from odoo.tools.safe_eval import datetime as safe_datetime
from odoo.tools.safe_eval import dateutil, safe_eval
from odoo.tools.safe_eval import time as safe_time

from .lead_score_operation import MAX_BALANCE, MAX_POINTS, OPERATIONS

_logger = logging.getLogger(__name__)

# One rule may not hold the database longer than this (seconds, overridable
# with the system parameter lead_scoring.rule_timeout).
RULE_TIMEOUT = 300
MANAGER_GROUP = "lead_scoring.group_lead_scoring_manager"
# Any value serves, as long as no other job uses it.
ENGINE_LOCK = 7_361_950_201
# Hours between two full sweeps of a rule (system parameter
# lead_scoring.full_sweep_hours); runs in between only look at what changed.
FULL_SWEEP_HOURS = 24
# Repeating rules: contacts due again are found within this delay.
REPEAT_SWEEP = timedelta(hours=1)
# Changes made by transactions still open at the last run are looked at again.
INCREMENTAL_MARGIN = timedelta(hours=1)
# Changing these makes the next run of the rule a full sweep.
DEFINITION_FIELDS = {
    "active",
    "operation",
    "value",
    "condition_type",
    "model_id",
    "partner_field_id",
    "domain",
    "repeat",
    "repeat_days",
    "company_id",
}
# Domains using these depend on time or on the user: always swept in full.
TIME_WORDS = re.compile(
    r"\b(context_today|today|datetime|relativedelta|timedelta|time|user|uid)\b"
)


class LeadScoreRule(models.Model):
    _name = "lead.score.rule"
    _description = "Lead Scoring Rule"
    _order = "sequence, id"

    name = fields.Char(string="Title", required=True, translate=True)
    description = fields.Text(translate=True)
    active = fields.Boolean(default=True)
    sequence = fields.Integer(default=10)
    company_id = fields.Many2one(
        "res.company",
        help="Leave empty to score the contacts of every company.",
    )
    operation = fields.Selection(OPERATIONS, required=True, default="add")
    value = fields.Integer(string="Points", required=True, default=10)
    condition_type = fields.Selection(
        [("contact", "Contact condition"), ("event", "Each matching record")],
        string="Condition on",
        required=True,
        default="contact",
        help="Contact condition: contacts matching the domain score once (or again "
        "every N days).\nEach matching record: every record of the chosen model "
        "that matches scores once for the contact it points to.",
    )
    model_id = fields.Many2one(
        "ir.model",
        string="Records of",
        ondelete="cascade",
        domain=[("transient", "=", False)],
        help="The model whose records score, for example Website Visitor Page "
        "Views, Mailing Traces or Sales Orders.",
    )
    model_name = fields.Char(compute="_compute_model_name", string="Domain model")
    partner_field_id = fields.Many2one(
        "ir.model.fields",
        string="Contact field",
        ondelete="cascade",
        domain="[('model_id', '=', model_id), ('ttype', '=', 'many2one'),"
        " ('relation', '=', 'res.partner'), ('store', '=', True)]",
        help="The field of those records that holds the contact to score.",
    )
    domain = fields.Char(
        string="Condition",
        default="[]",
        required=True,
        help="A condition holds values only: uid, company_id, company_ids, today, "
        "context_today(), relativedelta, timedelta, datetime and time can be used.",
    )
    user_id = fields.Many2one(
        "res.users",
        string="Runs with the rights of",
        readonly=True,
        copy=False,
        ondelete="set null",
        default=lambda self: self.env.user,
        help="Whoever last set the condition: the rule scores only the records "
        "this user may read, so that it tells nobody more than they may know.",
    )
    repeat = fields.Selection(
        [("once", "Once per contact"), ("every", "Again every N days")],
        required=True,
        default="once",
    )
    repeat_days = fields.Integer(string="Every (days)", default=30)
    expiry_days = fields.Integer(
        string="Points expire after (days)",
        help="Leave 0 for points that never expire.",
    )
    operation_ids = fields.One2many(
        "lead.score.operation", "rule_id", string="Score operations"
    )
    operation_count = fields.Integer(compute="_compute_operation_count")
    last_run_date = fields.Datetime(readonly=True, copy=False)
    last_run_count = fields.Integer(
        string="Operations at last run", readonly=True, copy=False
    )
    last_run_duration = fields.Float(string="Last run (s)", readonly=True, copy=False)
    last_error = fields.Text(readonly=True, copy=False)
    last_error_date = fields.Datetime(readonly=True, copy=False)
    # Between full sweeps, a run only looks at what changed since the last one
    # (see _incremental_filter).
    last_full_run_date = fields.Datetime(readonly=True, copy=False)
    last_seen_id = fields.Integer(readonly=True, copy=False)
    recent_runs = fields.Text(readonly=True, copy=False)

    _sql_constraints = [
        (
            "value_range",
            f"CHECK (value BETWEEN {-MAX_POINTS} AND {MAX_POINTS})",
            "A rule's points must stay between -1,000,000 and 1,000,000.",
        ),
    ]

    @api.depends("condition_type", "model_id")
    def _compute_model_name(self):
        for rule in self:
            rule.model_name = (
                rule.model_id.model if rule.condition_type == "event" else "res.partner"
            )

    def _compute_operation_count(self):
        counts = dict(
            self.env["lead.score.operation"]._read_group(
                [("rule_id", "in", self.ids)], ["rule_id"], ["__count"]
            )
        )
        for rule in self:
            rule.operation_count = counts.get(rule, 0)

    @api.onchange("model_id")
    def _onchange_model_id(self):
        fields_to_partner = self.model_id.field_id.filtered(
            lambda f: f.ttype == "many2one" and f.relation == "res.partner" and f.store
        )
        preferred = fields_to_partner.filtered(lambda f: f.name == "partner_id")
        self.partner_field_id = (preferred or fields_to_partner)[:1]
        self.domain = "[]"

    # ------------------------------------------------------------------
    # Validation
    # ------------------------------------------------------------------
    @api.constrains("operation", "value", "repeat", "repeat_days", "expiry_days")
    def _check_numbers(self):
        for rule in self:
            if rule.operation != "set" and rule.value < 0:
                raise ValidationError(
                    _("Rule %s: points to add or remove cannot be negative.", rule.name)
                )
            if rule.repeat == "every" and not 1 <= rule.repeat_days <= 3650:
                raise ValidationError(
                    _("Rule %s: repeat every 1 to 3650 days.", rule.name)
                )
            if not 0 <= rule.expiry_days <= 3650:
                raise ValidationError(
                    _("Rule %s: points expire after 0 to 3650 days.", rule.name)
                )

    @api.constrains("condition_type", "model_id", "partner_field_id", "domain")
    def _check_condition(self):
        for rule in self:
            if rule.condition_type == "event":
                if not rule.model_id:
                    raise ValidationError(
                        _("Rule %s: choose the model whose records score.", rule.name)
                    )
                field = rule.partner_field_id
                if (
                    not field
                    or field.model_id != rule.model_id
                    or field.relation != "res.partner"
                    or not field.store
                ):
                    raise ValidationError(
                        _(
                            "Rule %(rule)s: %(model)s has no stored field linking its "
                            "records to a contact; choose a model with one.",
                            rule=rule.name,
                            model=rule.model_id.name,
                        )
                    )
            try:
                rule._build_query()
            except Exception as error:  # noqa: BLE001 - any failure names the problem
                raise ValidationError(
                    _(
                        "Rule %(rule)s: the condition is not valid: %(error)s",
                        rule=rule.name,
                        error=error,
                    )
                ) from error

    # ------------------------------------------------------------------
    # Queries
    # ------------------------------------------------------------------
    def _eval_context(self):
        """Values only: a condition is data, and no record on which a method
        could be called (user.write ...) is within its reach."""
        author = self._author()
        today = fields.Date.context_today(self.with_user(author))
        return {
            "datetime": safe_datetime,
            "dateutil": dateutil,
            "time": safe_time,
            "relativedelta": relativedelta,
            "timedelta": timedelta,
            "context_today": lambda: today,
            "today": today,
            "uid": author.id,
            "company_id": (self.company_id or author.company_id).id,
            "company_ids": author.company_ids.ids,
        }

    def _get_domain(self):
        self.ensure_one()
        try:
            domain = safe_eval(self.domain or "[]", self._eval_context())
        except Exception as error:  # noqa: BLE001 - explained to the user
            raise ValueError(
                _(
                    "%(error)s. A condition holds values only: fields, operators, "
                    "values and uid, company_id, company_ids, today, context_today(), "
                    "relativedelta, timedelta, datetime, time; no record and no "
                    "method of a record.",
                    error=str(error).split(" while evaluating")[0],
                )
            ) from None
        if not isinstance(domain, list | tuple):
            raise ValueError(_("a domain is a list of conditions, not %r", domain))
        return expression.normalize_domain(list(domain))

    def _author(self):
        """The user whose rights the rule runs with (see user_id)."""
        self.ensure_one()
        author = (self.user_id or self.write_uid).sudo()
        if author.id == SUPERUSER_ID:
            return author
        if not author.active or not author.has_group(MANAGER_GROUP):
            raise AccessError(
                _(
                    "%s, whose rights this rule runs with, is no longer a Lead "
                    "Scoring manager: a manager must save the rule again.",
                    author.name or "?",
                )
            )
        return author

    def _incremental_filter(self, now):
        """A function giving the SQL condition that restricts a run to what
        changed since the last one, or None when this run sweeps everything.

        A contact (or record) can only start matching a rule whose domain reads
        its own stored fields when it is written, which sets its write_date; for
        logs that are never updated (page views ...), new ids are enough. Other
        rules (dates relative to today, related records) and every rule once a
        day are swept in full; repeating rules every hour, as contacts become
        due again.
        """
        sweep_hours = int(
            self.env["ir.config_parameter"]
            .sudo()
            .get_param("lead_scoring.full_sweep_hours", FULL_SWEEP_HOURS)
        )
        if (
            not self.last_full_run_date
            or not self.last_run_date
            or self.last_full_run_date <= now - timedelta(hours=sweep_hours)
            # Contacts become due again as time passes: swept hourly.
            or (
                self.repeat == "every"
                and self.condition_type == "contact"
                and self.last_full_run_date <= now - REPEAT_SWEEP
            )
            or TIME_WORDS.search(self.domain or "")
        ):
            return None
        model = self.env[self.model_name]
        for leaf in self._get_domain():
            if not isinstance(leaf, list | tuple):
                continue
            field = model._fields.get(str(leaf[0]))
            if "." in str(leaf[0]) or not field or not field.store or field.related:
                return None
        if "write_date" in model._fields and model._log_access:
            since = self.last_run_date - INCREMENTAL_MARGIN
            # The scores written by the engine's own runs are not changes to
            # look at: they carry the write_date of those runs' transactions.
            runs = sorted(self._engine_runs(since))
            return lambda table: self._between_runs_sql(
                SQL.identifier(table, "write_date"), since, runs
            )
        return lambda table: SQL(
            "%s > %s", SQL.identifier(table, "id"), self.last_seen_id
        )

    @api.model
    def _between_runs_sql(self, column, since, runs):
        """column >= since, leaving out the exact times of the engine's runs,
        as ranges that an index on the column serves (a run can have written
        a million contacts at one of those times)."""
        lows = [since, *runs]
        parts = [
            SQL(
                "(%s %s %s AND %s < %s)",
                column,
                SQL(">=" if index == 0 else ">"),
                lows[index],
                column,
                high,
            )
            for index, high in enumerate(runs)
        ]
        parts.append(
            SQL("%s > %s", column, runs[-1]) if runs else SQL("%s >= %s", column, since)
        )
        return SQL("(%s)", SQL(" OR ").join(parts))

    def _engine_runs(self, since):
        """The transaction times of the engine's recent runs."""
        return [
            run for run in json.loads(self.recent_runs or "[]") if run >= str(since)
        ]

    def _build_query(self, incremental=None):
        """The ORM's query of the records this rule scores, as SQL selecting
        (source record id, contact id); ``incremental`` restricts it to what
        changed (see _incremental_filter)."""
        self.ensure_one()
        domain = self._get_domain()
        # The ORM's query as the author would make it: their access rights,
        # record rules (companies included) and field groups apply.
        author_env = self.env(user=self._author(), su=False)
        if self.condition_type == "contact":
            model, partner_field = author_env["res.partner"], "id"
        else:
            model = author_env[self.model_id.model]
            partner_field = self.partner_field_id.name
            if partner_field not in model._fields:
                raise ValueError(
                    _(
                        "%(model)s has no field %(field)s",
                        model=model._name,
                        field=partner_field,
                    )
                )
        query = model._search(domain)
        if incremental:
            query.add_where(incremental(query.table))
        return query.select(
            SQL("%s AS res_id", SQL.identifier(query.table, "id")),
            SQL(
                "%s AS partner_id",
                model._field_to_sql(query.table, partner_field, query),
            ),
        )

    # ------------------------------------------------------------------
    # The engine
    # ------------------------------------------------------------------
    def _apply(self, now):
        """Score what this rule matches; returns (contact, needs a replay)
        for each operation recorded."""
        self.ensure_one()
        incremental = self._incremental_filter(now)
        if self.condition_type == "event":
            key = SQL("src.res_id::text")
            res_model = self.model_id.model
            fresh = SQL("TRUE")
        elif self.repeat == "every":
            # One key per period: a crash and re-run within the period is harmless.
            period = int(now.timestamp() // 86400 // self.repeat_days)
            key = SQL("%s", f"every:{period}")
            res_model = None
            fresh = SQL(
                """NOT EXISTS (SELECT 1 FROM lead_score_operation o
                    WHERE o.rule_id = %s AND o.partner_id = src.partner_id
                      AND o.date > %s)""",
                self.id,
                now - timedelta(days=self.repeat_days),
            )
        else:
            key = SQL("%s", "once")
            res_model = None
            fresh = SQL("TRUE")
        expiry = now + timedelta(days=self.expiry_days) if self.expiry_days else None
        # A company's rule scores that company's contacts and the shared ones.
        in_company = (
            SQL("(p.company_id IS NULL OR p.company_id = %s)", self.company_id.id)
            if self.company_id
            else SQL("TRUE")
        )
        # Each line's balance is written with it: the previous balance plus
        # this rule's points (several lines of one contact follow each other
        # in id order). A contact with a line dated after now, or one still
        # to be replayed, gets no balance here and is replayed afterwards.
        self.env.cr.execute(
            SQL(
                """
                INSERT INTO lead_score_operation (
                    partner_id, company_id, date, operation, value, signed_value,
                    balance, source, rule_id, rule_name, rule_key, res_model, res_id,
                    expiry_date, expired, user_id,
                    create_uid, create_date, write_uid, write_date)
                SELECT src.partner_id, p.company_id, %(now)s, %(operation)s, %(value)s,
                       %(signed)s,
                       CASE WHEN last.date > %(now)s
                                 OR (last.id IS NOT NULL AND last.balance IS NULL)
                            THEN NULL
                            WHEN %(operation)s = 'set' THEN %(value)s
                            ELSE GREATEST(-%(max)s, LEAST(%(max)s,
                                COALESCE(last.balance, 0) + %(signed)s * ROW_NUMBER()
                                    OVER (PARTITION BY src.partner_id ORDER BY src.res_id)))
                       END,
                       'rule', %(rule)s,
                       (SELECT name FROM lead_score_rule WHERE id = %(rule)s), %(key)s,
                       %(res_model)s, %(res_id)s, %(expiry)s, FALSE, %(uid)s,
                       %(uid)s, %(now)s, %(uid)s, %(now)s
                  FROM (%(source)s) src
                  JOIN res_partner p ON p.id = src.partner_id AND p.active
                  LEFT JOIN LATERAL (
                        SELECT o.id, o.date, o.balance FROM lead_score_operation o
                         WHERE o.partner_id = src.partner_id
                         ORDER BY o.date DESC, o.id DESC LIMIT 1) last ON TRUE
                 WHERE %(fresh)s AND %(in_company)s
                   AND NOT EXISTS (SELECT 1 FROM lead_score_operation o
                                    WHERE o.rule_id = %(rule)s
                                      AND o.partner_id = src.partner_id
                                      AND o.rule_key = %(key)s)
                 ORDER BY src.partner_id, src.res_id
                ON CONFLICT (rule_id, partner_id, rule_key)
                   WHERE rule_id IS NOT NULL AND rule_key IS NOT NULL DO NOTHING
                RETURNING partner_id, balance IS NULL
                """,
                in_company=in_company,
                now=now,
                operation=self.operation,
                value=self.value,
                signed=-self.value if self.operation == "remove" else self.value,
                max=MAX_BALANCE,
                rule=self.id,
                key=key,
                res_model=res_model,
                res_id=SQL("src.res_id") if res_model else None,
                expiry=expiry,
                uid=self.env.uid,
                source=self._build_query(incremental),
                fresh=fresh,
            )
        )
        recorded = self.env.cr.fetchall()
        model = self.env[self.model_name]
        self.env.cr.execute(SQL("SELECT max(id) FROM %s", SQL.identifier(model._table)))
        done = {"last_seen_id": self.env.cr.fetchone()[0] or 0}
        if incremental is None:
            done["last_full_run_date"] = now
        self.write(done)
        return recorded

    def _run_rules(self):
        """Apply these rules in sequence order, each isolated in a savepoint:
        a failing rule records its error and the others still apply."""
        cr = self.env.cr
        cr.execute("SELECT pg_try_advisory_xact_lock(%s)", [ENGINE_LOCK])
        if not cr.fetchone()[0]:
            _logger.info("Lead scoring: another run is in progress, skipping this one")
            return False
        operations = self.env["lead.score.operation"].sudo()
        operations._expire_operations()
        operations.flush_model()
        self.flush_model()  # the operations copy the rules' titles in SQL
        timeout = int(
            self.env["ir.config_parameter"]
            .sudo()
            .get_param("lead_scoring.rule_timeout", RULE_TIMEOUT)
        )
        cr.execute(
            "SELECT setting::int FROM pg_settings WHERE name = 'statement_timeout'"
        )
        previous_timeout = cr.fetchone()[0]
        changed, to_replay = set(), set()
        now = fields.Datetime.now()
        for rule in self.sorted(lambda r: (r.sequence, r.id)):
            started = time.monotonic()
            try:
                with cr.savepoint():
                    # Never longer than a timeout the database or role has.
                    cr.execute(
                        SQL(
                            "SELECT set_config('statement_timeout', %s, TRUE)",
                            str(
                                min(timeout * 1000, previous_timeout or timeout * 1000)
                            ),
                        )
                    )
                    recorded = rule._apply(now)
                    cr.execute(
                        SQL(
                            "SELECT set_config('statement_timeout', %s, TRUE)",
                            str(previous_timeout),
                        )
                    )
            except Exception as error:  # noqa: BLE001 - isolate any failure
                _logger.warning(
                    "Lead scoring rule %s (%s) failed: %s", rule.id, rule.name, error
                )
                rule.write({"last_error": str(error), "last_error_date": now})
                continue
            changed.update(partner_id for partner_id, _balance in recorded)
            to_replay.update(partner_id for partner_id, unknown in recorded if unknown)
            rule.write(
                {
                    "last_run_date": now,
                    "last_run_count": len(recorded),
                    "last_run_duration": round(time.monotonic() - started, 3),
                    "last_error": False,
                    "last_error_date": False,
                }
            )
        operations.invalidate_model()
        operations._refresh_scores(changed, flush=True, replay=to_replay)
        # Kept on each rule (not in a system parameter, whose change would
        # empty every worker's caches each time).
        for rule in self:
            runs = rule._engine_runs(now - INCREMENTAL_MARGIN - REPEAT_SWEEP)
            rule.recent_runs = json.dumps([*runs, str(cr.now())])
        return changed

    @api.model
    def _cron_apply_rules(self):
        self.sudo().search([])._run_rules()

    def action_run_now(self):
        rules = self or self.search([])
        if not self.env.is_admin() and not self.env.user.has_group(MANAGER_GROUP):
            raise UserError(_("Only Lead Scoring managers can run rules."))
        changed = rules.sudo()._run_rules()
        if changed is False:
            message = _("Rules are already being applied; try again in a moment.")
            kind = "warning"
        else:
            failed = rules.filtered("last_error")
            message = _("%s contacts changed score.", len(changed))
            if failed:
                message += " " + _("Failed: %s.", ", ".join(failed.mapped("name")))
            kind = "warning" if failed else "success"
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "message": message,
                "type": kind,
                "next": {"type": "ir.actions.client", "tag": "soft_reload"},
            },
        }

    def action_view_operations(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "lead_scoring.lead_score_operation_action"
        )
        action["domain"] = [("rule_id", "=", self.id)]
        action["context"] = {}
        return action

    @api.model_create_multi
    def create(self, vals_list):
        # A rule runs with the rights of whoever defines it, never of someone
        # named in the call.
        if not self.env.su:
            vals_list = [dict(vals, user_id=self.env.uid) for vals in vals_list]
        return super().create(vals_list)

    def write(self, vals):
        vals = dict(vals)
        if not self.env.su:
            vals.pop("user_id", None)
        if DEFINITION_FIELDS & set(vals):
            vals["last_full_run_date"] = False
            vals.setdefault("user_id", self.env.uid)
        return super().write(vals)

    @api.ondelete(at_uninstall=False)
    def _unlink_except_history(self):
        if (
            self.env["lead.score.operation"]
            .sudo()
            .search_count([("rule_id", "in", self.ids)], limit=1)
        ):
            raise UserError(
                _(
                    "A rule that has scored contacts cannot be deleted: archive it "
                    "instead, so that its history stays."
                )
            )
