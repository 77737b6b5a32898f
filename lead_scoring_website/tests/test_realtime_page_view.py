# Copyright 2026 Lead Scoring contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""A contact's page view asks for a run of the rules job as its request
commits (website records page views in SQL, out of the ORM's sight)."""

from odoo.tests import HttpCase, new_test_user, tagged


@tagged("post_install", "-at_install")
class TestRealtimePageView(HttpCase):
    # Page views are only recorded on a read/write cursor.
    readonly_enabled = False

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["lead.score.rule"].search([]).write({"active": False})
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
        cls.rule = cls.env.ref("lead_scoring_website.rule_pricing_page_view")
        cls.rule.active = True
        cls.cron = cls.env.ref("lead_scoring.ir_cron_apply_rules")

    def triggers(self):
        self.env.cr.execute(
            "SELECT count(*) FROM ir_cron_trigger WHERE cron_id = %s", [self.cron.id]
        )
        return self.env.cr.fetchone()[0]

    def test_a_contacts_page_view_asks_for_a_run(self):
        self.env.cr.execute(
            "DELETE FROM ir_cron_trigger WHERE cron_id = %s", [self.cron.id]
        )
        # An anonymous visitor's page view scores nobody: no run.
        self.assertEqual(self.url_open("/pricing").status_code, 200)
        self.assertEqual(self.triggers(), 0)
        user = new_test_user(self.env, "ls_rt_visitor", groups="base.group_portal")
        self.authenticate("ls_rt_visitor", "ls_rt_visitor")
        self.assertEqual(self.url_open("/pricing").status_code, 200)
        self.assertEqual(self.triggers(), 1)
        # The job that it triggers scores the view.
        self.env["lead.score.run"]._apply_rules_in_chunks()
        self.assertEqual(user.partner_id.lead_score, self.rule.value)
