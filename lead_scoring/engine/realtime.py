# Copyright 2026 Lead Scoring contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Scoring within seconds: a transaction that creates or changes a record an
active rule watches asks, once, for a run of the scheduled job as it commits
(an ``ir.cron.trigger`` row written with the transaction, and Odoo's NOTIFY
after its commit, which wakes an idle cron worker at once).

The run is the job's ordinary run: incremental, it looks only at what
changed since the last one, so a burst of events committed while a run goes
on is scored together by the next one, whatever the number of trigger rows
(one pick-up consumes them all). Nothing here scores anything: when the fast
path fails, or its trigger is lost, the 5-minute job finds the same changes.

The service ``lead.score.realtime`` is the fast path; ``base``'s create and
write call it for every saved record, the addons for what the ORM does not
see (page views) and for their own jobs (email engagement). The rule model
only clears its cache when a rule changes, and the extension of
``lead.score.run`` makes a pick-up that finds the engine busy, or that ends
a run begun before an event, ask for one more run.

The request pays for a few dictionary look-ups per saved record and, once
per transaction that saved a watched record, one INSERT at its commit.
"""

import logging
import threading
import time
from datetime import timedelta

from odoo import api, fields, models, sql_db, tools
from odoo.tools import SQL

from odoo.addons.base.models.ir_cron import ODOO_NOTIFY_FUNCTION

from ..models.lead_score_rule import DEFINITION_FIELDS

_logger = logging.getLogger(__name__)

# The system parameter that turns the fast path off ("0"): the job then
# scores every change within its 5 minutes.
REALTIME_PARAM = "lead_scoring.realtime"
# The jobs this transaction asked to run (cr.precommit.data).
ASKED_KEY = "lead_scoring.realtime_asked"
RULES_JOB = "lead_scoring.ir_cron_apply_rules"
# In the context of the engine's own writes: they are no event.
ENGINE_CONTEXT = "lead_scoring_chunk_seconds"
# When the engine is busy with other work, a pick-up waits for it this long
# (seconds), then asks for a run again after BUSY_RETRY.
ENGINE_WAIT = 15
BUSY_RETRY = timedelta(seconds=30)


def _first_names(domain):
    """The fields a domain reads on its own model (the first name of each
    path)."""
    names = set()
    for leaf in domain:
        if isinstance(leaf, list | tuple) and leaf and isinstance(leaf[0], str):
            names.add(leaf[0].split(".", 1)[0])
    return names


def _with_dependencies(model, names):
    """These fields, and for stored computed ones the fields of the same
    record they are computed from (a won deal changes stage_id, not the
    won_status a rule reads)."""
    result, todo = set(), list(names)
    while todo:
        name = todo.pop()
        if name in result:
            continue
        result.add(name)
        field = model._fields.get(name)
        if field is not None and field.compute and field.store:
            for path in model.pool.field_depends.get(field, ()):
                todo.append(path.split(".", 1)[0])
    return result


# Waking the cron workers (Odoo's NOTIFY on the postgres database) takes a
# connection and a transaction of its own, a few milliseconds: a thread of
# the worker does it after the request's commit, once for the requests
# committed meanwhile, so that the request does not wait for it.
_wake_lock = threading.Lock()
_wake_pending = set()
_wake_event = threading.Event()
_waker = None


def _wake_cron_workers(dbname):
    global _waker
    with _wake_lock:
        _wake_pending.add(dbname)
        if _waker is None or not _waker.is_alive():
            # Started in the process that needs it (a prefork worker's own).
            _waker = threading.Thread(
                target=_wake_loop, name="lead_scoring.cron_waker", daemon=True
            )
            _waker.start()
    _wake_event.set()


def _wake_loop():
    while True:
        _wake_event.wait()
        _wake_event.clear()
        with _wake_lock:
            dbnames = sorted(_wake_pending)
            _wake_pending.clear()
        for dbname in dbnames:
            try:
                with sql_db.db_connect("postgres").cursor() as cr:
                    cr.execute(
                        SQL(
                            "SELECT %s('cron_trigger', %s)",
                            SQL.identifier(ODOO_NOTIFY_FUNCTION),
                            dbname,
                        )
                    )
            except Exception:  # noqa: BLE001 - the workers poll every minute
                _logger.warning("Lead scoring: cron workers not woken", exc_info=True)


class LeadScoreRealtime(models.AbstractModel):
    """The fast path: a saved record that a rule watches asks for a run of
    the scheduled job as its transaction commits.

    - :meth:`_realtime_watched` is what the active rules watch: per model,
      the fields their conditions read there (with what a stored computed
      field of the same record is computed from); a new record of one of
      those models always counts. Cached per registry (ormcache); the rule
      model clears the registry's cache when a rule is created, deleted or
      its definition changes.
    - :meth:`_realtime_note` is called by every ORM create and write
      (``base``) and by the addons for what the ORM does not see (website's
      page views): a watched change asks for the rules job once per
      transaction. Its early returns keep the request's cost to a few
      dictionary look-ups per saved record.
    - :meth:`_realtime_ask` asks for a run of any scheduled job (the
      engagement job of lead_scoring_marketing too) as the transaction
      commits, once per transaction and job, unless the fast path is turned
      off (REALTIME_PARAM).
    - At the commit, :meth:`_realtime_commit` writes the job's trigger row
      (:meth:`_realtime_ask_run`) in a savepoint, and after it a thread of
      the worker wakes the cron workers.
    - :meth:`_realtime_asked_since` tells a pick-up of the job whether a run
      was asked for since a moment (the horizon of a run it ends).

    Nothing here scores anything and nothing raises: what the fast path
    misses, the 5-minute job scores. It keeps no state but the cache and the
    transaction's own (``cr.precommit.data``).
    """

    _name = "lead.score.realtime"
    _description = "Lead scoring: scoring within seconds"

    @api.model
    @tools.ormcache()
    def _realtime_watched(self):
        """{model: frozenset of the fields whose change a rule may see}, for
        the models of the active rules; a record created in one of those
        models is always an event. Cached per registry, cleared when a rule
        changes."""
        watched = {}
        rules = self.env["lead.score.rule"].sudo().with_context(active_test=True)
        for rule in rules.search([]):
            model = self.env.get(rule.model_name)
            if model is None:
                continue
            try:
                domain = rule._get_domain()
            except Exception:  # noqa: BLE001 - the run reports a broken rule
                continue
            names = _first_names(domain)
            if rule.condition_type == "event" and rule.partner_field_id:
                names.add(rule.partner_field_id.name)
            names = _with_dependencies(model, names)
            watched.setdefault(rule.model_name, set()).update(names)
        return {model: frozenset(names) for model, names in watched.items()}

    @api.model
    def _realtime_note(self, model_name, fnames=None):
        """A record of ``model_name`` was created (``fnames`` None) or these
        fields of one were written in this transaction: if a rule watches
        them, ask for a run as the transaction commits, once. Never raises:
        what the fast path misses, the 5-minute job scores."""
        try:
            if self.env.cr.precommit.data.get(ASKED_KEY, {}).get(RULES_JOB):
                return
            watched = self._realtime_watched().get(model_name)
            if watched is None or (fnames is not None and not watched & set(fnames)):
                return
            if self.env.context.get(ENGINE_CONTEXT):
                return
            self._realtime_ask(RULES_JOB)
        except Exception:  # noqa: BLE001 - the request must not fail for this
            _logger.warning("Lead scoring: no fast run asked", exc_info=True)

    @api.model
    def _realtime_ask(self, job):
        """Ask for a run of the scheduled job ``job`` (an XML id) as this
        transaction commits, once per transaction, unless the fast path is
        turned off (REALTIME_PARAM). Never raises."""
        try:
            cr = self.env.cr
            asked = cr.precommit.data.setdefault(ASKED_KEY, {})
            if job in asked:
                return
            params = self.env["ir.config_parameter"].sudo()
            if params.get_param(REALTIME_PARAM, "1") in ("0", "False", "false"):
                asked[job] = False
                return
            asked[job] = True
            env = self.env(su=True)
            cr.precommit.add(lambda: env["lead.score.realtime"]._realtime_commit(job))
        except Exception:  # noqa: BLE001 - the request must not fail for this
            _logger.warning("Lead scoring: no fast run asked", exc_info=True)

    @api.model
    def _realtime_commit(self, job):
        """At the commit of a transaction that saved an event: the trigger
        row, in a savepoint that a failure rolls back alone."""
        try:
            with self.env.cr.savepoint(flush=False):
                self._realtime_ask_run(job)
        except Exception:  # noqa: BLE001 - the 5-minute job does the work
            _logger.warning(
                "Lead scoring: no fast run asked, the job scores it later",
                exc_info=True,
            )

    @api.model
    def _realtime_ask_run(self, job):
        """One trigger row of the job, written with this transaction, and
        the cron workers woken once it commits (what ir.cron._trigger does,
        without the ORM's bookkeeping at commit time, and waking them from
        a thread: see _wake_cron_workers)."""
        cron = self.env.ref(job, raise_if_not_found=False)
        if not cron:
            return
        self.env.cr.execute(
            SQL(
                """INSERT INTO ir_cron_trigger
                          (cron_id, call_at, create_uid, write_uid, create_date, write_date)
                   SELECT c.id, now() AT TIME ZONE 'UTC', %(uid)s, %(uid)s,
                          now() AT TIME ZONE 'UTC', now() AT TIME ZONE 'UTC'
                     FROM ir_cron c WHERE c.id = %(cron)s AND c.active""",
                uid=self.env.uid,
                cron=cron.id,
            )
        )
        if self.env.cr.rowcount:
            dbname = self.env.cr.dbname
            self.env.cr.postcommit.add(lambda: _wake_cron_workers(dbname))

    @api.model
    def _realtime_asked_since(self, job, since):
        """Whether a run of the job ``job`` was asked for at or after
        ``since`` (a trigger row, whoever wrote it)."""
        cron = self.env.ref(job, raise_if_not_found=False)
        if not cron:
            return False
        self.env.cr.execute(
            "SELECT 1 FROM ir_cron_trigger WHERE cron_id = %s"
            " AND call_at >= %s::timestamp LIMIT 1",
            [cron.id, since],
        )
        return bool(self.env.cr.fetchone())


class LeadScoreRule(models.Model):
    """What the fast path needs of the rule: a change of the rules clears
    the registry's cache, :meth:`LeadScoreRealtime._realtime_watched`'s."""

    _inherit = "lead.score.rule"

    @api.model_create_multi
    def create(self, vals_list):
        rules = super().create(vals_list)
        self.env.registry.clear_cache()
        return rules

    def write(self, vals):
        result = super().write(vals)
        # Not at each write of a run's state: only what a rule watches.
        if DEFINITION_FIELDS & set(vals):
            self.env.registry.clear_cache()
        return result

    def unlink(self):
        result = super().unlink()
        self.env.registry.clear_cache()
        return result


class LeadScoreRun(models.AbstractModel):
    """What a triggered pick-up of the rules job adds to a run: it waits a
    little for a busy engine, and asks for one more run when it ends a run
    begun before a change."""

    _inherit = "lead.score.run"

    @api.model
    def _run_rules(self, rules, commit=False, deadline=None, stats=None):
        """A pick-up that finds the engine busy (the engagement job, decay,
        a recompute ...) would consume its trigger rows without a run: it
        waits for the engine a little, each try on a fresh snapshot, then
        asks for a run a little later."""
        result = super()._run_rules(
            rules, commit=commit, deadline=deadline, stats=stats
        )
        if result is not False or not (commit and rules.env.context.get("cron_id")):
            return result
        waited = time.monotonic() + ENGINE_WAIT
        while result is False and time.monotonic() < waited:
            rules.env.cr.rollback()
            time.sleep(0.25)
            result = super()._run_rules(
                rules, commit=commit, deadline=deadline, stats=stats
            )
        if result is False:
            self.env.ref(RULES_JOB).sudo()._trigger(fields.Datetime.now() + BUSY_RETRY)
        return result

    @api.model
    def _apply_rules_in_chunks(self):
        """A run that began before this call may have missed events committed
        since it began, whose trigger rows this pick-up of the job consumes:
        once it ends, the job asks for one more run, if any event asked for
        one since the run's horizon."""
        rules = (
            self.env["lead.score.rule"].sudo().with_context(active_test=True).search([])
        )
        horizons = [
            rule.pass_horizon
            for rule in rules
            if (rule.pass_date or rule.refresh_date) and rule.pass_horizon
        ]
        result = super()._apply_rules_in_chunks()
        if not horizons or not self.env.context.get("cron_id"):
            return result
        rules.invalidate_recordset()
        if rules.filtered(lambda r: r.pass_date or r.refresh_date):
            # Still running: the job calls itself again.
            return result
        if self.env["lead.score.realtime"]._realtime_asked_since(
            RULES_JOB, min(horizons)
        ):
            self.env.ref(RULES_JOB).sudo()._trigger()
        return result


class Base(models.AbstractModel):
    """Every ORM create and write tells the fast path (once the registry is
    ready)."""

    _inherit = "base"

    @api.model_create_multi
    def create(self, vals_list):
        records = super().create(vals_list)
        if records and "lead.score.realtime" in self.env.registry and self.pool.ready:
            self.env["lead.score.realtime"]._realtime_note(self._name)
        return records

    def write(self, vals):
        result = super().write(vals)
        if self and "lead.score.realtime" in self.env.registry and self.pool.ready:
            self.env["lead.score.realtime"]._realtime_note(self._name, vals)
        return result
