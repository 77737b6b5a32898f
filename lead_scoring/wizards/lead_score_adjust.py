# Copyright 2026 Lead Scoring contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, fields, models

from ..models.lead_score_operation import OPERATIONS


class LeadScoreAdjust(models.TransientModel):
    """Add, remove or set points by hand, with a note saying why."""

    _name = "lead.score.adjust"
    _description = "Adjust Lead Score"

    partner_ids = fields.Many2many("res.partner", string="Contacts", required=True)
    operation = fields.Selection(OPERATIONS, required=True, default="add")
    value = fields.Integer(string="Points", required=True, default=10)
    note = fields.Text(string="Internal note", required=True)
    partner_count = fields.Integer(compute="_compute_current_score")
    current_score = fields.Integer(compute="_compute_current_score")

    @api.depends("partner_ids")
    def _compute_current_score(self):
        for wizard in self:
            wizard.partner_count = len(wizard.partner_ids)
            wizard.current_score = wizard.partner_ids[:1].lead_score

    def action_apply(self):
        self.ensure_one()
        self.env["lead.score.operation"].create(
            [
                {
                    "partner_id": partner.id,
                    "operation": self.operation,
                    "value": self.value,
                    "note": self.note,
                    "source": "manual",
                }
                for partner in self.partner_ids
            ]
        )
        return {"type": "ir.actions.act_window_close"}
