# Copyright 2026 Lead Scoring contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from datetime import timedelta

from odoo import fields
from odoo.exceptions import AccessError, ValidationError
from odoo.tests import new_test_user, tagged

from .common import MarketingCase


@tagged("post_install", "-at_install")
class TestServerAction(MarketingCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.grace = cls.env["res.partner"].create({"name": "Grace Hopper"})
        cls.lead = cls.env["crm.lead"].create(
            {"name": "Compiler project", "partner_id": cls.grace.id}
        )

    def test_action_scores_its_score_group(self):
        engagement = self.env["lead.score.group"].create({"name": "Engagement"})
        action = self.score_action()
        self.assertEqual(
            action.lead_score_group_id, self.env["lead.score.group"]._default_group()
        )
        action.lead_score_group_id = engagement
        self.run_on(action, self.partner)
        self.assertEqual(self.partner.lead_score_operation_ids.group_id, engagement)
        self.assertEqual(
            self.partner.lead_score_value_ids.mapped("group_id"), engagement
        )

    def test_action_on_contacts_scores_them(self):
        action = self.score_action(lead_score_note="Asked for a demo")
        self.run_on(action, self.partner)
        self.assertEqual(self.partner.lead_score, 15)
        operation = self.partner.lead_score_operation_ids
        self.assertRecordValues(
            operation,
            [
                {
                    "operation": "add",
                    "value": 15,
                    "source": "automation",
                    "res_model": "res.partner",
                    "res_id": self.partner.id,
                    "note": "Asked for a demo",
                }
            ],
        )

    def test_action_on_leads_scores_their_contact(self):
        action = self.score_action(model=self.model_lead)
        self.assertEqual(
            action.lead_score_partner_field_id,
            self.env.ref("crm.field_crm_lead__partner_id"),
        )
        self.run_on(action, self.lead)
        self.assertEqual(self.grace.lead_score, 15)
        self.assertEqual(self.partner.lead_score, 0)
        operation = self.grace.lead_score_operation_ids
        self.assertEqual(
            (operation.res_model, operation.res_id, operation.note),
            ("crm.lead", self.lead.id, "Engaged"),
        )

    def test_set_and_remove_operations(self):
        self.run_on(
            self.score_action(lead_score_operation="set", lead_score_value=-40),
            self.partner,
        )
        self.assertEqual(self.partner.lead_score, -40)
        self.run_on(
            self.score_action(lead_score_operation="remove", lead_score_value=5),
            self.partner,
        )
        self.assertEqual(self.partner.lead_score, -45)

    def test_action_menu_of_a_list_scores_the_selected_records(self):
        action = self.score_action()
        action.create_action()
        bindings = self.env["ir.actions.actions"].get_bindings("res.partner")
        self.assertIn(action.id, [binding["id"] for binding in bindings["action"]])
        selected = self.partner | self.grace
        other = self.env["res.partner"].create({"name": "Not selected"})
        self.run_on(action, selected)
        self.assertEqual(selected.mapped("lead_score"), [15, 15])
        self.assertEqual(other.lead_score, 0)

    def test_automation_rule_on_save_scores_the_lead_contact(self):
        action = self.score_action(model=self.model_lead)
        self.env["base.automation"].create(
            {
                "name": "Qualified leads score",
                "model_id": self.model_lead.id,
                "trigger": "on_create_or_write",
                "filter_domain": "[('priority', '=', '3')]",
                "action_server_ids": [(6, 0, action.ids)],
            }
        )
        self.lead.priority = "2"
        self.assertEqual(self.grace.lead_score, 0)
        self.lead.priority = "3"
        self.assertEqual(self.grace.lead_score, 15)

    def test_time_based_automation_rule_scores_once(self):
        action = self.score_action(model=self.model_lead, lead_score_value=7)
        self.env["base.automation"].create(
            {
                "name": "Deadline passed",
                "model_id": self.model_lead.id,
                "trigger": "on_time",
                "trg_date_id": self.env.ref("crm.field_crm_lead__date_deadline").id,
                "trg_date_range": 1,
                "trg_date_range_type": "day",
                "action_server_ids": [(6, 0, action.ids)],
            }
        )
        self.lead.date_deadline = fields.Date.today() - timedelta(days=3)
        later = self.env["crm.lead"].create(
            {
                "name": "Not yet",
                "partner_id": self.partner.id,
                "date_deadline": fields.Date.today() + timedelta(days=3),
            }
        )
        self.env["base.automation"]._check()
        self.assertEqual(self.grace.lead_score, 7)
        self.assertEqual(later.partner_id.lead_score, 0)
        self.env["base.automation"]._check()
        self.assertEqual(self.grace.lead_score, 7)

    def test_automation_oca_action_step_runs_the_action(self):
        action = self.score_action()
        configuration = self.env["automation.configuration"].create(
            {
                "name": "Welcome",
                "model_id": self.model_partner.id,
                "editable_domain": f"[('id', '=', {self.partner.id})]",
            }
        )
        self.env["automation.configuration.step"].create(
            {
                "name": "Score",
                "configuration_id": configuration.id,
                "step_type": "action",
                "server_action_id": action.id,
                "trigger_type": "start",
            }
        )
        configuration.start_automation()
        configuration.run_automation()
        self.env["automation.record.step"]._cron_automation_steps()
        self.assertEqual(self.partner.lead_score, 15)
        self.assertEqual(self.grace.lead_score, 0)

    def test_running_the_action_needs_the_lead_scoring_group(self):
        """Write access to contacts does not give the right to score them: a
        user without the group calling run() (RPC, Action menu) is refused."""
        clerk = new_test_user(
            self.env, "ls_clerk", groups="base.group_user,base.group_partner_manager"
        )
        scorer = new_test_user(
            self.env,
            "ls_scorer",
            groups="base.group_user,base.group_partner_manager,"
            "lead_scoring.group_lead_scoring_user",
        )
        action = self.score_action()
        wrapper = self.env["ir.actions.server"].create(
            {
                "name": "Several things",
                "model_id": self.model_partner.id,
                "state": "multi",
                "child_ids": [(6, 0, action.ids)],
            }
        )
        for runnable in (action, wrapper):
            with self.subTest(action=runnable.state):
                with self.assertRaisesRegex(AccessError, "Lead Scoring users"):
                    self.run_on(runnable.with_user(clerk), self.partner)
                self.assertEqual(self.partner.lead_score, 0)
                self.assertFalse(self.partner.lead_score_operation_ids)
        self.run_on(action.with_user(scorer), self.partner)
        self.assertEqual(self.partner.lead_score, 15)

    def test_automation_rule_scores_whoever_saves(self):
        """Automation rules run their actions as superuser: a salesperson
        without the group saving a lead still scores its contact."""
        salesperson = new_test_user(
            self.env, "ls_sales", groups="sales_team.group_sale_salesman_all_leads"
        )
        self.assertFalse(salesperson.has_group("lead_scoring.group_lead_scoring_user"))
        action = self.score_action(model=self.model_lead)
        self.env["base.automation"].create(
            {
                "name": "Qualified leads score",
                "model_id": self.model_lead.id,
                "trigger": "on_create_or_write",
                "filter_domain": "[('priority', '=', '3')]",
                "action_server_ids": [(6, 0, action.ids)],
            }
        )
        self.lead.with_user(salesperson).priority = "3"
        self.assertEqual(self.grace.lead_score, 15)

    def test_records_without_contact_are_skipped(self):
        action = self.score_action(model=self.model_lead)
        orphan = self.env["crm.lead"].create({"name": "No contact"})
        archived = self.env["res.partner"].create({"name": "Gone", "active": False})
        gone_lead = self.env["crm.lead"].create(
            {"name": "Archived contact", "partner_id": archived.id}
        )
        self.run_on(action, orphan | gone_lead | self.lead)
        self.assertEqual(self.grace.lead_score, 15)
        self.assertFalse(
            self.Operation.search([("res_id", "in", (orphan | gone_lead).ids)])
        )

    def test_model_without_contact_link_is_refused(self):
        with self.assertRaisesRegex(ValidationError, "do not point to a contact"):
            self.score_action(model=self.env.ref("base.model_res_country"))

    def test_contact_field_of_another_model_is_refused(self):
        with self.assertRaisesRegex(ValidationError, "holds the contact"):
            self.score_action(
                model=self.model_lead,
                lead_score_partner_field_id=self.env.ref(
                    "base.field_res_users__partner_id"
                ).id,
            )

    def test_bad_values_are_refused(self):
        for operation, value in [
            ("add", -5),
            ("remove", 2_000_000),
            ("set", -2_000_000),
        ]:
            with self.subTest(operation=operation, value=value):
                with self.assertRaisesRegex(ValidationError, "out of range"):
                    self.score_action(
                        lead_score_operation=operation, lead_score_value=value
                    )

    def test_only_models_linked_to_contacts_are_offered(self):
        action = self.score_action()
        self.assertIn(self.model_lead, action.available_model_ids)
        self.assertIn(self.model_partner, action.available_model_ids)
        self.assertNotIn(
            self.env.ref("base.model_res_country"), action.available_model_ids
        )

    def test_action_form_shows_the_score_settings(self):
        arch = self.env["ir.actions.server"].get_view(
            self.env.ref("base.view_server_action_form").id
        )["arch"]
        for field_name in (
            "lead_score_partner_field_id",
            "lead_score_operation",
            "lead_score_value",
            "lead_score_note",
        ):
            self.assertIn(f'name="{field_name}"', arch)

    def test_other_action_types_keep_no_score_settings(self):
        action = self.score_action(model=self.model_lead, lead_score_note="x")
        action.state = "code"
        self.assertRecordValues(
            action,
            [
                {
                    "lead_score_operation": False,
                    "lead_score_value": 0,
                    "lead_score_note": False,
                    "lead_score_partner_field_id": False,
                }
            ],
        )
