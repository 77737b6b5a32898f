# Copyright 2026 Lead Scoring contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Decay, the service ``lead.score.decay`` and its daily job.

Contract: each active group whose score decays (the group's setting) gets,
set-based, one *remove* line per contact whose score is above the group's
floor: the points that make a positive score halve every so many days, or so
many points per whole period, for the days since the contact's last decay
line (missed days are caught up). Lines hold whole points, so that a replay
equals the score. One key per contact, group and day (DECAY_KEY_PREFIX)
makes a second call of the day add nothing, and a later call of the day
stores the scores that an interrupted one left behind.

A pass goes through the group scores in contact order, DECAY_BATCH at a
time, each batch committed when run by the scheduler, for the budget of a
call (``lead.score.engine._call_budget``); its position (its time and the
last contact done) is kept the engine's one way,
``lead.score.engine._save_position(DECAY_PASS_PARAM)``, and the next call
goes on from there with the pass's own time. It never runs with the rules:
while the engine's lock is held elsewhere, the job tries again later."""

import logging
import time
from datetime import timedelta

from odoo import api, fields, models
from odoo.tools import SQL

from ..models.lead_score_operation import DECAY_KEY_PREFIX, MAX_POINTS
from .snippets import newest_first

_logger = logging.getLogger(__name__)

# The decay pass in progress: its time and the last contact done.
DECAY_PASS_PARAM = "lead_scoring.decay_pass"
# Group scores decayed per transaction (a few seconds' work at most).
DECAY_BATCH = 20_000


class LeadScoreDecay(models.AbstractModel):
    """The daily decay of the scores (see the module's docstring)."""

    _name = "lead.score.decay"
    _description = "Lead scoring: the daily decay of scores"

    @api.model
    def _cron_decay_scores(self):
        # Run by Odoo's scheduler, each batch is committed and a call lasts
        # as long as one of the rule engine's; the pass goes on at the next.
        commit = bool(self.env.context.get("cron_id"))
        deadline = None
        if commit:
            deadline = time.monotonic() + self.env["lead.score.engine"]._call_budget()
        if self._decay_scores(commit=commit, deadline=deadline) is None:
            if commit:
                # The rule engine is busy: try again a little later.
                self.env.ref("lead_scoring.ir_cron_decay_scores").sudo()._trigger(
                    fields.Datetime.now() + timedelta(minutes=10)
                )
        elif commit:
            pending = bool(
                self.env["lead.score.engine"]._saved_position(DECAY_PASS_PARAM)
            )
            self.env["ir.cron"]._notify_progress(done=1, remaining=int(pending))

    @api.model
    def _decay_scores(self, commit=False, now=None, deadline=None):
        """Decay the scores of each active group by its decay setting: one
        *remove* line per contact, group and day, written set-based (one
        statement for every group), of the points lost since the contact's
        last decay line (missed days are caught up) or, lacking one, since its
        score last reached the floor or began; never before the day the
        group's decay started.

        Half-life: positive scores halve every so many days. Points per
        period: so many points every whole period, the rest of a period
        carried over (the period's end is kept in the line's key). Rounded to
        whole points, a score never goes below 0, or below the floor that a
        group decaying below zero sets (its cap's minimum, if below 0); a loss
        of 0 is not written. ``now`` is the run's time (default: now).

        DECAY_BATCH group scores at a time in contact order, each batch
        committed with ``commit``, until ``deadline`` (time.monotonic()) when
        given: a pass stopped there goes on at the next call where it stopped,
        with its own time (DECAY_PASS_PARAM). Returns the contacts decayed
        (by this call), or None when the rule engine is busy."""
        engine = self.env["lead.score.engine"]
        if not engine._try_lock(commit):
            _logger.info("Lead scoring: rules are running, decay postponed")
            return None
        try:
            state = engine._saved_position(DECAY_PASS_PARAM)
            if state:
                since, after = state.split("|")
                now, after = fields.Datetime.to_datetime(since), int(after)
            else:
                now, after = now or fields.Datetime.now(), 0
            groups = (
                self.env["lead.score.group"].sudo().search([("decay", "!=", "none")])
            )
            groups.filtered(lambda group: not group.decay_since).write(
                {"decay_since": now.date() - timedelta(days=1)}
            )
            decayed = set()
            while groups and after is not None:
                batch_decayed, after = self._decay_batch(groups, now, after, commit)
                decayed |= batch_decayed
                engine._save_position(
                    DECAY_PASS_PARAM,
                    after and f"{fields.Datetime.to_string(now)}|{after}",
                )
                engine._commit(commit)
                if after and deadline is not None and time.monotonic() > deadline:
                    break
            if not groups:
                engine._save_position(DECAY_PASS_PARAM, False)
            _logger.info("Lead scoring: %s scores decayed", len(decayed))
            return decayed
        finally:
            if commit:
                engine._unlock()

    @api.model
    def _decay_batch(self, groups, now, after, commit):
        """Decay the next DECAY_BATCH scores of these groups, of contacts
        after the contact ``after`` (its lines committed, then its scores,
        with ``commit``); returns the contacts decayed and the last contact
        of the batch (None when it was the last batch)."""
        today = now.date()
        self.env["lead.score.value"].flush_model()
        self.env.cr.execute(
            SQL(
                """
                SELECT partner_id FROM lead_score_value
                 WHERE partner_id > %s AND group_id = ANY(%s)
                 ORDER BY partner_id OFFSET %s LIMIT 1
                """,
                after,
                groups.ids,
                DECAY_BATCH - 1,
            )
        )
        row = self.env.cr.fetchone()
        until = row and row[0]

        def in_batch(alias):
            partner = SQL.identifier(alias, "partner_id")
            if until is None:
                return SQL("%s > %s", partner, after)
            return SQL("%s > %s AND %s <= %s", partner, after, partner, until)

        key = f"{DECAY_KEY_PREFIX}{fields.Date.to_string(today)}"
        self.env["res.partner"].flush_model(["active", "lead_score_objection"])
        groups.flush_recordset()
        ledger = self.env["lead.score.operation"]._engine().env["lead.score.ledger"]
        recorded = ledger._record_lines(
            SQL(
                """
                SELECT v.partner_id, v.group_id,
                       CASE g.decay
                       WHEN 'half_life' THEN
                            d.balance - round(d.balance * power(0.5,
                                t.days / g.decay_half_life_days::float8))::int
                       ELSE LEAST(t.periods::int8 * g.decay_points,
                                  d.balance - g.floor)::int
                       END AS amount,
                       CASE g.decay WHEN 'linear' THEN ':' || to_char(
                            t.since + t.periods * g.decay_period_days, 'YYYY-MM-DD')
                       ELSE '' END AS period_end
                  FROM (SELECT *, CASE WHEN decay = 'linear' AND decay_below_zero
                                       THEN CASE WHEN use_cap THEN LEAST(score_min, 0)
                                                 ELSE -%(max)s END
                                       ELSE 0 END AS floor
                          FROM lead_score_group
                         WHERE id = ANY(%(groups)s)) g
                  JOIN lead_score_value v ON v.group_id = g.id
                                         AND (v.score > 0 OR g.floor < 0)
                                         AND %(in_batch)s
                  JOIN res_partner p ON p.id = v.partner_id AND p.active
                  JOIN LATERAL (
                        -- Since the last decay (the end of its last whole
                        -- period), the floor or compaction; or the first line.
                        -- With the balance of the newest line (the score), in
                        -- the same pass over the contact's lines.
                        SELECT GREATEST(MIN(o.date)::date, (array_agg(COALESCE(
                                   CASE WHEN o.source = 'decay' THEN NULLIF(
                                       split_part(o.idempotency_key, ':', 5), '')::date
                                   END, o.date::date)
                                   ORDER BY %(newest_first)s)
                                   FILTER (WHERE o.source IN ('decay', 'carried')
                                              OR o.balance <= g.floor))[1]) AS since,
                               (array_agg(o.balance ORDER BY %(newest_first)s))[1]
                                   AS balance
                          FROM lead_score_operation o
                         WHERE o.partner_id = v.partner_id
                           AND o.group_id = v.group_id) d ON TRUE
                  CROSS JOIN LATERAL (
                        SELECT s.since, s.days, s.days / g.decay_period_days AS periods
                          FROM (SELECT GREATEST(g.decay_since, d.since) AS since,
                                       GREATEST(0, %(today)s::date
                                                   - GREATEST(g.decay_since, d.since))
                                           AS days) s) t
                 WHERE d.balance > g.floor
                """,
                today=today,
                newest_first=newest_first("o"),
                groups=groups.ids,
                max=MAX_POINTS,
                in_batch=in_batch("v"),
            ),
            SQL("src.amount > 0"),
            date=now,
            operation="remove",
            value=SQL("src.amount"),
            source="decay",
            group_id=SQL("src.group_id"),
            idempotency_key=SQL("%s || src.group_id || src.period_end", f"{key}:"),
        )
        self.env["lead.score.engine"]._commit(commit)
        refresh = self.env["lead.score.refresh"]
        decayed = {partner_id for partner_id, _unknown in recorded}
        # With those whose scores a call earlier today left behind.
        behind = refresh._scores_behind_lines(
            SQL(
                "o.date >= %s AND o.source = 'decay' AND o.idempotency_key LIKE %s"
                " AND %s",
                today,
                f"{key}:%",
                in_batch("o"),
            )
        )
        rules = self.env["lead.score.rule"].sudo()
        refresh._refresh_in_chunks(rules, decayed | behind, commit)
        return decayed, until
