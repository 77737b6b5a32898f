# Copyright 2026 Lead Scoring contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import fields, models

from .lead_score_form_setting import CEILING_PARAM, DEFAULT_CEILING


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    lead_score_form_max_points = fields.Integer(
        string="Most points a designer may give",
        config_parameter=CEILING_PARAM,
        default=DEFAULT_CEILING,
        help="Website designers set a form's points up to this many (either way); "
        "above it, a Lead Scoring manager sets them.",
    )
    lead_score_form_held_count = fields.Integer(
        string="Held form submissions", compute="_compute_lead_score_form_held_count"
    )

    def _compute_lead_score_form_held_count(self):
        count = self.env["lead.score.form.held"].sudo().search_count([])
        for settings in self:
            settings.lead_score_form_held_count = count
