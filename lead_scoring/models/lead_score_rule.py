# Copyright 2026 Lead Scoring contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Scoring rules and the engine that applies them.

Each rule records its lines with ``lead.score.operation._record_lines`` (one
``INSERT ... SELECT``) from the ORM's own query for the rule's domain; a unique
index on ``(rule_id, partner_id, rule_key)`` makes a re-run (or a run after a
crash) harmless. Only the contacts that got an operation have their score
refreshed.
"""

import logging
import random
import re
import time
from contextlib import contextmanager
from datetime import timedelta
from functools import partial

from dateutil.relativedelta import relativedelta
from psycopg2 import OperationalError, errorcodes

from odoo import SUPERUSER_ID, _, api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.osv import expression
from odoo.tools import SQL, config, mute_logger
from odoo.tools.safe_eval import datetime as safe_datetime
from odoo.tools.safe_eval import dateutil
from odoo.tools.safe_eval import time as safe_time

from ..condition import ConditionRefused, bounded_eval
from .lead_score_group import default_group, group_score
from .lead_score_operation import MAX_POINTS, OPERATIONS, local_setting
from .res_partner import changed_by_someone

_logger = logging.getLogger(__name__)


class RunPostponed(Exception):
    """A chunk met busy contacts too often: the run goes on at the next call."""


# One rule may not hold the database longer than this (seconds, overridable
# with the system parameter lead_scoring.rule_timeout).
RULE_TIMEOUT = 300
MANAGER_GROUP = "lead_scoring.group_lead_scoring_manager"
# A run works in chunks of source ids, each sized to hold its contacts about
# this long (seconds), starting from FIRST_SPAN ids.
CHUNK_SECONDS = 1.0
FIRST_SPAN = 1_000
MIN_SPAN = 100
MAX_CHUNKS = 100
# Contacts whose scores are refreshed in one transaction. Their rows stay
# locked from the UPDATE of their scores (the batch's last big statement) to
# the commit, and someone saving one of them meanwhile is rolled back and
# retried by Odoo after a pause: the batch is as large as keeps that moment
# short. A batch that replays its contacts' ledgers (the queue_job glue's)
# locks them from its start, and one written through the ORM (an automation
# rule reacts to scores) takes far longer per contact: both are smaller.
REFRESH_CHUNK = 2000
REFRESH_CHUNK_REPLAY = 500
REFRESH_CHUNK_ORM = 200
# Tries of a chunk that meets a busy contact before it is left for later.
CHUNK_TRIES = 3
LOCK_TIMEOUT = "2s"
RETRYABLE = {
    errorcodes.SERIALIZATION_FAILURE,
    errorcodes.DEADLOCK_DETECTED,
    errorcodes.LOCK_NOT_AVAILABLE,
}
# Any value serves, as long as no other job uses it.
ENGINE_LOCK = 7_361_950_201
# Hours between two full sweeps of a rule (system parameter
# lead_scoring.full_sweep_hours); runs in between only look at what changed.
FULL_SWEEP_HOURS = 24
# Repeating rules: contacts due again are found within this delay.
REPEAT_SWEEP = timedelta(hours=1)
# Changes made by transactions still open at the last run are looked at again;
# this margin serves only when the last run's horizon is unknown (see
# _run_horizon).
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
    # The run in progress (see _run_rules): its time, and how far it went.
    pass_date = fields.Datetime(string="Running since", readonly=True, copy=False)
    pass_start = fields.Char(string="Run started at", readonly=True, copy=False)
    # The next run looks at what was written from then on (see _run_horizon).
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
    # contacts that got one, in contact order (see _refresh_run).
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

    @api.constrains("operation", "value", "repeat", "repeat_days", "expiry_days")
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
            since = self.last_horizon or self.last_run_date - INCREMENTAL_MARGIN
            # What is written once the run started (its own chunks' scores
            # included) is for the next run.
            until = (self.pass_date and self.pass_start) or "infinity"

            def changed_since(table):
                condition = SQL(
                    "%s >= %s::timestamp AND %s < %s::timestamp",
                    SQL.identifier(table, "write_date"),
                    since,
                    SQL.identifier(table, "write_date"),
                    until,
                )
                if model._name != "res.partner":
                    return condition
                # The scores written by the engine are no change to look at:
                # those rows keep the engine's write time (see
                # res.partner._note_engine_write), and an index holds the others.
                return SQL("%s AND %s = 1", condition, changed_by_someone(table))

            return changed_since
        return lambda table: SQL(
            "%s > %s", SQL.identifier(table, "id"), self.last_seen_id
        )

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

    # ------------------------------------------------------------------
    # The engine
    # ------------------------------------------------------------------
    def _apply(self, now, id_range=None, query=None, touch=True):
        """Score what this rule matches, among the source records whose id is
        in ``id_range`` (low, high]; returns (contact, needs a replay) for
        each operation recorded. ``query`` is this pass's _build_query, when
        the caller keeps it from one chunk to the next; ``touch``: see
        lead.score.operation._record_lines."""
        self.ensure_one()
        if query is None:
            query = self._build_query(self._incremental_filter(now))
        if id_range:
            # PostgreSQL pulls the range up into the query (an index range).
            query = SQL(
                "SELECT * FROM (%s) src WHERE src.res_id > %s AND src.res_id <= %s",
                query,
                *id_range,
            )
        conditions = []
        rule_since = None
        if self.condition_type == "event":
            per_record = {
                "rule_key": SQL("src.res_id::text"),
                "res_model": self.model_id.model,
                "res_id": SQL("src.res_id"),
            }
        elif self.repeat == "every":
            # One key per period: a crash and re-run within the period is harmless.
            period = int(now.timestamp() // 86400 // self.repeat_days)
            per_record = {"rule_key": f"every:{period}"}
            rule_since = now - timedelta(days=self.repeat_days)
        else:
            per_record = {"rule_key": "once"}
        if self.company_id:
            # A company's rule scores that company's contacts and the shared ones.
            conditions.append(
                SQL("(p.company_id IS NULL OR p.company_id = %s)", self.company_id.id)
            )
        expiry = now + timedelta(days=self.expiry_days) if self.expiry_days else None
        return (
            self.env["lead.score.operation"]
            ._engine()
            ._record_lines(
                query,
                SQL(" AND ").join(conditions) if conditions else None,
                rule_since,
                touch=touch,
                # Chunks of a first pass: see pass_first.
                unrecorded=bool(id_range and self.pass_date and self.pass_first),
                date=now,
                operation=self.operation,
                value=self.value,
                source="rule",
                rule_id=self.id,
                group_id=self.group_id.id,
                expiry_date=expiry,
                user_id=self.env.uid,
                **per_record,
            )
        )

    def _run_rules(self, commit=False, deadline=None, stats=None):
        """Apply these rules in sequence order, chunk by chunk.

        A run scores each rule's source records by id ranges sized to last
        about CHUNK_SECONDS, each chunk's lines recorded in one short
        transaction (committed with ``commit``); then it refreshes the scores
        of the contacts it gave lines, each contact once, a batch per
        transaction (see _refresh_run). Its progress is kept on the rules, so
        that a run stopped by ``deadline``, a time limit or a crash goes on
        where its committed work stops (the unique keys make a chunk done
        twice harmless). A failing rule records its error and the others
        still apply. Returns the contacts that got lines, False when another
        run holds the engine, or None when work remains (past the deadline).
        """
        if not self._engine_lock(commit):
            _logger.info("Lead scoring: another run is in progress, skipping this one")
            return False
        try:
            return self._run_chunks(commit, deadline, {} if stats is None else stats)
        finally:
            if commit:
                self._engine_unlock()

    @api.model
    def _engine_lock(self, commit):
        # A run that commits as it goes holds the lock across its transactions.
        lock = "pg_try_advisory_lock" if commit else "pg_try_advisory_xact_lock"
        self.env.cr.execute(SQL("SELECT %s(%s)", SQL.identifier(lock), ENGINE_LOCK))
        return self.env.cr.fetchone()[0]

    @api.model
    def _engine_unlock(self):
        self.env.cr.execute("SELECT pg_advisory_unlock(%s)", [ENGINE_LOCK])

    def _run_chunks(self, commit, deadline, stats):
        rules = self.filtered("active").sorted(lambda r: (r.sequence, r.id))
        if not rules.filtered("pass_date") and not rules._refresh_pending():
            rules._start_run()
            self._commit(commit)
        changed = set()
        for group in rules._in_step():
            # Each rule's query, built once for its pass.
            queries = {}
            # A pass starts at the first record its rule matches; no line yet.
            starting = group.filtered(lambda r: r.pass_date and not r.pass_max_id)
            if starting:
                starting._run_round(commit, 0, queries)
            while running := group.filtered("pass_date"):
                # One id range for the group's rules, in sequence order.
                round_start = time.monotonic()
                with running._sizing_next_chunk() as span:
                    low = min(running.mapped("pass_cursor"))
                    changed |= running._run_round(commit, low + span, queries)
                self._commit(commit)
                stats["chunks"] = stats.get("chunks", 0) + 1
                if rules._past(deadline, round_start):
                    return None
        if not rules._refresh_run(commit, deadline, stats):
            return None
        rules._end_run()
        self._commit(commit)
        return changed

    def _past(self, deadline, round_start):
        """Whether a round like the one started at ``round_start`` would
        end past the deadline, while work remains."""
        now = time.monotonic()
        return bool(
            deadline
            and 2 * now - round_start > deadline
            and (self.filtered("pass_date") or self._refresh_pending())
        )

    def _in_step(self):
        """These rules (in sequence order) in groups that run one after the
        other: the rules on the same records (contacts, page views, mailing
        traces ...) go through their ids together, in step, so that each
        round writes a contact's score rows once, not once per rule.

        Between two *set* rules, adds and removes give the same scores in
        any order: there, the rules on other records run first, so that the
        rules on contacts stay together; no rule is moved across a set rule.
        """
        groups, contacts, others = [], [], {}

        def close_stretch():
            # Rules on the same model together, in the order they come.
            steps = [self.browse(ids) for ids in others.values()]
            if contacts and not any(rule.operation == "set" for rule in contacts):
                groups.extend(steps)
                groups.append(self.browse([rule.id for rule in contacts]))
            else:
                if contacts:
                    groups.append(self.browse([rule.id for rule in contacts]))
                groups.extend(steps)
            contacts.clear()
            others.clear()

        for rule in self:
            is_set = rule.operation == "set"
            if rule.condition_type != "contact":
                if is_set:
                    close_stretch()
                    groups.append(rule)
                else:
                    others.setdefault(rule.model_id.id, []).append(rule.id)
            else:
                # Nothing moves across a set rule on contacts either.
                if is_set and others:
                    close_stretch()
                contacts.append(rule)
        close_stretch()
        return groups

    def _refresh_pending(self):
        """The date of the run whose scores are still being refreshed, if
        any (see _refresh_run)."""
        return max(filter(None, self.mapped("refresh_date")), default=False)

    def _refresh_run(self, commit, deadline, stats):
        """Once these rules recorded their lines, refresh the scores of the
        contacts that the run gave one, in contact order, a batch per
        transaction; the position is saved with each batch, so that a run
        stopped by ``deadline``, a time limit or a crash goes on from there.
        Each contact is refreshed once per run, however many rules scored
        it. Returns whether the refresh is over."""
        run_date = self._refresh_pending()
        operations = self.env["lead.score.operation"].sudo()
        size = self._refresh_chunk()
        while run_date:
            round_start = time.monotonic()
            cursor = max(self.mapped("refresh_cursor"))
            batch = operations._contacts_dated(run_date, cursor, size)
            if not batch:
                break

            def refresh(batch=batch):
                # Before the scores, which lock the contacts until the commit.
                self.sudo().write({"refresh_cursor": batch[-1]})
                self.flush_recordset(["refresh_cursor"])
                self._refresh_contacts(batch, values_current=True)

            done, _result = self._retry_when_busy(refresh, commit)
            if not done:
                # Saved meanwhile, again and again: their scores are written
                # with their next line.
                _logger.warning(
                    "Lead scoring: contacts %s-%s busy, scores left as they are",
                    batch[0],
                    batch[-1],
                )
                self.sudo().write({"refresh_cursor": batch[-1]})
                self._commit(commit)
            stats["chunks"] = stats.get("chunks", 0) + 1
            if self._past(deadline, round_start):
                return False
        return True

    def _refresh_contacts(self, partner_ids, values_current=False):
        """Store these contacts' scores (their ledgers replayed where a
        balance is missing), holding their rows no longer than the statement
        takes to wait (LOCK_TIMEOUT); ``values_current``: see
        lead.score.operation._refresh_scores."""
        operations = self.env["lead.score.operation"].sudo()
        with self._waiting_briefly():
            operations._refresh_scores(
                partner_ids,
                flush=True,
                replay=operations._unbalanced(partner_ids),
                engine_since=self._engine_since(),
                values_current=values_current,
            )

    def _refresh_in_chunks(self, partner_ids, commit):
        """Store these contacts' scores, a batch at a time: each batch locks
        its contacts for a short transaction, tried again a few times when
        someone is saving one of them (then left as it is)."""
        partner_ids = sorted(partner_ids)
        size = self._refresh_chunk()
        for start in range(0, len(partner_ids), size):
            batch = partner_ids[start : start + size]
            self._retry_when_busy(partial(self._refresh_contacts, batch), commit)

    @api.model
    def _refresh_chunk(self, replay=False):
        """How many contacts a refresh transaction stores (see REFRESH_CHUNK);
        ``replay``: it replays their ledgers."""
        if self.env["res.partner"]._lead_score_watched():
            return REFRESH_CHUNK_ORM
        return REFRESH_CHUNK_REPLAY if replay else REFRESH_CHUNK

    def _engine_since(self):
        """When the run of these rules started (see res.partner's
        _store_lead_scores); the epoch outside a run (decay ...)."""
        return min(filter(None, self.mapped("pass_start")), default="-infinity")

    def _retry_when_busy(self, work, commit):
        """Do ``work`` and commit it; when it meets a row that someone is
        saving, roll back and try again a few times. Returns (done, result)."""
        for attempt in range(CHUNK_TRIES):
            try:
                result = work()
                self._commit(commit)
                return True, result
            except OperationalError as error:
                if not commit or error.pgcode not in RETRYABLE:
                    raise
                self.env.cr.rollback()
                self.env.invalidate_all()
                _logger.info("Lead scoring: busy, tried again (%s)", error)
                time.sleep(random.uniform(0.1, 0.5) * (attempt + 1))
        return False, None

    @api.model
    def _scores_behind_lines(self, condition):
        """Contacts with a line ``o`` meeting ``condition`` whose stored score
        is not their ledger's balance."""
        self.env["res.partner"].flush_model(["lead_score", "lead_score_objection"])
        with self._local_setting("jit", "off"):  # see _refresh_scores
            return self._scores_behind_query(condition)

    @api.model
    def _scores_behind_query(self, condition):
        self.env.cr.execute(
            SQL(
                """
                SELECT p.id
                  FROM res_partner p
                 WHERE p.id IN (SELECT o.partner_id FROM lead_score_operation o
                                 WHERE %s)
                   -- Per score group: the stored score, the ledger's balance.
                   AND EXISTS (
                        SELECT 1 FROM lead_score_group g
                          JOIN LATERAL (
                                SELECT o.balance FROM lead_score_operation o
                                 WHERE o.partner_id = p.id AND o.group_id = g.id
                                 ORDER BY o.date DESC, o.id DESC LIMIT 1) last ON TRUE
                          LEFT JOIN lead_score_value v
                                 ON v.partner_id = p.id AND v.group_id = g.id
                         WHERE v.score IS DISTINCT FROM %s)
                """,
                condition,
                group_score(SQL("last.balance")),
            )
        )
        return {row[0] for row in self.env.cr.fetchall()}

    def _start_run(self):
        """Start a run of these rules (a pass over what each one scores)."""
        # Closed again, in case the last run's end was not committed.
        self._end_run()
        self.env["lead.score.operation"].sudo()._expire_operations()
        start, horizon = self._run_horizon()
        now = fields.Datetime.now()
        self.sudo().write(
            {
                "pass_date": now,
                # Its scores are refreshed once its lines are recorded.
                "refresh_date": now,
                "refresh_cursor": 0,
                "pass_start": start,
                "pass_horizon": horizon,
                "pass_cursor": 0,
                "pass_max_id": 0,
                "pass_count": 0,
                "pass_duration": 0,
                "pass_span": FIRST_SPAN,
            }
        )

    @api.model
    def _run_horizon(self):
        """A run's start, and its horizon: the start of the oldest transaction
        then open in this database, if earlier. What such a transaction writes
        carries that time (write_date is a transaction's start) but may be
        committed after the run looked: the next run looks at what was written
        from the horizon on, no earlier. (Sessions of other database users are
        not visible here; Odoo's all use one.)"""
        self.env.cr.execute(
            """
            WITH now AS (SELECT clock_timestamp() AS start)
            SELECT start AT TIME ZONE 'UTC',
                   LEAST(start, (SELECT min(xact_start)  FROM pg_stat_activity
                                  WHERE datname = current_database()
                                    AND pid != pg_backend_pid())) AT TIME ZONE 'UTC'
              FROM now
            """
        )
        return [str(moment) for moment in self.env.cr.fetchone()]

    def _end_run(self):
        """The run is over."""
        self.sudo().write({"pass_date": False, "refresh_date": False})

    @api.model
    def _commit(self, commit):
        if commit:
            # Live runs commit each chunk on purpose (see _run_rules).
            self.env.cr.commit()  # pylint: disable=invalid-commit

    def _run_round(self, commit, until, queries):
        """One chunk of each of these rules' runs, up to ``until``, in one
        transaction; a round that meets a busy contact is tried again a few
        times, then left for the next call. Returns the contacts scored."""

        def chunks():
            changed = set()
            self._analyze_stale_ledger()
            with self._chunk_settings():
                for rule in self:
                    changed |= rule._run_chunk(until, queries, touch=False)
                # The contacts' group scores written with their lines, once
                # per contact however many of these rules scored it: as
                # _record_lines's touch, a concurrent writer of the same
                # scores is then retried (see lead.score.value._touch), and
                # the run's refresh need not write them again.
                self.env["lead.score.value"]._refresh(sorted(changed))
            return changed

        done, changed = self._retry_when_busy(chunks, commit)
        if done:
            return changed
        self.sudo().write(
            {
                "last_error": _(
                    "Contacts were busy; this rule's run goes on at the next call."
                ),
                "last_error_date": fields.Datetime.now(),
            }
        )
        self._commit(commit)
        raise RunPostponed()

    @api.model
    def _analyze_stale_ledger(self):
        """Bring the ledger's statistics up to date when it grew by a fifth
        since PostgreSQL last looked: a first run adds lines faster than
        autovacuum analyses them, and a plan made for an empty ledger (a
        repeating rule's duplicate check through the index of the rule
        alone) then reads every line of the rule for each new one."""
        cr = self.env.cr
        cr.execute(
            """
            SELECT n_mod_since_analyze > GREATEST(10000, n_live_tup / 5)
              FROM pg_stat_user_tables
             WHERE relid = 'lead_score_operation'::regclass
            """
        )
        row = cr.fetchone()
        if not (row and row[0]):
            return
        try:
            # Not an error when autovacuum has it: Odoo need not log it as one.
            with (
                mute_logger("odoo.sql_db"),
                cr.savepoint(flush=False),
                self._local_setting("lock_timeout", "100ms"),
            ):
                cr.execute("ANALYZE lead_score_operation")
        except OperationalError as error:
            # Autovacuum is analysing it.
            if error.pgcode != errorcodes.LOCK_NOT_AVAILABLE:
                raise

    @contextmanager
    def _chunk_settings(self):
        """The PostgreSQL settings of chunks: the rules' statement timeout, no
        JIT (compiling a chunk's query takes longer than running it), and
        indexes wherever there is one: a chunk reads an id range, and during
        a first run the ledger grows by lines that the statistics do not know
        yet, which would make a repeating rule's duplicate check scan the
        growing ledger for each line."""
        with (
            self._local_setting("statement_timeout", self._statement_timeout()),
            self._local_setting("jit", "off"),
            self._local_setting("enable_seqscan", "off"),
            # A score row that someone is writing: tried again, not waited for.
            self._waiting_briefly(),
        ):
            yield

    def _run_chunk(self, until=None, queries=None, touch=True):
        """Record the lines of the next id range of this rule's source
        records (up to ``until`` when given); returns the contacts that got
        one. ``queries`` keeps the rule's query for its next chunks;
        ``touch``: see lead.score.operation._record_lines."""
        self.ensure_one()
        started = time.monotonic()
        now = self.pass_date
        queries = {} if queries is None else queries
        try:
            with self.env.cr.savepoint():
                if not self.pass_max_id:
                    self._start_pass(now)
                low = self.pass_cursor
                high = until if until is not None else low + self._chunk_span()
                if low < min(high, self.pass_max_id):
                    if self.id not in queries:
                        queries[self.id] = self._build_query(
                            self._incremental_filter(now)
                        )
                    recorded = self._apply(now, (low, high), queries[self.id], touch)
                else:
                    recorded = []
                high = max(low, high)
        except OperationalError as error:
            if error.pgcode in RETRYABLE:
                raise
            self._record_failure(error)
            return set()
        except Exception as error:  # noqa: BLE001 - isolate any failure
            self._record_failure(error)
            return set()
        # Recording lines takes no lock on the contacts (only their key): the
        # scores are refreshed afterwards, see _refresh_in_chunks.
        changed = {partner_id for partner_id, _unknown in recorded}
        self.env["lead.score.operation"].invalidate_model()
        elapsed = time.monotonic() - started
        vals = {
            "pass_cursor": high,
            "pass_count": self.pass_count + len(recorded),
            "pass_duration": self.pass_duration + elapsed,
        }
        self.sudo().write(vals)
        if high >= self.pass_max_id:
            self.sudo().write(self._finished_vals())
        return changed

    def _start_pass(self, now):
        """This rule's part of the run goes from the first record it matches
        to the table's last one."""
        cr = self.env.cr
        table = SQL.identifier(self.env[self.model_name]._table)
        cr.execute(SQL("SELECT COALESCE(max(id), 0) FROM %s", table))
        max_id = cr.fetchone()[0] or -1
        first = self._first_source_id(now)
        cr.execute(
            SQL(
                "SELECT NOT EXISTS (SELECT 1 FROM lead_score_operation"
                " WHERE rule_id = %s AND rule_key IS NOT NULL)",
                self.id,
            )
        )
        self.sudo().write(
            {
                "pass_max_id": max_id,
                "pass_cursor": first - 1 if first else max_id,
                "pass_first": cr.fetchone()[0],
            }
        )

    def _first_source_id(self, now):
        """The smallest id among the records this run would look at."""
        incremental = self._incremental_filter(now)
        query = self._build_query(incremental)
        if incremental is None:
            # Walking the ids finds the first match at once.
            first = SQL(
                "SELECT src.res_id FROM (%s) src ORDER BY src.res_id LIMIT 1", query
            )
        else:
            # The few records written since the last run, through the index
            # on their write date: walking the ids to the first of them would
            # read every contact before it.
            first = SQL("SELECT min(src.res_id) FROM (%s) src", query)
        self.env.cr.execute(first)
        row = self.env.cr.fetchone()
        return row and row[0]

    def _chunk_seconds(self):
        # Shorter when the job's calls are (see _cron_apply_rules).
        return min(
            CHUNK_SECONDS, self.env.context.get("lead_scoring_chunk_seconds", 1e9)
        )

    @contextmanager
    def _sizing_next_chunk(self):
        """Size these rules' next chunk from this one (whose span it gives),
        lines and scores, so that it lasts about CHUNK_SECONDS."""
        started = time.monotonic()
        span = self[0]._chunk_span()
        yield span
        elapsed = time.monotonic() - started
        self.sudo().pass_span = int(
            span * min(8, max(0.25, self._chunk_seconds() / (elapsed or 1e-3)))
        )

    def _chunk_span(self):
        # At most about MAX_CHUNKS chunks per rule: a query whose cost does not
        # shrink with its id range (a plan that reads a whole table) would
        # otherwise make ever smaller chunks.
        floor = max(MIN_SPAN, self.pass_max_id // MAX_CHUNKS)
        return max(floor, self.pass_span or FIRST_SPAN)

    def _finished_vals(self):
        now = self.pass_date
        vals = {
            "pass_date": False,
            "last_run_date": now,
            "last_run_count": self.pass_count,
            "last_run_duration": round(self.pass_duration, 3),
            "last_seen_id": max(self.pass_max_id, 0),
            "last_horizon": self.pass_horizon,
            "last_error": False,
            "last_error_date": False,
        }
        if self._incremental_filter(now) is None:
            vals["last_full_run_date"] = now
        return vals

    def _record_failure(self, error):
        _logger.warning(
            "Lead scoring rule %s (%s) failed: %s", self.id, self.name, error
        )
        self.sudo().write(
            {
                "pass_date": False,
                "last_error": str(error),
                "last_error_date": fields.Datetime.now(),
            }
        )

    def _local_setting(self, name, value):
        return local_setting(self.env.cr, name, value)

    def _waiting_briefly(self):
        """A statement waits for a row that someone is saving no longer than
        LOCK_TIMEOUT, then fails (and its batch is tried again later),
        instead of holding its own rows meanwhile."""
        return self._local_setting("lock_timeout", LOCK_TIMEOUT)

    def _statement_timeout(self):
        """A rule's statement timeout (ms), never longer than one that the
        database or role has, nor than half the worker's time limit: a
        statement gone wrong then fails its rule, where Odoo would kill the
        worker and the run with it."""
        self.env.cr.execute(
            "SELECT setting::int FROM pg_settings WHERE name = 'statement_timeout'"
        )
        previous = self.env.cr.fetchone()[0]
        timeout = 1000 * int(
            self.env["ir.config_parameter"]
            .sudo()
            .get_param("lead_scoring.rule_timeout", RULE_TIMEOUT)
        )
        return min(timeout, previous or timeout, 500 * self._time_limit())

    @api.model
    def _cron_apply_rules(self):
        """The scheduled job (addons add their housekeeping here)."""
        self._apply_rules_in_chunks()
        # What a change of configuration left to recompute, in its own budget.
        commit = bool(self.env.context.get("cron_id"))
        deadline = time.monotonic() + self._call_budget()
        if self.env["lead.score.value"]._recompute_pending(commit, deadline) and commit:
            self.env.ref("lead_scoring.ir_cron_apply_rules").sudo()._trigger()

    @api.model
    def _apply_rules_in_chunks(self):
        """Runs the rules for a bounded time, committing each chunk, and asks
        Odoo (cron progress API) to call again while work remains."""
        budget = self._call_budget()
        deadline = time.monotonic() + budget
        rules = (
            self.sudo().with_context(lead_scoring_chunk_seconds=budget / 2).search([])
        )
        # Run by Odoo's scheduler, each chunk is committed; run by hand ("Run
        # manually", tests), the caller's transaction stays whole.
        commit = bool(self.env.context.get("cron_id"))
        stats = {}
        try:
            rules._run_rules(commit=commit, deadline=deadline, stats=stats)
            remaining = len(rules.filtered("pass_date")) + bool(
                rules._refresh_pending()
            )
        except RunPostponed:
            # Busy contacts: the run goes on at the job's next time.
            remaining = 0
        # Odoo calls the job again at once while some rule's run goes on (10
        # times in a row; the trigger wakes a worker for the next ones).
        self.env["ir.cron"]._notify_progress(
            done=stats.get("chunks", 0), remaining=remaining
        )
        if remaining and commit:
            self.env.ref("lead_scoring.ir_cron_apply_rules").sudo()._trigger()

    @api.model
    def _call_budget(self):
        """Seconds one call of the job may run: Odoo calls it up to 10 times
        in a row under one time limit (limit_time_real_cron, else
        limit_time_real), with the other jobs due, so each call takes a
        twentieth of it."""
        budget = (
            self.env["ir.config_parameter"]
            .sudo()
            .get_param("lead_scoring.call_seconds")
        )
        if budget:
            return max(0.01, float(budget))
        return max(0.1, min(30, self._time_limit() / 20))

    @api.model
    def _time_limit(self):
        """Seconds a worker may run a job: limit_time_real_cron, else
        limit_time_real (queue_job's jobs run in HTTP workers, under it)."""
        limit = config.get("limit_time_real_cron") or 0
        if limit <= 0:
            limit = config.get("limit_time_real") or 120
        return limit

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
