# Copyright 2026 Lead Scoring contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Velocity: each contact's score change over the last 7 and 30 days.

The change over a window is, for each group that counts in the total score,
the contact's balance after its newest line now minus its balance after its
newest line before the window began (0 without one), summed over the groups
that have a line within the window: the score now minus the score then, as
the ledger's balances give it (a *set* counts as the difference it made).
The ledger lines dated within the window are the ones behind it.

Written set-based, one UPDATE per batch of contacts: with their scores by
every refresh (:meth:`_store_lead_scores`), and daily for every contact whose
windows slide (:meth:`_cron_lead_score_velocity`). The rows keep their write
date: a velocity is no change a contact rule should look at.
"""

import logging
import time
from datetime import timedelta

from odoo import _, api, fields, models
from odoo.tools import SQL
from odoo.tools.sql import column_exists, create_column

from ..models.res_partner import SCORE_GROUP
from ..tools import int_array

_logger = logging.getLogger(__name__)

# The daily pass in progress: the last contact done.
VELOCITY_PASS_PARAM = "lead_scoring.velocity_pass"
VELOCITY_BATCH = 5_000
WINDOWS = (7, 30)


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
        # the engine's batches write it in SQL (_store_lead_scores).
        saved = self._origin.filtered("id")
        changes = {}
        if saved:
            self.env.cr.execute(self._velocity_query(saved.ids, fields.Datetime.now()))
            changes = {pid: (c7, c30) for pid, c7, c30 in self.env.cr.fetchall()}
        for partner in self:
            c7, c30 = (
                (0, 0)
                if partner.lead_score_objection
                else changes.get(partner._origin.id, (0, 0))
            )
            partner.lead_score_change_7d = c7
            partner.lead_score_change_30d = c30

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
    def _store_lead_score_velocity(self, partner_ids, now=None):
        """Write the velocity of these contacts, in one UPDATE of those whose
        velocity changed; returns their number."""
        if not partner_ids:
            return 0
        self.env["lead.score.operation"].flush_model()
        now = now or fields.Datetime.now()
        self.env.cr.execute(
            SQL(
                """UPDATE res_partner p
                      SET lead_score_change_7d = v.c7, lead_score_change_30d = v.c30
                     FROM (%s) AS v(id, c7, c30)
                    WHERE p.id = v.id
                      AND (p.lead_score_change_7d, p.lead_score_change_30d)
                          IS DISTINCT FROM (v.c7, v.c30)""",
                self._velocity_query(partner_ids, now),
            )
        )
        count = self.env.cr.rowcount
        if count:
            self.browse(partner_ids).invalidate_recordset(
                ["lead_score_change_7d", "lead_score_change_30d"]
            )
        return count

    # ------------------------------------------------------------------
    # The daily pass
    # ------------------------------------------------------------------
    @api.model
    def _cron_lead_score_velocity(self):
        """The scheduled job: the windows slide every day."""
        commit = bool(self.env.context.get("cron_id"))
        deadline = None
        if commit:
            deadline = time.monotonic() + self.env["lead.score.engine"]._call_budget()
        done = self._update_lead_score_velocity(commit=commit, deadline=deadline)
        if done is None:
            if commit:
                # The rule engine is busy: a little later.
                self.env.ref(
                    "lead_scoring.ir_cron_lead_score_velocity"
                ).sudo()._trigger(fields.Datetime.now() + timedelta(minutes=10))
        elif commit:
            pending = bool(
                self.env["lead.score.engine"]._saved_position(VELOCITY_PASS_PARAM)
            )
            self.env["ir.cron"]._notify_progress(done=done, remaining=int(pending))

    @api.model
    def _update_lead_score_velocity(self, commit=False, deadline=None, now=None):
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
                    count = self._store_lead_score_velocity(batch, now)
                    engine._save_position(VELOCITY_PASS_PARAM, batch[-1])
                    return count

                done, count = engine._retry_when_busy(work, commit)
                if not done:
                    return updated
                updated += count
                after = batch[-1]
                if deadline and time.monotonic() > deadline:
                    return updated

    # ------------------------------------------------------------------
    # What is behind it
    # ------------------------------------------------------------------
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
        # until they commit: the velocity job writes it, set-based.
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
