# Copyright 2026 Lead Scoring contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import fields, models


class LeadScoreMailingWatermark(models.Model):
    """Until when the email engagement job has scored: one row, written in the
    transaction that records the lines, so that a run that fails or is skipped
    leaves it where it was. (A system parameter would empty every worker's
    caches at each run.)"""

    _name = "lead.score.mailing.watermark"
    _description = "Lead Score: email engagement scored until"

    scored_until = fields.Datetime(required=True, readonly=True)
