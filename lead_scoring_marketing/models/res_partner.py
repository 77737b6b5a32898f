# Copyright 2026 Lead Scoring contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import fields, models


class ResPartner(models.Model):
    _inherit = "res.partner"

    # The tier is computed with the score, by the same method. Computed apart,
    # it could be computed from the score before the score itself: an
    # automation rule whose condition reads the tier (the Hot notification)
    # reads it while the score is being computed, and the tier stayed behind.
    # Computed together, both are protected during the computation: automation
    # rules read their values before, then after, as "crossing" rules need.
    lead_score_tier_id = fields.Many2one(compute="_compute_lead_score")

    def _compute_lead_score(self):
        result = super()._compute_lead_score()
        tiers = (
            self.env["lead.score.tier"]
            .sudo()
            ._tier_for_scores(self.mapped("lead_score"))
        )
        for partner in self:
            partner.lead_score_tier_id = tiers[partner.lead_score]
        return result
