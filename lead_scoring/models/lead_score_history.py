# Copyright 2026 Lead Scoring contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, fields, models, tools


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

    @api.model
    def get_chart_data(self, partner_id):
        """The score of a contact over time, as its chart draws it: the score
        in each group and the total at each day one of them changed, each
        carried forward to the next change and up to today (a day without a
        change keeps the score it had), and the tiers of the total.

        Read with the caller's rights: only Lead Scoring users, and only
        contacts and groups they may read."""
        partner = self.env["res.partner"].browse(partner_id)
        partner.check_access("read")
        rows = self.search_read(
            [("partner_id", "=", partner.id), ("group_id", "!=", False)],
            ["date", "group_id", "score"],
            order="date, group_id",
        )
        Group = self.env["lead.score.group"]
        total_group = Group._total_group()
        counted = total_group or Group.search([])
        groups = Group.browse(sorted({row["group_id"][0] for row in rows}))
        dates = sorted({row["date"] for row in rows})
        # In UTC, as the history dates the ledger's lines.
        today = fields.Datetime.now().date()
        if dates and dates[-1] < today:
            dates.append(today)
        by_day = {(row["date"], row["group_id"][0]): row["score"] for row in rows}
        series = {group: [] for group in groups}
        total = []
        current = dict.fromkeys(groups.ids, 0)
        for day in dates:
            day_total = 0
            for group in groups:
                current[group.id] = by_day.get((day, group.id), current[group.id])
                score = current[group.id]
                if group.use_cap:
                    score = max(group.score_min, min(group.score_max, score))
                series[group].append(score)
                if group in counted:
                    day_total += score
            total.append(day_total)
        tiers = self.env["lead.score.tier"].search(
            [("group_id", "=", Group._tier_group().id)], order="min_score"
        )
        return {
            "dates": [fields.Date.to_string(day) for day in dates],
            "total": total,
            "groups": [
                {"name": group.name, "scores": series[group]}
                for group in groups
                if len(groups) > 1 or group != total_group
            ],
            "tiers": [
                {"name": tier.name, "min_score": tier.min_score, "color": tier.color}
                for tier in tiers
            ],
        }
