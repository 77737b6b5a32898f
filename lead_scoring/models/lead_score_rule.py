# Copyright 2026 Lead Scoring contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Scoring rules: their fields, their checks, and how a rule's condition
becomes a query (:meth:`_build_query`, with the rights of its author).

The run that applies them is the service ``lead.score.run``
(``lead_scoring/engine/rule_run.py``), its refresh ``lead.score.refresh``
(``score_refresh.py``); what a run asks of one rule (its lines for an id
range, what changed since its last run) is in ``lead_score_rule_query.py``,
the preview on the form in ``lead_score_rule_preview.py``.
"""

import logging
from datetime import timedelta

from dateutil.relativedelta import relativedelta

from odoo import SUPERUSER_ID, _, api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.osv import expression
from odoo.tools import SQL
from odoo.tools.safe_eval import datetime as safe_datetime
from odoo.tools.safe_eval import dateutil
from odoo.tools.safe_eval import time as safe_time

from ..condition import ConditionRefused, bounded_eval
from .lead_score_group import default_group
from .lead_score_operation import MAX_POINTS, OPERATIONS

_logger = logging.getLogger(__name__)


MANAGER_GROUP = "lead_scoring.group_lead_scoring_manager"
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
    "limit_count",
    "limit_days",
    "company_id",
}
# The engine's record of runs: written by the engine only (a value written
# over the API could make runs skip contacts or records).
RUN_STATE_FIELDS = {
    "last_run_date",
    "last_run_count",
    "last_run_duration",
    "last_error",
    "last_error_date",
    "last_full_run_date",
    "last_seen_id",
    "last_horizon",
    "pass_date",
    "pass_start",
    "pass_horizon",
    "pass_cursor",
    "pass_max_id",
    "pass_span",
    "pass_count",
    "pass_duration",
    "pass_first",
    "refresh_date",
    "refresh_cursor",
}


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
    group_id = fields.Many2one(
        "lead.score.group",
        string="Score group",
        required=True,
        ondelete="restrict",
        default=default_group,
        help="The group whose score the rule's points count in.",
    )
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
        " ('relation', '=', 'res.partner'), ('store', '=', True),"
        " ('company_dependent', '=', False)]",
        help="The field of those records that holds the contact to score.",
    )
    domain = fields.Char(
        string="Condition",
        default="[]",
        required=True,
        help="A condition holds values only: uid, company_id, company_ids, today, "
        "context_today(), relativedelta, timedelta, datetime and time can be used.",
    )
    match_all = fields.Boolean(
        string="Score every contact",
        help="A rule without a condition scores every contact (for a rule on "
        "records, every record of the model): tick to confirm that it should.",
    )
    preview_since = fields.Date(
        string="Had it existed since",
        copy=False,
        help="For a rule on records: preview only the records made since this "
        "date, as if the rule had been scoring them from then on.",
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
    limit_count = fields.Integer(
        string="At most (records per contact)",
        help="For a rule on records: at most this many of a contact's records "
        "score within the period; 0 for no limit. Someone repeating an action "
        "(posting a form, opening a page) then cannot pile up points.",
    )
    limit_days = fields.Integer(
        string="Within (days)",
        default=30,
        help="The period of that limit, counted back from each run; 0: ever.",
    )
    scoring_summary = fields.Char(
        string="Scores",
        compute="_compute_scoring_summary",
        help="What the rule scores: each contact once, again every so many "
        "days, or each matching record (at most so many per contact).",
    )
    expiry_days = fields.Integer(
        string="Points expire after (days)",
        help="Empty or 0: the points never expire.",
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
    # The run in progress (see lead.score.run._run_rules): its time, and how far it went.
    pass_date = fields.Datetime(string="Running since", readonly=True, copy=False)
    pass_start = fields.Char(string="Run started at", readonly=True, copy=False)
    # The next run looks at what was written from then on (see
    # lead.score.run._run_horizon).
    pass_horizon = fields.Char(
        string="Run in progress: the next looks from", readonly=True, copy=False
    )
    last_horizon = fields.Char(
        string="Next run looks at changes from", readonly=True, copy=False
    )
    pass_cursor = fields.Integer(string="Run position", readonly=True, copy=False)
    pass_max_id = fields.Integer(string="Run end", readonly=True, copy=False)
    pass_span = fields.Integer(string="Run chunk size", readonly=True, copy=False)
    pass_count = fields.Integer(string="Run operations", readonly=True, copy=False)
    pass_duration = fields.Float(string="Run time (s)", readonly=True, copy=False)
    # No line of this rule when its run started: its chunks, each a range of
    # records of its own, have no recorded line to look for.
    pass_first = fields.Boolean(
        string="First run of the rule", readonly=True, copy=False
    )
    # Once every rule recorded its lines, the run refreshes the scores of the
    # contacts that got one, in contact order (see lead.score.refresh._refresh_run).
    refresh_date = fields.Datetime(
        string="Refreshing the scores of the run of", readonly=True, copy=False
    )
    refresh_cursor = fields.Integer(
        string="Scores refreshed up to contact", readonly=True, copy=False
    )
    run_progress = fields.Float(
        string="Progress", compute="_compute_run_progress", help="Of the run going on."
    )

    _sql_constraints = [
        (
            "value_range",
            f"CHECK (value BETWEEN {-MAX_POINTS} AND {MAX_POINTS})",
            "A rule adds or removes from 0 to 1,000,000 points, and sets a score "
            "between -1,000,000 and 1,000,000.",
        ),
    ]

    @api.depends("condition_type", "repeat", "repeat_days", "limit_count", "limit_days")
    @api.depends_context("lang")
    def _compute_scoring_summary(self):
        for rule in self:
            if rule.condition_type != "event":
                rule.scoring_summary = (
                    _("Every %s days", rule.repeat_days)
                    if rule.repeat == "every"
                    else _("Once per contact")
                )
            elif not rule.limit_count:
                rule.scoring_summary = _("Each record")
            elif rule.limit_days:
                rule.scoring_summary = _(
                    "Each record, at most %(count)s per contact in %(days)s days",
                    count=rule.limit_count,
                    days=rule.limit_days,
                )
            else:
                rule.scoring_summary = _(
                    "Each record, at most %s per contact", rule.limit_count
                )

    @api.depends("condition_type", "model_id")
    def _compute_model_name(self):
        for rule in self:
            rule.model_name = (
                rule.model_id.model if rule.condition_type == "event" else "res.partner"
            )

    @api.depends("pass_date", "pass_cursor", "pass_max_id")
    def _compute_run_progress(self):
        for rule in self:
            total = max(rule.pass_max_id, 1)
            rule.run_progress = (
                min(100.0, 100.0 * rule.pass_cursor / total) if rule.pass_date else 0.0
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
        self.partner_field_id = self.env["lead.score.contact"]._default_contact_field(
            self.model_id
        )
        self.domain = "[]"

    # ------------------------------------------------------------------
    # Validation
    # ------------------------------------------------------------------
    @api.model
    def _check_value(self, name, operation, value):
        """Refuse points out of range, with the range of the operation."""
        if operation == "set":
            if not -MAX_POINTS <= value <= MAX_POINTS:
                raise ValidationError(
                    _(
                        "Rule %s: set a score between -1,000,000 and 1,000,000.",
                        name,
                    )
                )
        elif not 0 <= value <= MAX_POINTS:
            raise ValidationError(
                _("Rule %s: add or remove from 0 to 1,000,000 points.", name)
            )

    @api.constrains(
        "operation",
        "value",
        "repeat",
        "repeat_days",
        "expiry_days",
        "limit_count",
        "limit_days",
    )
    def _check_numbers(self):
        for rule in self:
            self._check_value(rule.name, rule.operation, rule.value)
            if rule.repeat == "every" and not 1 <= rule.repeat_days <= 3650:
                raise ValidationError(
                    _("Rule %s: repeat every 1 to 3650 days.", rule.name)
                )
            if not 0 <= rule.expiry_days <= 3650:
                raise ValidationError(
                    _("Rule %s: points expire after 0 to 3650 days.", rule.name)
                )
            if not 0 <= rule.limit_count <= MAX_POINTS or not (
                0 <= rule.limit_days <= 3650
            ):
                raise ValidationError(
                    _(
                        "Rule %s: at most 0 (no limit) to 1,000,000 records per "
                        "contact, within 0 (ever) to 3650 days.",
                        rule.name,
                    )
                )

    @api.constrains(
        "condition_type",
        "model_id",
        "partner_field_id",
        "domain",
        "match_all",
        "active",
    )
    def _check_condition(self):
        # Models and fields are read as superuser (their metadata is admin
        # only); the condition's query runs with the author's rights.
        for rule in self.sudo():
            if rule.condition_type == "event":
                if not rule.model_id:
                    raise ValidationError(
                        _("Rule %s: choose the model whose records score.", rule.name)
                    )
                if not self.env["lead.score.contact"]._is_contact_field(
                    rule.partner_field_id, rule.model_id
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
            if (
                rule.active
                and not rule.match_all
                and rule._get_domain() == expression.TRUE_DOMAIN
            ):
                raise ValidationError(
                    _(
                        "Rule %s has no condition: it would score every contact. Add "
                        'a condition, or tick "Score every contact" to confirm.',
                        rule.name,
                    )
                )

    # ------------------------------------------------------------------
    # Queries
    # ------------------------------------------------------------------
    def _eval_context(self, author=None):
        """Values only: a condition is data, and no record on which a method
        could be called (user.write ...) is within its reach. ``author``: the
        user whose condition it is (by default, the rule's author)."""
        author = (author or self._author()).sudo()
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

    def _get_domain(self, author=None):
        """The condition evaluated within bounds (see condition.py), at save,
        preview and run alike; ``author``: see _eval_context."""
        self.ensure_one()
        values = self._eval_context(author)
        try:
            domain = bounded_eval(self.env, self.domain or "[]", values)
        except Exception as error:  # noqa: BLE001 - explained to the user
            refused = isinstance(error, ConditionRefused)
            raise (ConditionRefused if refused else ValueError)(
                _(
                    "%(error)s. A condition holds values only: fields, operators, "
                    "values and uid, company_id, company_ids, today, context_today(), "
                    "relativedelta, timedelta, datetime, time; no record and no "
                    "method of a record.",
                    error=(error.args[0] if refused else str(error)).split(
                        " while evaluating"
                    )[0],
                )
            ) from None
        if not isinstance(domain, list | tuple):
            raise ValueError(_("a domain is a list of conditions, not %r", domain))
        return expression.normalize_domain(list(domain))

    def _author(self):
        """The user whose rights the rule runs with (see user_id)."""
        self.ensure_one()
        author = self.user_id.sudo()
        if not author:
            # Its user was deleted. Never whoever wrote the rule last: the
            # scheduled runs write it, as superuser, bound by no access rule.
            raise AccessError(
                _(
                    "The user whose rights this rule runs with was deleted: it "
                    "runs again once a manager edits its condition."
                )
            )
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

    def _build_query(self, incremental=None, user=None):
        """The ORM's query of the records this rule scores, as SQL selecting
        (source record id, contact id); ``incremental`` restricts it to what
        changed (see _incremental_filter)."""
        self.ensure_one()
        domain = self._get_domain(author=user)
        # The ORM's query as the author would make it: their access rights,
        # record rules (companies included) and field groups apply.
        author_env = self.env(user=user or self._author(), su=False)
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

    def action_run_now(self):
        """Ask the scheduler to apply every active rule now, in the
        background: a run can take minutes, which no browser request should
        wait for. The screen then follows the run (run_watch.js)."""
        self._check_run_manager()
        asked_at = fields.Datetime.now()
        state = self.get_run_state()
        self.env.ref("lead_scoring.ir_cron_apply_rules").sudo()._trigger()
        return {
            "type": "ir.actions.client",
            "tag": "lead_scoring_watch_run",
            "params": {
                "message": _(
                    "All active rules are being applied in the background: this "
                    "screen follows their progress and refreshes when they are done."
                ),
                "type": "info",
                "asked_at": fields.Datetime.to_string(asked_at),
                "was_running": state["running"],
            },
        }

    @api.model
    def get_run_state(self):
        """What a screen following a run shows: whether one is going on, and
        when the last one started (managers only)."""
        self._check_run_manager()
        rules = self.search([])
        last_runs = [date for date in rules.mapped("last_run_date") if date]
        return {
            "running": any(rule.pass_date or rule.refresh_date for rule in rules),
            "last_run": fields.Datetime.to_string(max(last_runs, default=False)),
        }

    def _check_run_manager(self):
        if not self.env.is_admin() and not self.env.user.has_group(MANAGER_GROUP):
            raise UserError(_("Only Lead Scoring managers can run rules."))

    def action_view_operations(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "lead_scoring.lead_score_operation_action"
        )
        action["domain"] = [("rule_id", "=", self.id)]
        action["context"] = {}
        return action

    def _check_run_state_vals(self, vals):
        forbidden = sorted(RUN_STATE_FIELDS & set(vals))
        if forbidden and not self.env.su:
            raise AccessError(
                _(
                    "These values are set by the scoring engine only: %s.",
                    ", ".join(forbidden),
                )
            )

    @api.model_create_multi
    def create(self, vals_list):
        defaults = self.default_get(["operation", "value"])
        for vals in vals_list:
            self._check_run_state_vals(vals)
            # Before the insert, whose check would only give the range of
            # every operation at once.
            value = vals.get("value", defaults.get("value", 0))
            if isinstance(value, int | float) and not isinstance(value, bool):
                self._check_value(
                    vals.get("name"),
                    vals.get("operation") or defaults.get("operation"),
                    value,
                )
        # A rule runs with the rights of whoever defines it, never of someone
        # named in the call.
        if not self.env.su:
            vals_list = [dict(vals, user_id=self.env.uid) for vals in vals_list]
        return super().create(vals_list)

    def write(self, vals):
        self._check_run_state_vals(vals)
        vals = dict(vals)
        if not self.env.su:
            vals.pop("user_id", None)
        if DEFINITION_FIELDS & set(vals):
            # A run in progress would go on with the old definition.
            vals.update(last_full_run_date=False, pass_date=False)
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
