# Copyright 2026 Lead Scoring contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The refresh of a run (see docs/engine.md for the words): the service
``lead.score.refresh``."""

import logging
import time
from functools import partial

from odoo import api, models
from odoo.tools import SQL

from ..models.lead_score_group import group_score
from .snippets import newest_line

_logger = logging.getLogger(__name__)

# Contacts whose scores are refreshed in one transaction. Their rows stay
# locked from the UPDATE of their scores (the batch's last big statement) to
# the commit, and someone saving one of them meanwhile is rolled back and
# retried by Odoo after a pause: the batch is as large as keeps that moment
# short. A batch that replays its contacts' ledgers (the queue_job glue's)
# locks them from its start, and one written through the ORM (an automation
# rule reacts to scores) takes far longer per contact: both are smaller.
REFRESH_CHUNK = 2000
REFRESH_CHUNK_REPLAY = 500
REFRESH_CHUNK_ORM = 200


class LeadScoreRefresh(models.AbstractModel):
    """The run's refresh: once the rules of a run recorded their lines, the
    scores of the contacts that got one are written.

    - :meth:`_refresh_run` goes through the contacts that the run of
      ``rules`` gave a line, each once, in contact order, a batch of
      :meth:`_refresh_chunk` contacts per committed transaction; its position
      is kept on the rules (``refresh_date``, ``refresh_cursor``), saved with
      each batch, so that a refresh stopped by a deadline, a time limit or a
      crash goes on from there. A batch whose contacts stay busy is left as
      it is: their scores are written with their next line.
    - :meth:`_refresh_contacts` and :meth:`_refresh_in_chunks` store the
      scores of a list of contacts (their ledgers replayed where a balance is
      missing), for the run and for the other jobs (decay).
    - :meth:`_scores_behind_lines` finds the contacts whose stored score is
      not their ledger's balance.
    """

    _name = "lead.score.refresh"
    _description = "Lead scoring: the refresh of a run's scores"

    @api.model
    def _refresh_pending(self, rules):
        """The date of the run of ``rules`` whose scores are still being
        refreshed, if any (see _refresh_run)."""
        return max(filter(None, rules.mapped("refresh_date")), default=False)

    @api.model
    def _refresh_run(self, rules, commit, deadline, stats):
        """Once ``rules`` recorded their lines, refresh the scores of the
        contacts that the run gave one, in contact order, a batch per
        transaction; the position is saved with each batch, so that a run
        stopped by ``deadline``, a time limit or a crash goes on from there.
        Each contact is refreshed once per run, however many rules scored
        it. Returns whether the refresh is over."""
        run_date = self._refresh_pending(rules)
        ledger = self.env["lead.score.ledger"].sudo()
        engine = self.env["lead.score.engine"]
        size = self._refresh_chunk()
        while run_date:
            round_start = time.monotonic()
            cursor = max(rules.mapped("refresh_cursor"))
            batch = ledger._contacts_dated(run_date, cursor, size)
            if not batch:
                break

            def refresh(batch=batch):
                # Before the scores, which lock the contacts until the commit.
                rules.sudo().write({"refresh_cursor": batch[-1]})
                rules.flush_recordset(["refresh_cursor"])
                self._refresh_contacts(rules, batch, values_current=True)

            done, _result = engine._retry_when_busy(refresh, commit)
            if not done:
                # Saved meanwhile, again and again: their scores are written
                # with their next line.
                _logger.warning(
                    "Lead scoring: contacts %s-%s busy, scores left as they are",
                    batch[0],
                    batch[-1],
                )
                rules.sudo().write({"refresh_cursor": batch[-1]})
                engine._commit(commit)
            stats["chunks"] = stats.get("chunks", 0) + 1
            if self.env["lead.score.run"]._past(rules, deadline, round_start):
                return False
        return True

    @api.model
    def _refresh_contacts(self, rules, partner_ids, values_current=False):
        """Store these contacts' scores (their ledgers replayed where a
        balance is missing), holding their rows no longer than the statement
        takes to wait (LOCK_TIMEOUT); ``rules``: those of the run, if any
        (see _engine_since); ``values_current``: see
        lead.score.ledger._refresh_scores."""
        ledger = self.env["lead.score.ledger"].sudo()
        with self.env["lead.score.engine"]._waiting_briefly():
            ledger._refresh_scores(
                partner_ids,
                flush=True,
                replay=ledger._unbalanced(partner_ids),
                engine_since=self._engine_since(rules),
                values_current=values_current,
            )

    @api.model
    def _refresh_in_chunks(self, rules, partner_ids, commit):
        """Store these contacts' scores, a batch at a time: each batch locks
        its contacts for a short transaction, tried again a few times when
        someone is saving one of them (then left as it is)."""
        partner_ids = sorted(partner_ids)
        size = self._refresh_chunk()
        for start in range(0, len(partner_ids), size):
            batch = partner_ids[start : start + size]
            self.env["lead.score.engine"]._retry_when_busy(
                partial(self._refresh_contacts, rules, batch), commit
            )

    @api.model
    def _refresh_chunk(self, replay=False):
        """How many contacts a refresh transaction stores (see REFRESH_CHUNK);
        ``replay``: it replays their ledgers."""
        if self.env["lead.score.writer"]._lead_score_watched():
            return REFRESH_CHUNK_ORM
        return REFRESH_CHUNK_REPLAY if replay else REFRESH_CHUNK

    @api.model
    def _engine_since(self, rules):
        """When the run of ``rules`` started (see
        lead.score.writer._store_lead_scores); the epoch outside a run (decay ...)."""
        return min(filter(None, rules.mapped("pass_start")), default="-infinity")

    @api.model
    def _scores_behind_lines(self, condition):
        """Contacts with a line ``o`` meeting ``condition`` whose stored score
        is not their ledger's balance."""
        self.env["res.partner"].flush_model(["lead_score", "lead_score_objection"])
        with self.env["lead.score.engine"]._local_setting(
            "jit", "off"
        ):  # see lead.score.ledger._refresh_scores
            return self._scores_behind_query(condition)

    @api.model
    def _scores_behind_query(self, condition):
        self.env.cr.execute(
            SQL(
                """
                SELECT p.id
                  FROM res_partner p
                 WHERE p.id IN (SELECT o.partner_id FROM lead_score_operation o
                                 WHERE %s)
                   -- Per score group: the stored score, the ledger's balance.
                   AND EXISTS (
                        SELECT 1 FROM lead_score_group g
                          JOIN LATERAL (%s) last ON TRUE
                          LEFT JOIN lead_score_value v
                                 ON v.partner_id = p.id AND v.group_id = g.id
                         WHERE v.score IS DISTINCT FROM %s)
                """,
                condition,
                newest_line(SQL("p.id"), SQL("g.id")),
                group_score(SQL("last.balance")),
            )
        )
        return {row[0] for row in self.env.cr.fetchall()}
