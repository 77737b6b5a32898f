# Copyright 2026 Lead Scoring contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Email marketers and campaign designers do their work without being Lead
Scoring users; engagement credits the trace's own company's contact. Made as
an attacker would, through the external API (XML-RPC)."""

from odoo import Command
from odoo.tests import tagged

from odoo.addons.lead_scoring.tests.common import load_migration
from odoo.addons.lead_scoring.tests.test_security import ApiCase

from .test_mailing_engagement import EngagementCase

SCORE_USER = "lead_scoring.group_lead_scoring_user"


@tagged("post_install", "-at_install")
class TestMarketersAreNoScorers(ApiCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.marketer = cls.new_user(
            "ls_sec_marketer", "mass_mailing.group_mass_mailing_user"
        )
        cls.designer = cls.new_user(
            "ls_sec_designer", "automation_oca.group_automation_manager"
        )
        cls.group = cls.env["lead.score.group"].create({"name": "Engagement"})
        cls.env["lead.score.tier"].search([]).unlink()
        cls.hot = cls.env["lead.score.tier"].create({"name": "Hot", "min_score": 100})
        cls.line = cls.Operation.create(
            {"partner_id": cls.partner.id, "value": 150, "note": "Secret-call-note"}
        )

    def test_a_marketer_is_no_lead_scoring_user(self):
        for user in (self.marketer, self.designer):
            with self.subTest(user=user.login):
                self.assertFalse(user.has_group(SCORE_USER))
                self.assertRefused(
                    user, "lead.score.operation", "search_read", [], ["note"]
                )
                self.assertRefused(
                    user, "lead.score.operation", "read", [self.line.id], ["note"]
                )
                self.assertRefused(
                    user,
                    "res.partner",
                    "read",
                    [self.partner.id],
                    ["lead_score_operation_ids"],
                )
                self.assertRefused(user, "lead.score.value", "search_read", [], [])
                self.assertRefused(
                    user, "lead.score.breakdown", "search_read", [], ["points"]
                )
                self.assertRefused(
                    user,
                    "res.partner",
                    "read",
                    [self.partner.id],
                    ["lead_score_objection"],
                )
                self.assertRefused(
                    user,
                    "lead.score.operation",
                    "create",
                    {"partner_id": self.partner.id, "value": 5},
                )
        self.assertEqual(self.partner.lead_score, 150)

    def test_a_marketer_targets_by_score_and_sets_a_mailing_s_points(self):
        groups = self.call(
            self.marketer, "lead.score.group", "name_search", "Engagement"
        )
        self.assertIn(self.group.id, [row[0] for row in groups])
        mailing_id = self.call(
            self.marketer,
            "mailing.mailing",
            "create",
            {
                "subject": "For our best contacts",
                "mailing_model_id": self.env.ref("base.model_res_partner").id,
                "mailing_domain": "[('lead_score', '>=', 100)]",
                "lead_score_group_id": self.group.id,
                "lead_score_custom_points": True,
                "lead_score_click_points": 8,
            },
        )
        mailing = self.env["mailing.mailing"].browse(mailing_id)
        self.assertEqual(mailing.lead_score_group_id, self.group)
        recipients = set(mailing.with_user(self.marketer)._get_recipients())
        self.assertIn(self.partner.id, recipients)
        found = self.call(
            self.marketer,
            "res.partner",
            "search_read",
            [("lead_score_tier_id.min_score", ">=", 100)],
            ["lead_score", "lead_score_tier_id"],
        )
        self.assertIn(
            (self.partner.id, 150, self.hot.id),
            [
                (row["id"], row["lead_score"], row["lead_score_tier_id"][0])
                for row in found
            ],
        )
        # The mailing form shows its Lead Scoring settings to the marketer.
        arch = self.call(
            self.marketer, "mailing.mailing", "get_views", [[False, "form"]]
        )["views"]["form"]["arch"]
        self.assertIn("lead_score_group_id", arch)

    def test_a_campaign_designer_sets_a_scoring_step(self):
        configuration_id = self.call(
            self.designer,
            "automation.configuration",
            "create",
            {
                "name": "Nurture",
                "model_id": self.env.ref("base.model_res_partner").id,
                "editable_domain": "[('lead_score', '>=', 100)]",
            },
        )
        # Its audience, by score, counted with the designer's rights.
        self.call(
            self.designer,
            "automation.configuration",
            "read",
            [configuration_id],
            ["record_count"],
        )
        step_id = self.call(
            self.designer,
            "automation.configuration.step",
            "create",
            {
                "name": "Engaged",
                "configuration_id": configuration_id,
                "step_type": "lead_score",
                "lead_score_value": 12,
                "lead_score_group_id": self.group.id,
            },
        )
        step = self.env["automation.configuration.step"].browse(step_id)
        self.assertEqual(
            (step.lead_score_value, step.lead_score_group_id), (12, self.group)
        )
        self.assertTrue(
            self.call(
                self.designer, "lead.score.group", "read", [self.group.id], ["name"]
            )
        )


@tagged("post_install", "-at_install")
class TestUpgradeTakesTheImplicationAway(ApiCase):
    def test_the_migration_removes_it_from_existing_databases(self):
        marketers = self.env.ref("mass_mailing.group_mass_mailing_user")
        scorers = self.env.ref(SCORE_USER)
        self.assertNotIn(scorers, marketers.implied_ids)
        # A database of an earlier version: the implication, and its effect.
        marketers.implied_ids += scorers
        marketer = self.new_user(
            "ls_sec_old_marketer", "mass_mailing.group_mass_mailing_user"
        )
        manager_marketer = self.new_user(
            "ls_sec_old_manager",
            "mass_mailing.group_mass_mailing_user,"
            "lead_scoring.group_lead_scoring_manager",
        )
        self.assertTrue(marketer.has_group(SCORE_USER))
        module = load_migration("lead_scoring_marketing", "18.0.1.2.0")
        module.migrate(self.env.cr, "18.0.1.1.0")
        self.env.invalidate_all()
        self.assertNotIn(scorers, marketers.implied_ids)
        self.assertFalse(marketer.has_group(SCORE_USER))
        self.assertTrue(manager_marketer.has_group(SCORE_USER))
        self.assertTrue(
            manager_marketer.has_group("lead_scoring.group_lead_scoring_manager")
        )
        self.assertRefused(
            marketer, "lead.score.operation", "search_read", [], ["note"]
        )


@tagged("post_install", "-at_install")
class TestEngagementCreditsTheTraceCompany(EngagementCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Trace._lead_score_engagement()
        cls.company_a = cls.env.company
        cls.company_b = cls.env["res.company"].create({"name": "Company B"})
        # Company B's contact has the lower id.
        cls.theirs = cls.env["res.partner"].create(
            {
                "name": "Sam (B)",
                "email": "sam@example.com",
                "company_id": cls.company_b.id,
            }
        )
        cls.ours = cls.env["res.partner"].create(
            {
                "name": "Sam (A)",
                "email": "sam@example.com",
                "company_id": cls.company_a.id,
            }
        )
        cls.list = cls.env["mailing.list"].create({"name": "Newsletter"})
        cls.subscriber = cls.env["mailing.contact"].create(
            {
                "name": "Sam",
                "email": "sam@example.com",
                "subscription_ids": [Command.create({"list_id": cls.list.id})],
            }
        )

    def list_mailing(self, company):
        responsible = self.env["res.users"].create(
            {
                "name": f"Marketer of {company.name}",
                "login": f"marketer-{company.id}",
                "company_id": company.id,
                "company_ids": [Command.set(company.ids)],
            }
        )
        return self.new_mailing(
            f"News of {company.name}",
            mailing_model_id=self.env.ref("mass_mailing.model_mailing_list").id,
            contact_list_ids=[Command.link(self.list.id)],
            user_id=responsible.id,
        )

    def test_a_list_recipient_credits_the_mailing_s_company_contact(self):
        self.trace(
            self.subscriber, mailing=self.list_mailing(self.company_a)
        ).set_opened()
        self.Trace._lead_score_engagement()
        self.assertEqual(self.ours.lead_score, 2)
        self.assertEqual(self.theirs.lead_score, 0)
        self.trace(
            self.subscriber, mailing=self.list_mailing(self.company_b)
        ).set_clicked()
        self.Trace._lead_score_engagement()
        self.assertEqual(self.theirs.lead_score, 3)
        self.assertEqual(self.ours.lead_score, 2)

    def test_a_document_without_contact_credits_its_company_s_contact(self):
        # Company B's contact now has the higher id.
        self.theirs.active = False
        theirs = self.env["res.partner"].create(
            {
                "name": "Sam (B)",
                "email": "sam@example.com",
                "company_id": self.company_b.id,
            }
        )
        lead = self.env["crm.lead"].create(
            {
                "name": "Sam's request",
                "email_from": "sam@example.com",
                "company_id": self.company_b.id,
            }
        )
        lead.partner_id = False
        mailing = self.new_mailing(
            "Leads news", mailing_model_id=self.env.ref("crm.model_crm_lead").id
        )
        self.trace(lead, mailing=mailing, email="sam@example.com").set_opened()
        self.Trace._lead_score_engagement()
        self.assertEqual(theirs.lead_score, 2)
        self.assertEqual(self.ours.lead_score, 0)

    def test_no_company_contact_falls_back_to_a_shared_one_only(self):
        shared = self.env["res.partner"].create(
            {"name": "Sam (shared)", "email": "sam@example.com"}
        )
        self.ours.active = False
        self.trace(
            self.subscriber, mailing=self.list_mailing(self.company_a)
        ).set_opened()
        self.Trace._lead_score_engagement()
        self.assertEqual(shared.lead_score, 2)
        self.assertEqual(self.theirs.lead_score, 0)
