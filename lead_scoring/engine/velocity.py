# Copyright 2026 Lead Scoring contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Velocity: each contact's score change over the last 7 and 30 days.

The change over a window is, for each group that counts in the total score,
the contact's balance after its newest line now minus its balance after its
newest line before the window began (0 without one), summed over the groups
that have a line within the window: the score now minus the score then, as
the ledger's balances give it (a *set* counts as the difference it made).
The ledger lines dated within the window are the ones behind it.

The fields are on the contact (and copied on its leads); the engine's
service ``lead.score.velocity`` writes them set-based, one SELECT and one
short UPDATE per batch of contacts, leaving the rows' write date as it is (a
velocity is no change a contact rule should look at). Three writers:

- the ORM, for a line recorded through it (a person's adjustment, a form, an
  API call): :meth:`ResPartner._compute_lead_score_change`;
- the end of each rule run (:meth:`LeadScoreVelocity._after_run`): the
  contacts with a line dated since the last such pass, up to the run's date
  (the run's lines, and those the other jobs recorded meanwhile), in
  committed batches within what is left of the call's budget; what does
  not fit is done at the end of the next run, so that a first run over a
  million contacts does not wait for it. Not within the run's refresh
  batches, which hold their contacts' rows until they commit;
- the daily job (:meth:`LeadScoreVelocity._cron_velocity`): every contact
  with a velocity or a line within the longest window. It makes a velocity
  drop as lines age out of the windows (or expire), which no new line
  announces, and repairs whatever the other two missed: a pass that keeps
  failing, the runs of the queue_job runner, and lines committed with a date
  that the pass had gone past.
"""

import logging
import time
from contextlib import contextmanager
from datetime import datetime, timedelta

from odoo import _, api, fields, models
from odoo.tools import SQL
from odoo.tools.sql import column_exists, create_column

from ..models.res_partner import SCORE_GROUP
from ..tools import int_array

_logger = logging.getLogger(__name__)

# The daily pass in progress: the last contact done.
VELOCITY_PASS_PARAM = "lead_scoring.velocity_pass"
# The pass after the runs: the last (line date, contact) done.
AFTER_RUN_PARAM = "lead_scoring.velocity_after_run"
VELOCITY_BATCH = 5_000
WINDOWS = (7, 30)
VELOCITY_FIELDS = ["lead_score_change_7d", "lead_score_change_30d"]
VELOCITY_JOB = "lead_scoring.ir_cron_lead_score_velocity"


class LeadScoreVelocity(models.AbstractModel):
    _name = "lead.score.velocity"
    _description = "Lead scoring engine: score velocity"

    # ------------------------------------------------------------------
    # What a velocity is
    # ------------------------------------------------------------------
    @api.model
    def _velocity_query(self, partner_ids, now):
        """SQL: (contact, change over 7 days, change over 30 days) of these
        contacts (see the module's docstring); 0 for a contact who objects."""
        changes = []
        for days in WINDOWS:
            since = now - timedelta(days=days)
            changes.append(
                SQL(
                    """CASE WHEN p.lead_score_objection IS TRUE THEN 0 ELSE COALESCE((
                         SELECT SUM(d.change) FROM (
                           SELECT DISTINCT ON (o.group_id)
                                  COALESCE(o.balance, 0) - COALESCE((
                                    SELECT b.balance FROM lead_score_operation b
                                     WHERE b.partner_id = p.id AND b.group_id = o.group_id
                                       AND b.date < %(since)s
                                     ORDER BY b.date DESC, b.id DESC LIMIT 1), 0) AS change
                             FROM lead_score_operation o
                             JOIN lead_score_group g ON g.id = o.group_id AND g.active
                            WHERE o.partner_id = p.id AND o.date >= %(since)s
                              AND %(total)s
                            ORDER BY o.group_id, o.date DESC, o.id DESC) d), 0)::int END""",
                    since=since,
                    total=self.env["lead.score.value"]._total_condition(),
                )
            )
        return SQL(
            "SELECT p.id, %s, %s FROM res_partner p WHERE p.id = ANY(%s)",
            *changes,
            int_array(partner_ids),
        )

    @api.model
    def _store_velocity(self, partner_ids, now=None):
        """Write the velocity of these contacts whose velocity changed;
        returns their number. Computed first, then written by one UPDATE
        that waits briefly for a row someone is saving (see
        lead.score.engine._waiting_briefly): the rows are locked from that
        UPDATE to the commit only."""
        if not partner_ids:
            return 0
        self.env["lead.score.operation"].flush_model()
        self.env["res.partner"].flush_model(
            ["lead_score_objection", "lead_score_change_7d", "lead_score_change_30d"]
        )
        now = now or fields.Datetime.now()
        cr = self.env.cr
        cr.execute(
            SQL(
                """SELECT v.id, v.c7, v.c30
                     FROM (%s) AS v(id, c7, c30)
                     JOIN res_partner p ON p.id = v.id
                    WHERE (p.lead_score_change_7d, p.lead_score_change_30d)
                          IS DISTINCT FROM (v.c7, v.c30)""",
                self._velocity_query(partner_ids, now),
            )
        )
        rows = cr.fetchall()
        if not rows:
            return 0
        ids, c7s, c30s = zip(*rows, strict=True)
        partners = self.env["res.partner"].browse(ids)
        writer = self.env["lead.score.writer"]
        if writer._automation_watches("res.partner", VELOCITY_FIELDS):
            # An automation rule reacts to a velocity ("heating up"): it must
            # see it change, computed by the ORM (as the scores are, see
            # lead.score.writer._lead_score_watched).
            for fname in VELOCITY_FIELDS:
                self.env.add_to_compute(partners._fields[fname], partners)
            with self.env["lead.score.engine"]._waiting_briefly():
                partners.flush_recordset(VELOCITY_FIELDS)
            return len(ids)
        with self.env["lead.score.engine"]._waiting_briefly():
            cr.execute(
                SQL(
                    """UPDATE res_partner p
                          SET lead_score_change_7d = v.c7,
                              lead_score_change_30d = v.c30
                         FROM unnest(%s, %s, %s) AS v(id, c7, c30)
                        WHERE p.id = v.id""",
                    int_array(ids),
                    int_array(c7s),
                    int_array(c30s),
                ),
                # Meeting someone's save is no error: the batch is tried again.
                log_exceptions=False,
            )
        partners.invalidate_recordset(VELOCITY_FIELDS)
        return len(ids)

    # ------------------------------------------------------------------
    # After a rule run
    # ------------------------------------------------------------------
    @api.model
    def _after_run(self, run_date, commit=False, deadline=None, stats=None):
        """The end of a rule run: the velocity of the contacts it scored.

        Goes through the ledger's lines by (date, contact), from where the
        last such pass stopped (the run's own lines when none did) up to
        ``run_date``, VELOCITY_BATCH contacts per committed transaction, the
        position saved with each batch. One batch, then as many as fit before
        ``deadline`` (what is left of the call's budget; with none, one call's
        budget when it commits), so that a first run over a million contacts
        does not wait for it: the rest is done at the end of the next runs,
        or by the daily job.
        Never fails the run: a failing batch leaves the position where it
        was, for the next run and the daily job. Returns the contacts whose
        velocity it wrote."""
        if not run_date:
            return 0
        engine = self.env["lead.score.engine"]
        started = time.monotonic()
        if deadline is None and commit:
            deadline = started + engine._call_budget()
        written = 0
        try:
            with self._guarded(commit):
                position = self._after_run_position(run_date)
            engine._commit(commit)
            with self._guarded(commit):
                written = self._after_run_batches(position, run_date, commit, deadline)
        except Exception:  # noqa: BLE001 - the daily job repairs it
            if commit:
                self.env.cr.rollback()
                self.env.invalidate_all()
            _logger.warning(
                "Lead scoring: velocity after the run failed, left to the next"
                " run and the daily job",
                exc_info=True,
            )
        if stats is not None:
            stats["velocity"] = stats.get("velocity", 0) + written
            stats["velocity_seconds"] = stats.get("velocity_seconds", 0) + (
                time.monotonic() - started
            )
        return written

    @api.model
    def _after_run_position(self, run_date):
        """The last (line date, contact) done by the passes after the runs;
        saved at once when there is none, before this run's lines."""
        engine = self.env["lead.score.engine"]
        saved = engine._saved_position(AFTER_RUN_PARAM)
        if saved:
            date, partner_id = saved.split("|")
            # A line's date may have microseconds (lines written in SQL).
            date, partner_id = datetime.fromisoformat(date), int(partner_id)
        else:
            date, partner_id = run_date, 0
            engine._save_position(AFTER_RUN_PARAM, f"{date}|0")
        # Older lines have left the windows: none of them moves a velocity.
        oldest = fields.Datetime.now() - timedelta(days=max(WINDOWS))
        if date < oldest:
            date, partner_id = oldest, 0
        return date, partner_id

    @contextmanager
    def _guarded(self, commit):
        """Work done in the caller's transaction (``commit`` False) is
        undone alone when it fails; a job's batches commit as they go."""
        if commit:
            yield
        else:
            with self.env.cr.savepoint():
                yield

    @api.model
    def _after_run_batches(self, position, run_date, commit, deadline):
        engine = self.env["lead.score.engine"]
        written = 0
        # One batch at least, then as many as the deadline leaves time for:
        # a run that takes its whole call still moves the pass on.
        while True:
            batch_start = time.monotonic()
            self.env["lead.score.operation"].flush_model(["date", "partner_id"])
            # Through the ledger's index on (date, contact).
            self.env.cr.execute(
                SQL(
                    """SELECT DISTINCT date, partner_id FROM lead_score_operation
                        WHERE (date, partner_id) > (%s::timestamp, %s)
                          AND date <= %s
                        ORDER BY date, partner_id LIMIT %s""",
                    *position,
                    run_date,
                    VELOCITY_BATCH,
                )
            )
            pairs = self.env.cr.fetchall()
            if not pairs:
                break
            last = pairs[-1]

            def work(pairs=pairs, last=last):
                count = self._store_velocity(sorted({pid for _date, pid in pairs}))
                engine._save_position(AFTER_RUN_PARAM, f"{last[0]}|{last[1]}")
                return count

            done, count = engine._retry_when_busy(work, commit)
            if not done:
                # Saved meanwhile, again and again: left to the next run.
                break
            written += count
            position = last
            now = time.monotonic()
            if len(pairs) < VELOCITY_BATCH or (
                deadline and 2 * now - batch_start > deadline
            ):
                break
        return written

    # ------------------------------------------------------------------
    # The daily pass
    # ------------------------------------------------------------------
    @api.model
    def _cron_velocity(self):
        """The scheduled job: the windows slide every day."""
        commit = bool(self.env.context.get("cron_id"))
        deadline = None
        if commit:
            deadline = time.monotonic() + self.env["lead.score.engine"]._call_budget()
        done = self._daily_pass(commit=commit, deadline=deadline)
        if done is None:
            if commit:
                # The rule engine is busy: a little later.
                self.env.ref(VELOCITY_JOB).sudo()._trigger(
                    fields.Datetime.now() + timedelta(minutes=10)
                )
        elif commit:
            pending = bool(
                self.env["lead.score.engine"]._saved_position(VELOCITY_PASS_PARAM)
            )
            self.env["ir.cron"]._notify_progress(done=done, remaining=int(pending))

    @api.model
    def _daily_pass(self, commit=False, deadline=None, now=None):
        """Recompute the velocity of every contact that has one or has a line
        within the longest window, VELOCITY_BATCH contacts per transaction in
        contact order, from the saved position, until ``deadline``. Returns
        the contacts updated, or None when the rule engine is busy."""
        engine = self.env["lead.score.engine"]
        now = now or fields.Datetime.now()
        since = now - timedelta(days=max(WINDOWS))
        updated = 0
        with engine._locked(commit) as held:
            if not held:
                _logger.info("Lead scoring: rules are running, velocity postponed")
                return None
            after = int(engine._saved_position(VELOCITY_PASS_PARAM) or 0)
            while True:
                self.env.cr.execute(
                    SQL(
                        """SELECT id FROM (
                             SELECT p.id FROM res_partner p
                              WHERE p.id > %(after)s AND (p.lead_score_change_7d != 0
                                                        OR p.lead_score_change_30d != 0)
                             UNION
                             SELECT o.partner_id FROM lead_score_operation o
                              WHERE o.date >= %(since)s AND o.partner_id > %(after)s
                           ) ids ORDER BY id LIMIT %(limit)s""",
                        after=after,
                        since=since,
                        limit=VELOCITY_BATCH,
                    )
                )
                batch = [row[0] for row in self.env.cr.fetchall()]
                if not batch:
                    engine._save_position(VELOCITY_PASS_PARAM, False)
                    engine._commit(commit)
                    return updated

                def work(batch=batch):
                    count = self._store_velocity(batch, now)
                    engine._save_position(VELOCITY_PASS_PARAM, batch[-1])
                    return count

                done, count = engine._retry_when_busy(work, commit)
                if not done:
                    return updated
                updated += count
                after = batch[-1]
                if deadline and time.monotonic() > deadline:
                    return updated


class ResPartner(models.Model):
    _inherit = "res.partner"

    lead_score_change_7d = fields.Integer(
        string="Score change (7 days)",
        compute="_compute_lead_score_change",
        store=True,
        index=True,
        readonly=True,
        copy=False,
        groups=SCORE_GROUP,
        help="How much the score moved over the last 7 days, from the score "
        "history lines of those days.",
    )
    lead_score_change_30d = fields.Integer(
        string="Score change (30 days)",
        compute="_compute_lead_score_change",
        store=True,
        index=True,
        readonly=True,
        copy=False,
        groups=SCORE_GROUP,
        help="How much the score moved over the last 30 days, from the score "
        "history lines of those days.",
    )

    def _auto_init(self):
        # The columns at 0, instead of the ORM's computation of every contact
        # at install: the daily job fills them.
        cr = self.env.cr
        for column in ("lead_score_change_7d", "lead_score_change_30d"):
            if not column_exists(cr, "res_partner", column):
                create_column(cr, "res_partner", column, "int4")
                cr.execute(SQL("UPDATE res_partner SET %s = 0", SQL.identifier(column)))
        return super()._auto_init()

    @api.depends("lead_score_operation_ids", "lead_score_objection")
    def _compute_lead_score_change(self):
        # Lines recorded through the ORM (a person's adjustment, a form ...);
        # the engine's lines are the velocity service's (lead.score.velocity).
        saved = self._origin.filtered("id")
        changes = {}
        if saved:
            self.env.cr.execute(
                self.env["lead.score.velocity"]._velocity_query(
                    saved.ids, fields.Datetime.now()
                )
            )
            changes = {pid: (c7, c30) for pid, c7, c30 in self.env.cr.fetchall()}
        for partner in self:
            c7, c30 = (
                (0, 0)
                if partner.lead_score_objection
                else changes.get(partner._origin.id, (0, 0))
            )
            partner.lead_score_change_7d = c7
            partner.lead_score_change_30d = c30

    def action_view_lead_score_change(self):
        """The score history lines of the last 30 days: the velocity's
        lines."""
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "lead_scoring.lead_score_operation_action"
        )
        since = fields.Datetime.now() - timedelta(days=max(WINDOWS))
        action["domain"] = [("partner_id", "=", self.id), ("date", ">=", since)]
        action["context"] = {}
        action["name"] = _("Score change of %s", self.display_name)
        return action


class LeadScoreWriter(models.AbstractModel):
    _inherit = "lead.score.writer"

    @api.model
    def _store_lead_scores(self, partners, engine_since=None):
        # Not within the engine's batches, which hold their contacts' rows
        # until they commit: the velocity service writes it after the run.
        fnames = ["lead_score_change_7d", "lead_score_change_30d"]
        for fname in fnames:
            self.env.remove_to_compute(partners._fields[fname], partners)
        return super()._store_lead_scores(partners, engine_since)


class CrmLead(models.Model):
    _inherit = "crm.lead"

    partner_lead_score_change_7d = fields.Integer(
        related="partner_id.lead_score_change_7d",
        string="Contact Score change (7 days)",
        groups=SCORE_GROUP,
    )
    partner_lead_score_change_30d = fields.Integer(
        related="partner_id.lead_score_change_30d",
        string="Contact Score change (30 days)",
        groups=SCORE_GROUP,
    )
