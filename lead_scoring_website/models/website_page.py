# Copyright 2026 Lead Scoring contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import fields, models
from odoo.tools import SQL

SCORE_GROUP = "lead_scoring.group_lead_scoring_user"


class WebsitePage(models.Model):
    _inherit = "website.page"

    lead_score_partner_count = fields.Integer(
        string="Scored contacts",
        compute="_compute_lead_score_partner_count",
        groups=SCORE_GROUP,
        help="Contacts who earned points from a view of this page.",
    )

    def _compute_lead_score_partner_count(self):
        counts = {}
        page_ids = self.filtered("id").ids
        if page_ids:
            self.env["lead.score.operation"].flush_model(
                ["res_model", "res_id", "partner_id"]
            )
            self.env["website.track"].flush_model(["page_id"])
            self.env.cr.execute(
                SQL(
                    """
                    SELECT t.page_id, COUNT(DISTINCT o.partner_id)
                      FROM lead_score_operation o
                      JOIN website_track t ON t.id = o.res_id
                     WHERE o.res_model = 'website.track' AND t.page_id = ANY(%s)
                     GROUP BY t.page_id
                    """,
                    page_ids,
                )
            )
            counts = dict(self.env.cr.fetchall())
        for page in self:
            page.lead_score_partner_count = counts.get(page.id, 0)

    def action_view_lead_score_operations(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "lead_scoring.lead_score_operation_action"
        )
        # The operations, not the page's views: far fewer ids in the domain.
        self.env["lead.score.operation"].flush_model(["res_model", "res_id"])
        self.env.cr.execute(
            SQL(
                """
                SELECT o.id FROM lead_score_operation o
                  JOIN website_track t ON t.id = o.res_id
                 WHERE o.res_model = 'website.track' AND t.page_id = %s
                """,
                self.id,
            )
        )
        action["domain"] = [("id", "in", [row[0] for row in self.env.cr.fetchall()])]
        action["context"] = {}
        return action
