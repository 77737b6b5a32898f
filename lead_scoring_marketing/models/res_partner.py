# Copyright 2026 Lead Scoring contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import fields, models

# Email marketers and campaign designers filter recipients by score, tier and
# grade without being Lead Scoring users: they read these fields (and the
# score groups and tiers, see ir.model.access.csv), never a contact's score
# history, group scores or objection.
AUDIENCE_GROUPS = (
    "lead_scoring.group_lead_scoring_user,"
    "mass_mailing.group_mass_mailing_user,"
    "automation_oca.group_automation_user"
)


class ResPartner(models.Model):
    _inherit = "res.partner"

    lead_score = fields.Integer(groups=AUDIENCE_GROUPS)
    lead_score_tier_id = fields.Many2one(groups=AUDIENCE_GROUPS)
    lead_score_grade = fields.Char(groups=AUDIENCE_GROUPS)
