# Copyright 2026 Lead Scoring contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""What every job of the scoring engine shares on a live database.

The rule runs, the daily decay, the ledger's compaction, a configuration's
recompute, the mailing engagement job and the queue_job glue all write many
contacts while people edit them, under Odoo's cron time limits. They share
one service, ``lead.score.engine``:

- one engine at a time: :meth:`_locked` (a PostgreSQL advisory lock, held
  across the committed transactions of a job, or for one transaction);
- short transactions: :meth:`_retry_when_busy` commits a piece of work, and
  rolls it back and tries it again a few times when it meets a contact
  someone is saving;
- time: :meth:`_call_budget` (what one call of a job may take),
  :meth:`_statement_timeout`, :meth:`_waiting_briefly` (how long a statement
  waits for a row someone holds) and :meth:`_chunk_settings`.

Work done by hand (tests, "Run manually") passes ``commit=False``: it stays
in the caller's transaction, and nothing here commits it.
"""

import logging
import random
import time
from contextlib import contextmanager

from psycopg2 import OperationalError, errorcodes

from odoo import api, models
from odoo.tools import SQL, config, mute_logger

from ..tools import local_setting

_logger = logging.getLogger(__name__)

# Any value serves, as long as no other job uses it.
ENGINE_LOCK = 7_361_950_201
# One rule may not hold the database longer than this (seconds, overridable
# with the system parameter lead_scoring.rule_timeout).
RULE_TIMEOUT = 300
# How long a statement waits for a row someone is saving before it fails and
# its transaction is tried again.
LOCK_TIMEOUT = "2s"
# Tries of a piece of work that meets a busy contact before it is left.
CHUNK_TRIES = 3
RETRYABLE = {
    errorcodes.SERIALIZATION_FAILURE,
    errorcodes.DEADLOCK_DETECTED,
    errorcodes.LOCK_NOT_AVAILABLE,
}


class LeadScoreEngine(models.AbstractModel):
    _name = "lead.score.engine"
    _description = "Lead scoring engine: locks, transactions and time limits"

    # ------------------------------------------------------------------
    # One engine at a time
    # ------------------------------------------------------------------
    @api.model
    def _try_lock(self, commit):
        """Take the engine's lock if no other job holds it: for the session
        when the job commits as it goes (held across its transactions, see
        :meth:`_unlock`), else for the transaction."""
        lock = "pg_try_advisory_lock" if commit else "pg_try_advisory_xact_lock"
        self.env.cr.execute(SQL("SELECT %s(%s)", SQL.identifier(lock), ENGINE_LOCK))
        return self.env.cr.fetchone()[0]

    @api.model
    def _unlock(self):
        self.env.cr.execute("SELECT pg_advisory_unlock(%s)", [ENGINE_LOCK])

    @contextmanager
    def _locked(self, commit):
        """Yields whether this job holds the engine's lock; a session lock
        is released on leaving."""
        held = self._try_lock(commit)
        try:
            yield held
        finally:
            if held and commit:
                self._unlock()

    @api.model
    def _try_lock_rule(self, rule_id):
        """A rule's own lock, for this transaction: one chain of jobs per
        rule (the queue_job glue)."""
        self.env.cr.execute(
            "SELECT pg_try_advisory_xact_lock(%s, %s)",
            [ENGINE_LOCK % 2**31, rule_id],
        )
        return self.env.cr.fetchone()[0]

    # ------------------------------------------------------------------
    # Short transactions
    # ------------------------------------------------------------------
    @api.model
    def _commit(self, commit):
        if commit:
            # Jobs on a live database commit each piece of work on purpose.
            self.env.cr.commit()  # pylint: disable=invalid-commit

    @api.model
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
    def _saved_position(self, key):
        """Where a pass (decay, compaction, a configuration's recompute)
        stands: a system parameter, read from the table (a retried batch's
        rollback must be seen)."""
        self.env.cr.execute(
            "SELECT value FROM ir_config_parameter WHERE key = %s", [key]
        )
        row = self.env.cr.fetchone()
        return row[0] if row and row[0] else None

    @api.model
    def _save_position(self, key, value):
        """Note where a pass stands (falsy: done), in SQL and in the pass's
        transaction: Odoo's set_param would clear the caches of every Odoo
        worker at each batch."""
        if not value:
            self.env.cr.execute("DELETE FROM ir_config_parameter WHERE key = %s", [key])
            return
        self.env.cr.execute(
            """INSERT INTO ir_config_parameter (key, value, create_uid, create_date,
                                                write_uid, write_date)
               VALUES (%(key)s, %(value)s, %(uid)s, now() AT TIME ZONE 'UTC',
                       %(uid)s, now() AT TIME ZONE 'UTC')
               ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value,
                   write_uid = EXCLUDED.write_uid, write_date = EXCLUDED.write_date""",
            {"key": key, "value": str(value), "uid": self.env.uid},
        )

    # ------------------------------------------------------------------
    # Time
    # ------------------------------------------------------------------
    @api.model
    def _call_budget(self):
        """Seconds one call of a job may run: Odoo calls a job that reports
        progress up to 10 times in a row under one time limit
        (limit_time_real_cron, else limit_time_real), with the other jobs
        due, so each call takes a twentieth of it."""
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

    @api.model
    def _local_setting(self, name, value):
        return local_setting(self.env.cr, name, value)

    @api.model
    def _waiting_briefly(self):
        """A statement waits for a row that someone is saving no longer than
        LOCK_TIMEOUT, then fails (and its work is tried again later),
        instead of holding its own rows meanwhile."""
        return self._local_setting("lock_timeout", LOCK_TIMEOUT)

    @api.model
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

    @contextmanager
    def _chunk_settings(self):
        """The PostgreSQL settings of a chunk: the rules' statement timeout,
        no JIT (compiling a chunk's query takes longer than running it), and
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
