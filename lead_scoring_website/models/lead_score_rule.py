# Copyright 2026 Lead Scoring contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, models


class LeadScoreRule(models.Model):
    _inherit = "lead.score.rule"

    @api.model
    def _cron_apply_rules(self):
        # The scheduler runs every few minutes: it also drops the form
        # submission counts of past hours, which no limit reads any more.
        self.env["lead.score.form.ip"].sudo()._forget_past_hours()
        return super()._cron_apply_rules()
