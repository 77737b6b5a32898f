# Copyright 2026 Lead Scoring contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import Command, _, models


class LeadScoreQuality(models.TransientModel):
    _inherit = "lead.score.quality"

    def action_suggest_points(self):
        """Suggested points over this report's opportunities."""
        self.ensure_one()
        suggestion = self.env["lead.score.suggestion"].create(
            {
                "date_from": self.date_from,
                "date_to": self.date_to,
                "team_ids": [Command.set(self.team_ids.ids)],
            }
        )
        return {
            "type": "ir.actions.act_window",
            "res_model": "lead.score.suggestion",
            "res_id": suggestion.id,
            "view_mode": "form",
            "target": "current",
            "name": _("Suggested points"),
        }
