# Copyright 2026 Lead Scoring contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from datetime import timedelta

from odoo import fields
from odoo.tests import HttpCase, new_test_user, tagged


@tagged("post_install", "-at_install")
class TestPageVisits(HttpCase):
    # Page views are only recorded on a read/write cursor, as in production
    # without a read-only replica.
    readonly_enabled = False

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(context=dict(cls.env.context, tracking_disable=True))
        cls.Rule = cls.env["lead.score.rule"]
        cls.Rule.search([]).write({"active": False})
        cls.website = cls.env["website"].get_current_website()
        cls.pricing = cls.env["website.page"].create(
            {
                "name": "Pricing",
                "url": "/pricing",
                "website_id": cls.website.id,
                "type": "qweb",
                "is_published": True,
                "track": True,
                "arch": '<t t-call="website.layout"><div id="wrap">Prices</div></t>',
            }
        )
        cls.ada, cls.bob = cls.env["res.partner"].create(
            [{"name": "Ada"}, {"name": "Bob"}]
        )

    def visit(self, partner, url="/pricing", days_ago=0, page=None):
        visitor = self.env["website.visitor"].search(
            [("partner_id", "=", partner.id)], limit=1
        ) or self.env["website.visitor"].create(
            {"access_token": str(partner.id), "website_id": self.website.id}
        )
        return self.env["website.track"].create(
            {
                "visitor_id": visitor.id,
                "url": f"http://localhost{url}",
                "page_id": (page or self.env["website.page"]).id,
                "visit_datetime": fields.Datetime.now() - timedelta(days=days_ago),
            }
        )

    def test_page_view_knows_its_contact(self):
        track = self.visit(self.ada)
        self.assertEqual(track.visitor_id.partner_id, self.ada)
        self.assertEqual(track.partner_id, self.ada)
        self.assertEqual(
            self.env["website.track"].search([("partner_id", "=", self.ada.id)]),
            track,
        )

    def test_logged_in_page_view_is_linked(self):
        # website records page views in SQL: the contact must still be set.
        user = new_test_user(self.env, "ls_visitor", groups="base.group_portal")
        self.authenticate("ls_visitor", "ls_visitor")
        self.assertEqual(self.url_open("/pricing").status_code, 200)
        track = self.env["website.track"].search([("page_id", "=", self.pricing.id)])
        self.assertEqual(track.partner_id, user.partner_id)

    def test_event_rule_scores_each_view_once(self):
        rule = self.env.ref("lead_scoring_website.rule_pricing_page_view")
        rule.active = True
        self.visit(self.ada)
        self.visit(self.ada, days_ago=1)
        self.visit(self.bob, url="/contactus")
        self.env["lead.score.run"]._run_rules(rule)
        self.env["lead.score.run"]._run_rules(rule)
        self.assertEqual(self.ada.lead_score, 10)
        self.assertEqual(self.bob.lead_score, 0)
        self.assertEqual(set(rule.operation_ids.mapped("res_model")), {"website.track"})

    def test_contact_rule_on_recent_visits(self):
        rule = self.env.ref("lead_scoring_website.rule_pricing_visited_recently")
        rule.active = True
        self.visit(self.ada, days_ago=2)
        self.visit(self.bob, days_ago=45)
        self.visit(self.bob, url="/contactus", days_ago=1)
        self.env["lead.score.run"]._run_rules(self.Rule.search([]))
        self.assertEqual(self.ada.lead_score, 20)
        self.assertEqual(self.bob.lead_score, 0)

    def test_page_counts_scored_contacts(self):
        rule = self.env.ref("lead_scoring_website.rule_pricing_page_view")
        rule.active = True
        self.visit(self.ada, page=self.pricing)
        self.visit(self.ada, page=self.pricing, days_ago=1)
        self.visit(self.bob, page=self.pricing)
        self.env["lead.score.run"]._run_rules(self.Rule.search([]))
        self.pricing.invalidate_recordset(["lead_score_partner_count"])
        self.assertEqual(self.pricing.lead_score_partner_count, 2)
        action = self.pricing.action_view_lead_score_operations()
        operations = self.env["lead.score.operation"].search(action["domain"])
        self.assertEqual(len(operations), 3)
