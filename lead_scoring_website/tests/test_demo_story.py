# Copyright 2026 Lead Scoring contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo.tests import tagged

from .common import FormScoringCase
from .test_form_attacks import IP_LIMIT_PARAM


@tagged("post_install", "-at_install")
class TestDemoRulesCannotBeFarmed(FormScoringCase):
    """The demo's rules on leads score what the sales team does, never what a
    visitor can repeat by posting the Contact Us form."""

    def test_twenty_posts_of_one_email_earn_no_rule_points(self):
        lead_rules = self.env.ref("lead_scoring.rule_engagement_lead") | self.env.ref(
            "lead_scoring.rule_demo_requested"
        )
        self.env["ir.config_parameter"].set_param(IP_LIMIT_PARAM, "1000")
        email = "stranger@example.com"
        leads = self.env["crm.lead"].concat(
            *(
                self.submit(email_from=email, name="Please give me a demo")
                for __ in range(20)
            )
        )
        # As on a database without the Leads step, where web leads are
        # opportunities from the start.
        leads.write({"type": "opportunity"})
        partner = self.env["res.partner"].search([("email", "=", email)])
        self.assertEqual(len(partner), 1)
        self.env["lead.score.run"]._run_rules(self.env["lead.score.rule"].search([]))
        farmed = self.Operation.search(
            [("partner_id", "=", partner.id), ("rule_id", "in", lead_rules.ids)]
        )
        self.assertFalse(farmed, "a visitor's posts earned rule points")
        self.assertEqual(partner.lead_score, 10, "the form's own points, once")

        # The team qualifying one of them scores it, once.
        leads[0].stage_id = self.env.ref("crm.stage_lead2")
        # A test is one transaction: the edit as a later one would date it.
        self.env.flush_all()
        self.env.cr.execute(
            "UPDATE crm_lead SET write_date = clock_timestamp() AT TIME ZONE 'UTC'"
            " WHERE id = %s",
            [leads[0].id],
        )
        self.env["lead.score.run"]._run_rules(self.env["lead.score.rule"].search([]))
        scored = self.Operation.search(
            [("partner_id", "=", partner.id), ("rule_id", "in", lead_rules.ids)]
        )
        self.assertEqual(
            scored.rule_id, self.env.ref("lead_scoring.rule_engagement_lead")
        )
        self.assertEqual(len(scored), 1)
