# Copyright 2026 Lead Scoring contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The queue jobs of a run (see lead_score_run.py): methods of the rules,
since queue_job keeps a job's model, records and method, so that jobs queued
before an update still run after it."""

from odoo import api, models


class LeadScoreRule(models.Model):
    _inherit = "lead.score.rule"

    def _job_run_chunk(self):
        """One chunk of this rule's run, then the next one is queued."""
        self.ensure_one()
        return self.env["lead.score.run"]._run_queued_chunk(self)

    @api.model
    def _job_refresh_scores(self, partner_ids, engine_since="-infinity"):
        with self.env["lead.score.engine"]._waiting_briefly():
            self.env["lead.score.ledger"].sudo()._refresh_scores(
                partner_ids, flush=True, engine_since=engine_since
            )
        return True
