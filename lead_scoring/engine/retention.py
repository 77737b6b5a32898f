# Copyright 2026 Lead Scoring contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Retention, the service ``lead.score.retention`` and its daily job.

Contract: when the Settings keep the score history for so many days
(COMPACT_DAYS_PARAM, 0: forever), the lines older than that cut-off are
folded into one *carried forward* line per contact and group, a *set* of the
balance they reached, dated as the last of them, so that the score, the
breakdown's total and every later line's balance stay the same. Per contact,
only the lines before its first line still pending (an expiry to come, a
balance to replay) are folded. A line whose key still protects against
scoring twice stays, as it is (before the carried-forward set, it counts no
more): a rule's *once* or record key and any idempotency key (forms,
mailings, campaigns, API). A repeating rule's key only matters within its
period: its older lines fold, as do decay lines older than a day.

A pass goes through the contacts in contact order, COMPACT_BATCH at a time,
each batch committed when run by the scheduler, for the budget of a call
(``lead.score.engine._call_budget``). Its position (its cut-off, the last
contact done and its counts) is kept the engine's one way,
``lead.score.engine._save_position(COMPACT_PASS_PARAM)``, in each batch's
transaction; the next call goes on from there with the pass's own cut-off.
Once a pass is over, COMPACT_LAST_PARAM tells the Settings what it did."""

import logging
import time
from datetime import timedelta

from odoo import _, api, fields, models
from odoo.tools import SQL

from ..models.lead_score_operation import DECAY_KEY_PREFIX, MAX_POINTS
from ..models.res_config_settings import COMPACT_DAYS_PARAM, COMPACT_LAST_PARAM
from .snippets import newest_first

_logger = logging.getLogger(__name__)

# The pass in progress: its cut-off, the last contact done, its counts.
COMPACT_PASS_PARAM = "lead_scoring.compact_pass"
# Contacts compacted per statement (about a second's work).
COMPACT_BATCH = 1_000


class LeadScoreRetention(models.AbstractModel):
    """The compaction of old score history (see the module's docstring)."""

    _name = "lead.score.retention"
    _description = "Lead scoring: the compaction of old score history"

    @api.model
    def _cron_compact_ledger(self):
        days = int(
            self.env["ir.config_parameter"].sudo().get_param(COMPACT_DAYS_PARAM) or 0
        )
        if days <= 0:
            self.env["lead.score.engine"]._save_position(COMPACT_PASS_PARAM, False)
            return
        # Run by Odoo's scheduler, each batch is committed and a call lasts
        # as long as one of the rule engine's; the pass goes on at the next.
        commit = bool(self.env.context.get("cron_id"))
        budget = self.env["lead.score.engine"]._call_budget()
        pending = self._compact_ledger(
            fields.Datetime.now() - timedelta(days=days),
            commit=commit,
            deadline=time.monotonic() + budget if commit else None,
        )
        if commit:
            self.env["ir.cron"]._notify_progress(done=1, remaining=int(pending))

    @api.model
    def _compact_ledger(self, cutoff, commit=False, deadline=None):
        """Fold each contact's lines older than ``cutoff`` into one carried
        forward line (see the module's docstring), COMPACT_BATCH contacts at
        a time in contact order (each committed with ``commit``), until
        ``deadline`` (time.monotonic()) when given. A pass stopped there, or
        by a worker killed mid-pass, goes on where its last batch stopped at
        the next call, with its own cut-off (kept in COMPACT_PASS_PARAM with
        its counts, in each batch's transaction). Returns whether the pass
        goes on."""
        engine = self.env["lead.score.engine"]
        state = engine._saved_position(COMPACT_PASS_PARAM)
        if state:
            since, after, folded, carried = state.split("|")
            cutoff = fields.Datetime.to_datetime(since)
            after, folded, carried = int(after), int(folded), int(carried)
        else:
            after = folded = carried = 0
        self.env["lead.score.operation"].flush_model()
        while True:
            self.env.cr.execute(
                SQL(
                    """
                    SELECT DISTINCT partner_id FROM lead_score_operation
                     WHERE date < %s AND partner_id > %s
                     ORDER BY partner_id LIMIT %s
                    """,
                    cutoff,
                    after,
                    COMPACT_BATCH,
                )
            )
            batch = [row[0] for row in self.env.cr.fetchall()]
            if not batch:
                break
            rows = self._compact_contacts(batch, cutoff)
            folded += sum(count for _partner, count in rows)
            carried += len(rows)
            after = batch[-1]
            engine._save_position(
                COMPACT_PASS_PARAM,
                f"{fields.Datetime.to_string(cutoff)}|{after}|{folded}|{carried}",
            )
            engine._commit(commit)
            if deadline is not None and time.monotonic() > deadline:
                return True
        _logger.info(
            "Score history before %s compacted: %s lines into %s carried forward",
            cutoff,
            folded,
            carried,
        )
        engine._save_position(COMPACT_PASS_PARAM, False)
        # Once a pass, for the Settings to show: through the ORM's cache.
        self.env["ir.config_parameter"].sudo().set_param(
            COMPACT_LAST_PARAM,
            f"{fields.Datetime.to_string(fields.Datetime.now())}|{folded}|{carried}",
        )
        engine._commit(commit)
        return False

    @api.model
    def _compact_contacts(self, partner_ids, cutoff):
        """Compact these contacts' lines older than ``cutoff``; returns
        (contact, lines folded) for each carried-forward line written."""
        self.env.cr.execute(
            SQL(
                "SELECT id FROM res_partner WHERE id = ANY(%s) ORDER BY id FOR NO KEY UPDATE",
                partner_ids,
            )
        )
        now = fields.Datetime.now()
        rows = self.env.execute_query(
            SQL(
                """
                WITH boundary AS (
                    -- A contact's lines fold up to the cut-off, or to its
                    -- first line still pending.
                    SELECT partner_id, group_id,
                           LEAST(%(cutoff)s, MIN(date) FILTER (
                               WHERE balance IS NULL
                                  OR (expiry_date IS NOT NULL AND NOT expired))) AS until
                      FROM lead_score_operation
                     WHERE partner_id = ANY(%(ids)s) AND date < %(cutoff)s
                     GROUP BY partner_id, group_id
                ), old AS (
                    SELECT o.id, o.partner_id, o.group_id, o.date, o.balance,
                           -- No key that still keeps the line from being recorded again.
                           (o.idempotency_key IS NULL
                            -- A decay line's key only matters on its day.
                            OR (o.idempotency_key LIKE %(decay)s
                                AND o.date < %(now)s - interval '1 day'))
                           AND (o.rule_key IS NULL
                                OR (o.rule_key LIKE %(every)s
                                    AND o.date < %(now)s
                                        - make_interval(days => COALESCE(r.repeat_days, 0))))
                               AS foldable,
                           -- The newest of them (1) holds the balance carried.
                           ROW_NUMBER() OVER (PARTITION BY o.partner_id, o.group_id
                                              ORDER BY %(newest_first)s) AS recent
                      FROM lead_score_operation o
                      JOIN boundary b ON b.partner_id = o.partner_id
                                     AND b.group_id = o.group_id AND o.date < b.until
                      LEFT JOIN lead_score_rule r ON r.id = o.rule_id
                ), carried AS (
                    SELECT partner_id, group_id, MAX(date) AS date,
                           MAX(balance) FILTER (WHERE recent = 1) AS balance,
                           COUNT(*) FILTER (WHERE foldable) AS folded
                      FROM old
                     GROUP BY partner_id, group_id
                    HAVING COUNT(*) FILTER (WHERE foldable) >= 2
                       -- A set holds at most MAX_POINTS.
                       AND MAX(balance) FILTER (WHERE recent = 1)
                           BETWEEN -%(max)s AND %(max)s
                ), deleted AS (
                    DELETE FROM lead_score_operation o
                     USING old JOIN carried c ON c.partner_id = old.partner_id
                                             AND c.group_id = old.group_id
                     WHERE o.id = old.id AND old.foldable
                )
                INSERT INTO lead_score_operation (
                    partner_id, group_id, company_id, date, operation, value, signed_value,
                    balance, note, source, expired, user_id,
                    create_uid, create_date, write_uid, write_date)
                SELECT c.partner_id, c.group_id, p.company_id, c.date, 'set', c.balance,
                       c.balance,
                       c.balance, format(%(note)s, c.folded), 'carried', FALSE,
                       %(uid)s, %(uid)s, %(now)s, %(uid)s, %(now)s
                  FROM carried c
                  JOIN res_partner p ON p.id = c.partner_id
                RETURNING partner_id, (SELECT folded FROM carried c
                                        WHERE c.partner_id = lead_score_operation.partner_id
                                          AND c.group_id = lead_score_operation.group_id)
                """,
                ids=partner_ids,
                newest_first=newest_first("o"),
                cutoff=cutoff,
                now=now,
                every="every:%",
                decay=f"{DECAY_KEY_PREFIX}%",
                max=MAX_POINTS,
                uid=self.env.uid,
                note=_("Carried forward: the score made by %s older operations."),
            )
        )
        self.env["lead.score.operation"].invalidate_model()
        # Score history lines kept before a carried-forward set count no more:
        # their balances are replayed (the scores do not change).
        self.env["lead.score.ledger"]._replay_ledger(
            [partner_id for partner_id, _count in rows]
        )
        return rows
