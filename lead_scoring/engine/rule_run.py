# Copyright 2026 Lead Scoring contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The run of the scoring rules (see docs/engine.md for the words): the
service ``lead.score.run``."""

import logging
import time
from contextlib import contextmanager

from psycopg2 import OperationalError

from odoo import _, api, fields, models
from odoo.tools import SQL

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


class LeadScoreRun(models.AbstractModel):
    """The run planner: applies the rules it is given, from the first line
    recorded to the last score written.

    - The scheduled job's entry is :meth:`_cron_apply_rules`; one call
      (:meth:`_apply_rules_in_chunks`) runs for its budget, commits each
      piece of work and asks Odoo to call again while work remains.
    - :meth:`_run_rules` applies ``rules``: it gathers them *in step*
      (:meth:`_in_step`), goes through their source records round by round,
      each round one committed transaction recording one chunk of lines per
      rule (:meth:`_run_round`, :meth:`_run_chunk`), chunks sized to last
      about CHUNK_SECONDS (:meth:`_sizing_next_chunk`), then has
      ``lead.score.refresh`` refresh the scores of the contacts that got
      lines, and ends the run (:meth:`_end_run`).
    - The run's state (start, horizon, position, chunk size, counts, the
      last error) is kept in the rules' stored fields, so that a call stopped
      by its budget, a time limit or a crash goes on where its committed work
      stops; the ledger's unique keys make a chunk done twice harmless. A
      failing rule records its error (:meth:`_record_failure`) and the others
      still apply.
    - It works in the environment of the rules it is given (their user,
      superuser mode and context): :meth:`_run_rules` takes it on.
    - What one rule's query is (its lines for an id range, what changed since
      its last run) is the rule's own: ``lead.score.rule._apply`` and
      ``_incremental_filter`` (models/lead_score_rule_query.py).
    """

    _name = "lead.score.run"
    _description = "Lead scoring: the run of the rules"

    # ------------------------------------------------------------------
    # The scheduled job
    # ------------------------------------------------------------------
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
        run = self.sudo().with_context(lead_scoring_chunk_seconds=budget / 2)
        rules = run.env["lead.score.rule"].search([])
        # Run by Odoo's scheduler, each chunk is committed; run by hand ("Run
        # manually", tests), the caller's transaction stays whole.
        commit = bool(self.env.context.get("cron_id"))
        stats = {}
        try:
            run._run_rules(rules, commit=commit, deadline=deadline, stats=stats)
            remaining = len(rules.filtered("pass_date")) + bool(
                run.env["lead.score.refresh"]._refresh_pending(rules)
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

    # ------------------------------------------------------------------
    # The run
    # ------------------------------------------------------------------
    @api.model
    def _run_rules(self, rules, commit=False, deadline=None, stats=None):
        """Apply ``rules`` in sequence order, chunk by chunk.

        A run scores each rule's source records by id ranges sized to last
        about CHUNK_SECONDS, each chunk's lines recorded in one short
        transaction (committed with ``commit``); then it refreshes the scores
        of the contacts it gave lines, each contact once, a batch per
        transaction (see lead.score.refresh._refresh_run). Its progress is
        kept on the rules, so that a run stopped by ``deadline``, a time
        limit or a crash goes on where its committed work stops (the unique
        keys make a chunk done twice harmless). A failing rule records its
        error and the others still apply. Returns the contacts that got
        lines, False when another run holds the engine, or None when work
        remains (past the deadline).
        """
        run = self.with_env(rules.env)
        with run.env["lead.score.engine"]._locked(commit) as held:
            if not held:
                _logger.info("Lead scoring: another run is in progress, skipping it")
                return False
            return run._run_chunks(
                rules, commit, deadline, {} if stats is None else stats
            )

    @api.model
    def _run_chunks(self, rules, commit, deadline, stats):
        engine = self.env["lead.score.engine"]
        refresh = self.env["lead.score.refresh"]
        rules = rules.filtered("active").sorted(lambda r: (r.sequence, r.id))
        if not rules.filtered("pass_date") and not refresh._refresh_pending(rules):
            self._start_run(rules)
            engine._commit(commit)
        changed = set()
        for group in self._in_step(rules):
            # Each rule's query, built once for its pass.
            queries = {}
            # A pass starts at the first record its rule matches; no line yet.
            starting = group.filtered(lambda r: r.pass_date and not r.pass_max_id)
            if starting:
                self._run_round(starting, commit, 0, queries)
            while running := group.filtered("pass_date"):
                # One id range for the group's rules, in sequence order.
                round_start = time.monotonic()
                with self._sizing_next_chunk(running) as span:
                    low = min(running.mapped("pass_cursor"))
                    changed |= self._run_round(running, commit, low + span, queries)
                engine._commit(commit)
                stats["chunks"] = stats.get("chunks", 0) + 1
                if self._past(rules, deadline, round_start):
                    return None
        if not refresh._refresh_run(rules, commit, deadline, stats):
            return None
        self._end_run(rules)
        engine._commit(commit)
        return changed

    @api.model
    def _past(self, rules, deadline, round_start):
        """Whether a round like the one started at ``round_start`` would
        end past the deadline, while work of ``rules`` remains."""
        now = time.monotonic()
        return bool(
            deadline
            and 2 * now - round_start > deadline
            and (
                rules.filtered("pass_date")
                or self.env["lead.score.refresh"]._refresh_pending(rules)
            )
        )

    @api.model
    def _in_step(self, rules):
        """``rules`` (in sequence order) in groups that run one after the
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
            steps = [rules.browse(ids) for ids in others.values()]
            if contacts and not any(rule.operation == "set" for rule in contacts):
                groups.extend(steps)
                groups.append(rules.browse([rule.id for rule in contacts]))
            else:
                if contacts:
                    groups.append(rules.browse([rule.id for rule in contacts]))
                groups.extend(steps)
            contacts.clear()
            others.clear()

        for rule in rules:
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

    # ------------------------------------------------------------------
    # The run's start and end
    # ------------------------------------------------------------------
    @api.model
    def _start_run(self, rules):
        """Start a run of ``rules`` (a pass over what each one scores)."""
        # Closed again, in case the last run's end was not committed.
        self._end_run(rules)
        self.env["lead.score.operation"].sudo()._expire_operations()
        start, horizon = self._run_horizon()
        now = fields.Datetime.now()
        rules.sudo().write(
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

    @api.model
    def _end_run(self, rules):
        """The run of ``rules`` is over."""
        rules.sudo().write({"pass_date": False, "refresh_date": False})

    # ------------------------------------------------------------------
    # Rounds and chunks
    # ------------------------------------------------------------------
    @api.model
    def _run_round(self, rules, commit, until, queries):
        """One chunk of each of ``rules``' runs, up to ``until``, in one
        transaction; a round that meets a busy contact is tried again a few
        times, then left for the next call. Returns the contacts scored."""
        engine = self.env["lead.score.engine"]

        def chunks():
            changed = set()
            engine._analyze_stale_ledger()
            with engine._chunk_settings():
                for rule in rules:
                    changed |= self._run_chunk(rule, until, queries, touch=False)
                # The contacts' group scores written with their lines, once
                # per contact however many of these rules scored it: as
                # lead.score.ledger._record_lines's touch, a concurrent
                # writer of the same scores is then retried (see
                # lead.score.value._touch), and the run's refresh need not
                # write them again.
                self.env["lead.score.value"]._refresh(sorted(changed))
            return changed

        done, changed = engine._retry_when_busy(chunks, commit)
        if done:
            return changed
        rules.sudo().write(
            {
                "last_error": _(
                    "Contacts were busy; this rule's run goes on at the next call."
                ),
                "last_error_date": fields.Datetime.now(),
            }
        )
        engine._commit(commit)
        raise RunPostponed()

    @api.model
    def _run_chunk(self, rule, until=None, queries=None, touch=True):
        """Record the lines of the next id range of ``rule``'s source
        records (up to ``until`` when given); returns the contacts that got
        one. ``queries`` keeps the rule's query for its next chunks;
        ``touch``: see lead.score.ledger._record_lines."""
        rule.ensure_one()
        started = time.monotonic()
        now = rule.pass_date
        queries = {} if queries is None else queries
        try:
            with rule.env.cr.savepoint():
                if not rule.pass_max_id:
                    self._start_pass(rule, now)
                low = rule.pass_cursor
                high = until if until is not None else low + self._chunk_span(rule)
                if low < min(high, rule.pass_max_id):
                    if rule.id not in queries:
                        queries[rule.id] = rule._build_query(
                            rule._incremental_filter(now)
                        )
                    recorded = rule._apply(now, (low, high), queries[rule.id], touch)
                else:
                    recorded = []
                high = max(low, high)
        except OperationalError as error:
            if error.pgcode in RETRYABLE:
                raise
            self._record_failure(rule, error)
            return set()
        except Exception as error:  # noqa: BLE001 - isolate any failure
            self._record_failure(rule, error)
            return set()
        # Recording lines takes no lock on the contacts (only their key): the
        # scores are refreshed afterwards, see lead.score.refresh.
        changed = {partner_id for partner_id, _unknown in recorded}
        self.env["lead.score.operation"].invalidate_model()
        elapsed = time.monotonic() - started
        vals = {
            "pass_cursor": high,
            "pass_count": rule.pass_count + len(recorded),
            "pass_duration": rule.pass_duration + elapsed,
        }
        rule.sudo().write(vals)
        if high >= rule.pass_max_id:
            rule.sudo().write(self._finished_vals(rule))
        return changed

    @api.model
    def _start_pass(self, rule, now):
        """``rule``'s part of the run goes from the first record it matches
        to the table's last one."""
        cr = self.env.cr
        table = SQL.identifier(self.env[rule.model_name]._table)
        cr.execute(SQL("SELECT COALESCE(max(id), 0) FROM %s", table))
        max_id = cr.fetchone()[0] or -1
        first = self._first_source_id(rule, now)
        cr.execute(
            SQL(
                "SELECT NOT EXISTS (SELECT 1 FROM lead_score_operation"
                " WHERE rule_id = %s AND rule_key IS NOT NULL)",
                rule.id,
            )
        )
        rule.sudo().write(
            {
                "pass_max_id": max_id,
                "pass_cursor": first - 1 if first else max_id,
                "pass_first": cr.fetchone()[0],
            }
        )

    @api.model
    def _first_source_id(self, rule, now):
        """The smallest id among the records this run of ``rule`` would
        look at."""
        incremental = rule._incremental_filter(now)
        query = rule._build_query(incremental)
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

    # ------------------------------------------------------------------
    # Chunk sizing
    # ------------------------------------------------------------------
    @api.model
    def _chunk_seconds(self):
        # Shorter when the job's calls are (see _apply_rules_in_chunks).
        return min(
            CHUNK_SECONDS, self.env.context.get("lead_scoring_chunk_seconds", 1e9)
        )

    @contextmanager
    def _sizing_next_chunk(self, rules):
        """Size ``rules``' next chunk from this one (whose span it gives),
        lines and scores, so that it lasts about CHUNK_SECONDS."""
        started = time.monotonic()
        span = self._chunk_span(rules[0])
        yield span
        elapsed = time.monotonic() - started
        rules.sudo().pass_span = int(
            span * min(8, max(0.25, self._chunk_seconds() / (elapsed or 1e-3)))
        )

    @api.model
    def _chunk_span(self, rule):
        # At most about MAX_CHUNKS chunks per rule: a query whose cost does not
        # shrink with its id range (a plan that reads a whole table) would
        # otherwise make ever smaller chunks.
        floor = max(MIN_SPAN, rule.pass_max_id // MAX_CHUNKS)
        return max(floor, rule.pass_span or FIRST_SPAN)

    # ------------------------------------------------------------------
    # A rule's end of run
    # ------------------------------------------------------------------
    @api.model
    def _finished_vals(self, rule):
        now = rule.pass_date
        vals = {
            "pass_date": False,
            "last_run_date": now,
            "last_run_count": rule.pass_count,
            "last_run_duration": round(rule.pass_duration, 3),
            "last_seen_id": max(rule.pass_max_id, 0),
            "last_horizon": rule.pass_horizon,
            "last_error": False,
            "last_error_date": False,
        }
        if rule._incremental_filter(now) is None:
            vals["last_full_run_date"] = now
        return vals

    @api.model
    def _record_failure(self, rule, error):
        _logger.warning(
            "Lead scoring rule %s (%s) failed: %s", rule.id, rule.name, error
        )
        rule.sudo().write(
            {
                "pass_date": False,
                "last_error": str(error),
                "last_error_date": fields.Datetime.now(),
            }
        )
