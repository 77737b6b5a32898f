# Copyright 2026 Lead Scoring contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Speed to lead: Odoo's own lead assignment routes leads by their contact's
score, and an automation rule on a tier change tells another system through
Odoo's webhook action."""

import json
from unittest.mock import patch

import requests

from odoo import Command
from odoo.exceptions import ValidationError
from odoo.tests import new_test_user, tagged

from odoo.addons.lead_scoring.tests.test_grade import grade_groups

from .common import MarketingCase

HOOK_URL = "https://crm.example.com/hooks/lead-tier"


@tagged("post_install", "-at_install")
class TestAssignmentByScore(MarketingCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        Group = cls.env["lead.score.group"]
        Group.search([("is_default", "=", False)]).write({"active": False})
        fit, engagement = Group.create([{"name": "Fit"}, {"name": "Engagement"}])
        cls.Tier.create(
            [
                {"name": "Ideal", "min_score": 30, "group_id": fit.id},
                {"name": "Engaged", "min_score": 50, "group_id": engagement.id},
            ]
        )
        grade_groups(cls.env, fit, engagement)
        cls.hot = cls.Tier.create({"name": "Hot", "min_score": 200})
        Partner = cls.env["res.partner"]
        cls.hot_contact, cls.a_contact, cls.cold_contact = Partner.create(
            [
                {"name": "Hot Contact", "email": "hot@example.com"},
                {"name": "A-grade Contact", "email": "a@example.com"},
                {"name": "Cold Contact", "email": "cold@example.com"},
            ]
        )
        cls.add_points(cls.hot_contact, 250)
        cls.add_points(cls.a_contact, 35, fit)
        cls.add_points(cls.a_contact, 60, engagement)
        cls.add_points(cls.cold_contact, 5)
        cls.sales_manager = new_test_user(
            cls.env,
            "ls_sales_manager",
            groups="sales_team.group_sale_manager,lead_scoring.group_lead_scoring_user",
        )
        salesman = "sales_team.group_sale_salesman"
        cls.senior = new_test_user(cls.env, "ls_senior", groups=salesman)
        cls.junior = new_test_user(cls.env, "ls_junior", groups=salesman)
        # Only the test's leads wait for a team (demo data may add others).
        cls.env["crm.lead"].search(
            [("team_id", "=", False), ("user_id", "=", False)]
        ).active = False
        cls.team = cls.env["crm.team"].create(
            {"name": "Inside Sales", "use_leads": True, "use_opportunities": True}
        )
        cls.hot_or_a = [
            "|",
            ("partner_lead_score_tier_id", "=", cls.hot.id),
            ("partner_lead_score_grade", "in", ["A1", "A2"]),
        ]
        cls.senior_member, cls.junior_member = cls.env["crm.team.member"].create(
            [
                # 90 leads in 30 days: 3 a day.
                {"crm_team_id": cls.team.id, "user_id": user.id, "assignment_max": 90}
                for user in (cls.senior, cls.junior)
            ]
        )

    @classmethod
    def add_points(cls, partner, value, group=None):
        cls.Operation.create(
            {
                "partner_id": partner.id,
                "operation": "add",
                "value": value,
                "source": "api",
                "group_id": group.id if group else False,
            }
        )

    def new_leads(self):
        return self.env["crm.lead"].create(
            [
                {
                    "name": f"Lead of {partner.name}",
                    "partner_id": partner.id,
                    "type": "lead",
                    "user_id": False,
                    "team_id": False,
                }
                for partner in (self.hot_contact, self.a_contact, self.cold_contact)
            ]
        )

    def test_hot_and_a_grade_leads_go_to_the_senior_member(self):
        self.assertEqual(self.hot_contact.lead_score_tier_id, self.hot)
        self.assertEqual(self.a_contact.lead_score_grade, "A1")
        self.assertNotEqual(self.a_contact.lead_score_tier_id, self.hot)
        # A sales manager who is a Lead Scoring user saves the domains that the
        # member form's domain editor builds on the lead's contact fields.
        self.senior_member.with_user(self.sales_manager).assignment_domain = str(
            self.hot_or_a
        )
        self.junior_member.with_user(self.sales_manager).assignment_domain = str(
            ["!", *self.hot_or_a]
        )
        leads = self.new_leads()
        self.team.with_user(self.sales_manager)._action_assign_leads(
            force_quota=True, creation_delta_days=0
        )
        by_user = {lead.partner_id: lead.user_id for lead in leads}
        self.assertEqual(by_user[self.hot_contact], self.senior)
        self.assertEqual(by_user[self.a_contact], self.senior)
        self.assertEqual(by_user[self.cold_contact], self.junior)
        self.assertEqual(set(leads.mapped("team_id")), {self.team})

    def test_the_scheduled_assignment_routes_hot_leads_to_the_senior_team(self):
        # A team's domain: the hot leads go to the senior team, the others to
        # the juniors'; the scheduled job runs as the superuser.
        self.team.write(
            {"assignment_domain": str(self.hot_or_a), "name": "Senior Team"}
        )
        self.junior_member.unlink()
        juniors = self.env["crm.team"].create(
            {
                "name": "Junior Team",
                "use_leads": True,
                "assignment_domain": str(["!", *self.hot_or_a]),
                "crm_team_member_ids": [
                    Command.create({"user_id": self.junior.id, "assignment_max": 90})
                ],
            }
        )
        # Only these two teams take part (demo data may add others).
        others = self.env["crm.team"].search(
            [("id", "not in", (self.team | juniors).ids)]
        )
        others.write({"assignment_optout": True})
        leads = self.new_leads()
        self.env["crm.team"]._cron_assign_leads(force_quota=True)
        by_team = {lead.partner_id: (lead.team_id, lead.user_id) for lead in leads}
        self.assertEqual(by_team[self.hot_contact], (self.team, self.senior))
        self.assertEqual(by_team[self.a_contact], (self.team, self.senior))
        self.assertEqual(by_team[self.cold_contact], (juniors, self.junior))


@tagged("post_install", "-at_install")
class TestTierWebhook(MarketingCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.cold = cls.Tier.create({"name": "Cold", "min_score": 0})
        cls.hot = cls.Tier.create({"name": "Hot", "min_score": 50})
        cls.contact = cls.env["res.partner"].create(
            {"name": "Grace Hopper", "email": "grace@example.com"}
        )
        cls.other = cls.env["res.partner"].create({"name": "Someone else"})
        fields = cls.env["ir.model.fields"]
        cls.tier_field = fields._get("res.partner", "lead_score_tier_id")
        cls.score_field = fields._get("res.partner", "lead_score")
        automation = cls.env["base.automation"].create(
            {
                "name": "Tell the marketing system of tier changes",
                "model_id": cls.model_partner.id,
                "trigger": "on_create_or_write",
                "trigger_field_ids": [Command.set(cls.tier_field.ids)],
            }
        )
        # As an administrator picks them in the action's form: the tier and
        # the score, though only Lead Scoring users see them on screen.
        cls.webhook = cls.env["ir.actions.server"].create(
            {
                "name": "Send the new tier",
                "model_id": cls.model_partner.id,
                "usage": "base_automation",
                "base_automation_id": automation.id,
                "state": "webhook",
                "webhook_url": HOOK_URL,
                "webhook_field_ids": [
                    Command.set((cls.tier_field | cls.score_field).ids)
                ],
            }
        )

    def calls(self):
        """Run the test's body, recording the webhook's requests."""
        sent = []

        def post(url, data=None, **kwargs):
            sent.append((url, json.loads(data)))
            response = requests.Response()
            response.status_code = 200
            return response

        return sent, patch.object(requests, "post", post)

    def test_a_manual_adjustment_into_hot_calls_the_webhook_once(self):
        sent, patched = self.calls()
        with patched:
            self.env["lead.score.adjust"].create(
                {
                    "partner_ids": [Command.set(self.contact.ids)],
                    "value": 60,
                    "note": "Asked for a demo on the phone",
                }
            ).action_apply()
            self.env.flush_all()
        self.assertEqual(self.contact.lead_score_tier_id, self.hot)
        self.assertEqual(len(sent), 1)
        url, payload = sent[0]
        self.assertEqual(url, HOOK_URL)
        self.assertEqual(payload["_id"], self.contact.id)
        self.assertEqual(payload["_model"], "res.partner")
        self.assertEqual(payload["lead_score_tier_id"], self.hot.id)
        self.assertEqual(payload["lead_score"], 60)
        # Points within the tier: no call.
        with patched:
            self.add(self.contact, "add", 5)
            self.env.flush_all()
        self.assertEqual(len(sent), 1)

    def test_a_rule_run_moving_the_tier_calls_the_webhook_once_per_contact(self):
        self.assertTrue(self.env["lead.score.writer"]._lead_score_watched())
        self.Rule.create(
            {
                "name": "Demo requested",
                "operation": "add",
                "value": 70,
                "domain": f"[('id', '=', {self.contact.id})]",
            }
        )
        sent, patched = self.calls()
        with patched:
            self.env["lead.score.run"]._cron_apply_rules()
            self.env.flush_all()
        self.assertEqual(self.contact.lead_score_tier_id, self.hot)
        self.assertEqual(
            [(payload["_id"], payload["lead_score_tier_id"]) for _url, payload in sent],
            [(self.contact.id, self.hot.id)],
        )

    def test_other_restricted_fields_stay_out_of_webhooks(self):
        # Odoo's protection holds for every other field a group restricts.
        restricted = self.env["ir.model.fields"]._get("res.partner", "lead_score_date")
        with self.assertRaises(ValidationError):
            self.webhook.webhook_field_ids = [Command.link(restricted.id)]
