# Copyright 2026 Lead Scoring contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, models


class LeadScoreOperation(models.Model):
    _inherit = "lead.score.operation"

    @api.model
    def _replay_ledger(self, partner_ids):
        """After a replay, mark what depends on the score and the tier (the
        copies on leads ...) for recomputation too: the scheduled runs and the
        mailing job insert operations in SQL, and the score alone is marked."""
        result = super()._replay_ledger(partner_ids)
        if partner_ids:
            partners = self.env["res.partner"].browse(partner_ids)
            partners.modified(["lead_score", "lead_score_tier_id"])
        return result
