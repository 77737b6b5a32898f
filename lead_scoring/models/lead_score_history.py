# Copyright 2026 Lead Scoring contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import fields, models, tools


class LeadScoreHistory(models.Model):
    """A contact's score in each group at the end of each day it changed,
    from the balances of its ledger (what the score over time chart draws)."""

    _name = "lead.score.history"
    _description = "Lead Score History"
    _auto = False
    _order = "partner_id, date"
    _rec_name = "date"
    _depends = {
        "lead.score.operation": ["partner_id", "date", "balance", "group_id"],
        "res.partner": ["company_id"],
    }

    partner_id = fields.Many2one("res.partner", string="Contact", readonly=True)
    group_id = fields.Many2one("lead.score.group", string="Score group", readonly=True)
    company_id = fields.Many2one("res.company", readonly=True)
    date = fields.Date(readonly=True)
    score = fields.Integer(readonly=True, aggregator="avg")

    def init(self):
        tools.drop_view_if_exists(self.env.cr, self._table)
        # DISTINCT ON the contact first: asked for one contact, PostgreSQL
        # reads that contact's lines only.
        self.env.cr.execute(
            """
            CREATE VIEW lead_score_history AS
            SELECT DISTINCT ON (o.partner_id, o.group_id, o.date::date)
                   o.id, o.partner_id, o.group_id, p.company_id, o.date::date AS date,
                   o.balance AS score
              FROM lead_score_operation o
              JOIN res_partner p ON p.id = o.partner_id
             ORDER BY o.partner_id, o.group_id, o.date::date, o.date DESC, o.id DESC
            """
        )
