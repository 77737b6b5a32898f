# Copyright 2026 Lead Scoring contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The run of the scoring rules (see docs/engine.md for the words).

The scheduled job (:meth:`_cron_apply_rules`) goes on with the run in
progress, or starts one; a run gathers the rules *in step* (:meth:`_in_step`),
goes through their source records round by round, each round one committed
transaction recording one chunk of lines per rule (:meth:`_run_round`,
:meth:`_run_chunk`), then refreshes the scores of the contacts that got lines
(``score_refresh.py``). The run's state is kept on the rules, so that a call
stopped by its budget, a time limit or a crash goes on where its committed
work stops; the ledger's unique keys make a chunk done twice harmless.
"""

import logging
import re
import time
from contextlib import contextmanager
from datetime import timedelta

from psycopg2 import OperationalError

from odoo import _, api, fields, models
from odoo.tools import SQL

from ..models.res_partner import changed_by_someone
from .control import RETRYABLE

_logger = logging.getLogger(__name__)


class RunPostponed(Exception):
    """A round met busy contacts too often: the run goes on at the next call."""


# A chunk is sized to hold its contacts about this long (seconds), starting
# from FIRST_SPAN ids, never fewer than MIN_SPAN, and a rule's run takes at
# most about MAX_CHUNKS chunks.
CHUNK_SECONDS = 1.0
FIRST_SPAN = 1_000
MIN_SPAN = 100
MAX_CHUNKS = 100


# Hours between two full sweeps of a rule (system parameter
# lead_scoring.full_sweep_hours); runs in between only look at what changed.
FULL_SWEEP_HOURS = 24
# Repeating rules: contacts due again are found within this delay.
REPEAT_SWEEP = timedelta(hours=1)
# Changes made by transactions still open at the last run are looked at again;
# this margin serves only when the last run's horizon is unknown (see
# _run_horizon).
INCREMENTAL_MARGIN = timedelta(hours=1)

# Domains using these depend on time or on the user: always swept in full.
TIME_WORDS = re.compile(
    r"\b(context_today|today|datetime|relativedelta|timedelta|time|user|uid)\b"
)


class LeadScoreRule(models.Model):
    _inherit = "lead.score.rule"

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
        if self.condition_type == "event" and self.limit_count:
            query, limit = self._limited_per_contact(query, now)
            conditions.append(limit)
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

    def _limited_per_contact(self, query, now):
        """An event rule's limit per contact: its records not scored yet,
        ranked per contact, and the condition that lets a record score only
        while the contact's lines of the rule within the period, with those
        ranked before it, stay within the limit."""
        since = now - timedelta(days=self.limit_days) if self.limit_days else None
        ranked = SQL(
            """SELECT q.*, row_number() OVER (
                          PARTITION BY q.partner_id ORDER BY q.res_id) AS limit_rank
                 FROM (%s) q
                WHERE NOT EXISTS (SELECT 1 FROM lead_score_operation o
                                   WHERE o.rule_id = %s AND o.partner_id = q.partner_id
                                     AND o.rule_key = q.res_id::text)""",
            query,
            self.id,
        )
        limit = SQL(
            """src.limit_rank + (SELECT count(*) FROM lead_score_operation o
                                  WHERE o.rule_id = %s AND o.partner_id = src.partner_id
                                    AND (%s::timestamp IS NULL OR o.date > %s)) <= %s""",
            self.id,
            since,
            since,
            self.limit_count,
        )
        return ranked, limit

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
        with self.env["lead.score.engine"]._locked(commit) as held:
            if not held:
                _logger.info("Lead scoring: another run is in progress, skipping it")
                return False
            return self._run_chunks(commit, deadline, {} if stats is None else stats)

    def _run_chunks(self, commit, deadline, stats):
        rules = self.filtered("active").sorted(lambda r: (r.sequence, r.id))
        if not rules.filtered("pass_date") and not rules._refresh_pending():
            rules._start_run()
            self.env["lead.score.engine"]._commit(commit)
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
                self.env["lead.score.engine"]._commit(commit)
                stats["chunks"] = stats.get("chunks", 0) + 1
                if rules._past(deadline, round_start):
                    return None
        if not rules._refresh_run(commit, deadline, stats):
            return None
        run_date = rules._refresh_pending()
        rules._end_run()
        self.env["lead.score.engine"]._commit(commit)
        # Once the run is over: the velocity of the contacts it scored.
        self.env["lead.score.velocity"]._after_run(run_date, commit, deadline, stats)
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

    def _run_round(self, commit, until, queries):
        """One chunk of each of these rules' runs, up to ``until``, in one
        transaction; a round that meets a busy contact is tried again a few
        times, then left for the next call. Returns the contacts scored."""

        def chunks():
            changed = set()
            self.env["lead.score.engine"]._analyze_stale_ledger()
            with self.env["lead.score.engine"]._chunk_settings():
                for rule in self:
                    changed |= rule._run_chunk(until, queries, touch=False)
                # The contacts' group scores written with their lines, once
                # per contact however many of these rules scored it: as
                # _record_lines's touch, a concurrent writer of the same
                # scores is then retried (see lead.score.value._touch), and
                # the run's refresh need not write them again.
                self.env["lead.score.value"]._refresh(sorted(changed))
            return changed

        done, changed = self.env["lead.score.engine"]._retry_when_busy(chunks, commit)
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
        self.env["lead.score.engine"]._commit(commit)
        raise RunPostponed()

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

    @api.model
    def _cron_apply_rules(self):
        """The scheduled job of the rules."""
        self._apply_rules_in_chunks()

    @api.model
    def _apply_rules_in_chunks(self):
        """Runs the rules for a bounded time, committing each chunk, and asks
        Odoo (cron progress API) to call again while work remains."""
        budget = self.env["lead.score.engine"]._call_budget()
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
