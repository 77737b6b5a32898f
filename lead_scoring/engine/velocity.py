# Copyright 2026 Lead Scoring contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Velocity: each contact's score change over the last 7 and 30 days.

The change over a window is, for each group that counts in the total score,
the contact's balance after its newest line now minus its balance after its
newest line before the window began (0 without one), summed over the groups
that have a line within the window: the score now minus the score then, as
the ledger's balances give it (a *set* counts as the difference it made).
The ledger lines dated within the window are the ones behind it.

The fields are on the contact (and shown on its leads). They are written
with the scores, never apart from them:

- by the score writer (lead.score.writer._store_lead_scores), in the UPDATE
  that writes the scores, tiers and grades of a batch of contacts, from one
  set-based SELECT of the batch's velocities (:meth:`_velocities`): every
  writer of scores (a rule run, the fast path, decay, a queue_job batch)
  writes the velocity of the contacts it scores, and a contact's row gets
  one new version for both; a velocity that moves alone (a capped group)
  leaves the row's write date as it is: it is no change a rule looks at;
- by the recompute after a configuration change (a group archived, another
  total group), as the scores are;
- by the ORM, for a line recorded through it (a person's adjustment, a form,
  an API call), or when an automation rule watches a velocity:
  :meth:`ResPartner._compute_lead_score_change`;
- by the daily job (:meth:`LeadScoreVelocity._cron_velocity`), for every
  contact with a velocity or a line within the longest window: a velocity
  drops as lines age out of the windows (or expire), which no new line
  announces.
"""

import logging
import time
from datetime import timedelta

from odoo import _, api, fields, models
from odoo.tools import SQL
from odoo.tools.sql import column_exists, create_column

from ..models.res_partner import SCORE_GROUP
from ..tools import int_array
from .snippets import newest_line

_logger = logging.getLogger(__name__)

# The daily pass in progress: the last contact done.
VELOCITY_PASS_PARAM = "lead_scoring.velocity_pass"
VELOCITY_BATCH = 5_000
WINDOWS = (7, 30)
VELOCITY_FIELDS = ["lead_score_change_7d", "lead_score_change_30d"]
VELOCITY_JOB = "lead_scoring.ir_cron_lead_score_velocity"


class LeadScoreVelocity(models.AbstractModel):
    """The velocity of contacts (see the module's docstring).

    - :meth:`_velocity_query` and :meth:`_velocities` say what it is for a
      list of contacts, as their ledgers stand; the score writer writes it
      with the scores.
    - :meth:`_store_velocity` writes it for contacts whose velocity moved
      with no line of theirs (the windows slid), and :meth:`_daily_pass`
      (the scheduled job's) finds them, in committed batches from a saved
      position.

    The caller's environment is kept.
    """

    _name = "lead.score.velocity"
    _description = "Lead scoring engine: score velocity"

    # ------------------------------------------------------------------
    # What a velocity is
    # ------------------------------------------------------------------
    @api.model
    def _velocity_query(self, partner_ids, now):
        """SQL: (contact, change over 7 days, change over 30 days) of these
        contacts (see the module's docstring); 0 for a contact who objects.

        Per contact and group it has lines in, its balance now minus its
        balance before each window: three lookups in the ledger's index on
        (partner_id, group_id, date, id), no line read twice. A group with
        no line within a window adds nothing: its newest line is then the
        one before the window."""
        short, long = (now - timedelta(days=days) for days in WINDOWS)
        contact, group = SQL("l.partner_id"), SQL("l.group_id")
        return SQL(
            """
            WITH latest AS (
                SELECT c.id AS partner_id, g.id AS group_id,
                       COALESCE(n.balance, 0) AS balance
                  FROM (SELECT DISTINCT unnest(%(ids)s)) AS c(id)
                 CROSS JOIN lead_score_group g
                  JOIN LATERAL (%(newest)s) n ON TRUE
                 WHERE g.active AND %(total)s
            ), changes AS (
                SELECT l.partner_id,
                       SUM(l.balance - COALESCE(s.balance, 0)) AS short,
                       SUM(l.balance - COALESCE(b.balance, 0)) AS long
                  FROM latest l
                  LEFT JOIN LATERAL (%(before_short)s) s ON TRUE
                  LEFT JOIN LATERAL (%(before_long)s) b ON TRUE
                 GROUP BY l.partner_id
            )
            SELECT p.id,
                   CASE WHEN p.lead_score_objection IS TRUE THEN 0
                        ELSE COALESCE(c.short, 0) END::int,
                   CASE WHEN p.lead_score_objection IS TRUE THEN 0
                        ELSE COALESCE(c.long, 0) END::int
              FROM res_partner p
              LEFT JOIN changes c ON c.partner_id = p.id
             WHERE p.id = ANY(%(ids)s)
            """,
            ids=int_array(partner_ids),
            newest=newest_line(SQL("c.id"), SQL("g.id")),
            total=self.env["lead.score.value"]._total_condition(),
            before_short=newest_line(contact, group, before=short),
            before_long=newest_line(contact, group, before=long),
        )

    @api.model
    def _velocities(self, partner_ids, now=None):
        """{contact: (change over 7 days, change over 30 days)} of these
        contacts, as their ledgers stand (flushed by the caller)."""
        if not partner_ids:
            return {}
        self.env.cr.execute(
            self._velocity_query(partner_ids, now or fields.Datetime.now())
        )
        return {pid: (c7, c30) for pid, c7, c30 in self.env.cr.fetchall()}

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
        # the engine's lines are the score writer's (see lead.score.velocity).
        saved = self._origin.filtered("id")
        changes = self.env["lead.score.velocity"]._velocities(saved.ids)
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
