# Copyright 2026 Lead Scoring contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The configuration recompute, the service ``lead.score.recompute`` and its
scheduled job.

Contract: after a change of configuration that moves scores (caps, archived
groups, the total's definition, tiers, the grade, roll-ups), every
contact's group scores, total, tier and grade are recomputed from the stored
balances, RECOMPUTE_BATCH contacts at a time in contact order, each batch in
its own transaction that also notes the last contact done. The change's own
request (:meth:`_recompute_all`) does what it can in
RECOMPUTE_INLINE_SECONDS, then triggers the job, which goes on for the
budget of each call (``lead.score.engine._call_budget``) until none is left.
The position is kept the engine's one way,
``lead.score.engine._save_position(RECOMPUTE_PARAM)``: the contact after
which every contact is still to recompute (0: all of them; none: nothing to
do). It never runs with the rules (their refresh writes the same rows):
while the engine's lock is held elsewhere, the job tries again a minute
later."""

import time
from datetime import timedelta

from odoo import api, fields, models
from odoo.tools import SQL

from ..tools import int_array

# After a change of configuration, the contact after which every contact's
# scores are still to recompute (see _recompute_all).
RECOMPUTE_PARAM = "lead_scoring.recompute_after"
# Contacts per transaction of a recompute: a short transaction each.
RECOMPUTE_BATCH = 5000
# What the change's own request recomputes at most: all of a small database.
RECOMPUTE_INLINE_SECONDS = 2


class LeadScoreRecompute(models.AbstractModel):
    """Every contact's scores after a change of configuration (see the
    module's docstring)."""

    _name = "lead.score.recompute"
    _description = "Lead scoring: the recompute after a configuration change"

    @api.model
    def _recompute_all(self):
        """After a change of configuration (caps, archived groups, the
        total's definition, tiers, the grade, roll-ups): every contact's
        group scores, total, tier and grade, RECOMPUTE_BATCH contacts at a
        time in contact order. The change's request does what it can in
        RECOMPUTE_INLINE_SECONDS (all of a small database); the scheduled job
        does the rest, each batch committed, from where the last one stopped.
        On a large base a whole recompute outlasts any browser request or
        worker time limit, and would lock every contact that long while
        people save them."""
        self._set_recompute_after(0)
        deadline = time.monotonic() + RECOMPUTE_INLINE_SECONDS
        job = self.env.ref("lead_scoring.ir_cron_recompute_scores", False)
        # (No job yet: the addon's installation, whose job then does it all.)
        if self._recompute_pending(commit=False, deadline=deadline) and job:
            job.sudo()._trigger()

    @api.model
    def _cron_recompute_scores(self):
        """The scheduled job of the recompute: a call goes on from the saved
        position for the budget of a call, and asks to be called again while
        some remains; while the rules run (their refresh writes the same
        rows), a minute later."""
        before = self._recompute_after()
        if before is None:
            return
        # Run by Odoo's scheduler, each batch is committed.
        commit = bool(self.env.context.get("cron_id"))
        engine = self.env["lead.score.engine"]
        deadline = time.monotonic() + engine._call_budget()
        pending = self._recompute_pending(commit, deadline)
        if not (commit and pending):
            return
        job = self.env.ref("lead_scoring.ir_cron_recompute_scores").sudo()
        if self._recompute_after() == before:
            job._trigger(fields.Datetime.now() + timedelta(minutes=1))
        else:
            self.env["ir.cron"]._notify_progress(done=1, remaining=1)
            job._trigger()

    @api.model
    def _recompute_pending(self, commit, deadline=None):
        """Go on with the recompute of _recompute_all until it is done, or
        until ``deadline`` (time.monotonic()) once a batch is; returns whether
        some remains. Left for later while the rule engine runs (its refresh
        writes the same rows)."""
        engine = self.env["lead.score.engine"]
        if self._recompute_after() is None:
            return False
        # In a request (no commit), whether a run goes on, without holding
        # the lock to the request's end.
        if not engine._try_lock(True):
            return True
        if not commit:
            engine._unlock()
        try:
            while (after := self._recompute_after()) is not None:
                self.env.cr.execute(
                    "SELECT id FROM res_partner WHERE id > %s ORDER BY id LIMIT %s",
                    [after, RECOMPUTE_BATCH],
                )
                ids = [row[0] for row in self.env.cr.fetchall()]

                def batch(ids=ids):
                    with engine._waiting_briefly():
                        self._recompute_batch(ids)

                done, __ = engine._retry_when_busy(batch, commit)
                if not done or (deadline is not None and time.monotonic() > deadline):
                    break
        finally:
            if commit:
                engine._unlock()
        return self._recompute_after() is not None

    @api.model
    def _recompute_after(self):
        after = self.env["lead.score.engine"]._saved_position(RECOMPUTE_PARAM)
        return None if after is None else int(after)

    @api.model
    def _set_recompute_after(self, partner_id):
        # 0 (from the start) is a position too.
        self.env["lead.score.engine"]._save_position(
            RECOMPUTE_PARAM, None if partner_id is None else str(partner_id)
        )

    @api.model
    def _recompute_batch(self, partner_ids):
        """Recompute these contacts' scores (see _recompute_all), then note
        the last one done, in the same transaction."""
        self.env.flush_all()
        if partner_ids:
            values = self.env["lead.score.value"]
            values._refresh(partner_ids)
            self.env.cr.execute(
                SQL(
                    """
                    UPDATE res_partner p SET lead_score = COALESCE(t.total, 0)
                      FROM res_partner p2
                      LEFT JOIN LATERAL (
                            SELECT SUM(v.score)::int AS total FROM lead_score_value v
                              JOIN lead_score_group g ON g.id = v.group_id AND g.active
                             WHERE v.partner_id = p2.id AND %s) t ON TRUE
                     WHERE p.id = p2.id AND p2.id = ANY(%s)
                       AND p.lead_score IS DISTINCT FROM COALESCE(t.total, 0)
                 RETURNING p.id
                    """,
                    values._total_condition(),
                    int_array(partner_ids),
                )
            )
            partners = self.env["res.partner"].browse(
                row[0] for row in self.env.cr.fetchall()
            )
            self.env["res.partner"].invalidate_model(["lead_score"])
            partners.modified(["lead_score"])
            self.env["crm.lead"]._copy_partner_fields(["partner_lead_score"])
            self.env["lead.score.writer"]._store_lead_score_companies(partner_ids)
            self.env["lead.score.tier"]._reassign_partners(partner_ids)
            # Which groups count (active, the total) is what velocity sums too.
            self.env["lead.score.velocity"]._store_velocity(partner_ids)
        self._set_recompute_after(partner_ids[-1] if partner_ids else None)
        # Written in SQL across models, and what is computed from the groups'
        # settings (whether a contact has several groups ...) is stale.
        self.env.invalidate_all()
