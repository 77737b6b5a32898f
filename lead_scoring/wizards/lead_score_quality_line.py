# Copyright 2026 Lead Scoring contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import fields, models


class LeadScoreQualityLine(models.TransientModel):
    """One tier or score band of a score quality report, for all teams or
    for one sales team."""

    _name = "lead.score.quality.line"
    _description = "Score Quality Figures"
    _order = "scope, kind desc, sequence, team_id"

    report_id = fields.Many2one(
        "lead.score.quality", required=True, ondelete="cascade", index=True
    )
    scope = fields.Selection(
        [("all", "All teams"), ("team", "Per sales team")], required=True
    )
    kind = fields.Selection(
        [("tier", "Tier"), ("band", "Score band")], string="By", required=True
    )
    sequence = fields.Integer()
    label = fields.Char(string="Tier or band", required=True)
    team_id = fields.Many2one("crm.team", string="Sales team")
    score_from = fields.Integer(string="From score")
    opportunity_count = fields.Integer(string="Opportunities")
    won_count = fields.Integer(string="Won")
    won_rate = fields.Float(string="Won rate (%)", digits=(16, 1), aggregator="avg")
    currency_id = fields.Many2one(related="report_id.currency_id")
    expected_revenue = fields.Monetary(string="Expected revenue")
    lift = fields.Float(
        digits=(16, 2),
        aggregator="avg",
        help="The won rate of this tier or band divided by the won rate of all the "
        "opportunities of its scope (all teams, or its sales team).",
    )
    won_share = fields.Float(
        string="Won at or above (%)",
        digits=(16, 1),
        aggregator=None,
        help="The share of the won opportunities whose score was at least this "
        "tier's or band's lowest score.",
    )
    lost_share = fields.Float(
        string="Lost at or above (%)",
        digits=(16, 1),
        aggregator=None,
        help="The share of the lost opportunities whose score was at least this "
        "tier's or band's lowest score.",
    )
