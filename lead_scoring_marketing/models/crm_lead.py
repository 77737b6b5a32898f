# Copyright 2026 Lead Scoring contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import fields, models

from .res_partner import AUDIENCE_GROUPS


class CrmLead(models.Model):
    _inherit = "crm.lead"

    # Mailings and campaigns on leads filter by their contact's score too.
    partner_lead_score = fields.Integer(groups=AUDIENCE_GROUPS)
    partner_lead_score_tier_id = fields.Many2one(groups=AUDIENCE_GROUPS)
    partner_lead_score_grade = fields.Char(groups=AUDIENCE_GROUPS)
