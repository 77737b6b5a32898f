# Copyright 2026 Lead Scoring contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, models


class LeadScoreRule(models.Model):
    _inherit = "lead.score.rule"

    @api.model
    def _cron_apply_rules(self):
        # The scheduler runs every few minutes: it also forgets the website
        # forms' guards older than an hour, which nothing reads any more.
        self.env["lead.score.form.ip"].sudo()._forget_past()
        self.env["lead.score.form.email"].sudo()._forget_past()
        return super()._cron_apply_rules()
