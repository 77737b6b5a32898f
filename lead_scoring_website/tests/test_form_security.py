# Copyright 2026 Lead Scoring contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Attacks on the form scoring settings and on the contact a web lead is
linked to, made through the external API and the website form as an
attacker would."""

import xmlrpc.client
from datetime import timedelta

from odoo.tests import new_test_user, tagged

from odoo.addons.lead_scoring.tests.common import load_migration
from odoo.addons.lead_scoring_website.models.lead_score_form_setting import (
    CEILING_PARAM,
)

from .common import FormScoringCase

MODEL = "lead.score.form.setting"


class ApiMixin:
    def call(self, user, model, method, *args, **kwargs):
        """A call as the external API makes it, with the user's password."""
        return self.xmlrpc_object.execute_kw(
            self.env.cr.dbname, user.id, user.login, model, method, list(args), kwargs
        )

    def assertRefused(self, user, model, method, *args, expect="", **kwargs):
        with self.assertRaises(xmlrpc.client.Fault) as error:
            self.call(user, model, method, *args, **kwargs)
        self.assertIn(expect, error.exception.faultString)
        return error.exception.faultString


@tagged("post_install", "-at_install")
class TestSettingBoundaries(ApiMixin, FormScoringCase):
    """A designer works on the websites of their companies only."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company = cls.website.company_id
        cls.other_company = cls.env["res.company"].create({"name": "Other company"})
        cls.sister = cls.env["website"].create(
            {"name": "Sister website", "company_id": cls.company.id}
        )
        cls.foreign = cls.env["website"].create(
            {"name": "Foreign website", "company_id": cls.other_company.id}
        )
        cls.designer = new_test_user(
            cls.env,
            "lsw_designer",
            password="lsw_designer",
            groups="base.group_user,website.group_website_designer",
            company_id=cls.company.id,
            company_ids=[cls.company.id],
        )
        cls.foreign_setting = cls.Setting.create(
            {
                "name": "Foreign form",
                "website_id": cls.foreign.id,
                "model_id": cls.lead_model.id,
                "value": 10,
                "note": "Foreign company's secret",
            }
        )
        cls.sister_setting = cls.Setting.create(
            {
                "name": "Sister form",
                "website_id": cls.sister.id,
                "model_id": cls.lead_model.id,
                "value": 10,
                "note": "Sister website's note",
            }
        )

    def editor(self, method, *args, website=None):
        website = website or self.website
        return self.call(
            self.designer,
            MODEL,
            method,
            *args,
            context={"website_id": website.id},
        )

    def test_designer_cannot_read_another_companys_setting(self):
        # Asked from their own website, or claiming to be on the other one.
        self.assertFalse(self.editor("editor_read", self.foreign_setting.id))
        fault = self.assertRefused(
            self.designer,
            MODEL,
            "editor_read",
            self.foreign_setting.id,
            expect="You cannot set up form scoring on this website.",
            context={"website_id": self.foreign.id},
        )
        self.assertNotIn("secret", fault)

    def test_designer_cannot_change_another_companys_setting(self):
        self.assertRefused(
            self.designer,
            MODEL,
            "editor_save",
            self.foreign_setting.id,
            "crm.lead",
            {"operation": "set", "value": "0", "note": "Hacked"},
            expect="You cannot set up form scoring on this website.",
            context={"website_id": self.foreign.id},
        )
        self.assertRefused(
            self.designer,
            MODEL,
            "editor_save",
            False,
            "crm.lead",
            {"operation": "add", "value": "10"},
            expect="You cannot set up form scoring on this website.",
            context={"website_id": self.foreign.id},
        )
        self.foreign_setting.invalidate_recordset()
        self.assertEqual(
            (self.foreign_setting.operation, self.foreign_setting.value),
            ("add", 10),
        )
        self.assertEqual(
            self.Setting.search([("website_id", "=", self.foreign.id)]),
            self.foreign_setting,
        )
        # From their own website, another website's setting is copied, never
        # changed.
        new_id = self.editor(
            "editor_save",
            self.foreign_setting.id,
            "crm.lead",
            {"operation": "set", "value": "0"},
        )
        self.assertNotEqual(new_id, self.foreign_setting.id)
        self.assertEqual(self.Setting.browse(new_id).website_id, self.website)
        self.assertEqual(self.foreign_setting.value, 10)

    def test_designer_cannot_move_a_setting_to_another_company(self):
        self.assertRefused(
            self.designer,
            MODEL,
            "write",
            [self.setting.id],
            {"website_id": self.foreign.id},
        )
        self.assertEqual(self.setting.website_id, self.website)
        # Within their company, they may.
        self.call(
            self.designer,
            MODEL,
            "write",
            [self.setting.id],
            {"website_id": self.sister.id},
        )
        self.assertEqual(self.setting.website_id, self.sister)

    def test_editor_reads_the_settings_of_its_website_only(self):
        # A form copied from the sister website starts without its setting.
        self.assertFalse(self.editor("editor_read", self.sister_setting.id))
        read = self.editor("editor_read", self.sister_setting.id, website=self.sister)
        self.assertEqual(read["note"], "Sister website's note")
        self.assertEqual(
            self.editor("editor_read", self.setting.id)["note"],
            "Filled in the contact form",
        )

    def test_forged_website_ids_are_refused(self):
        for website_id in (999999, -1):
            with self.subTest(website_id=website_id):
                self.assertRefused(
                    self.designer,
                    MODEL,
                    "editor_save",
                    False,
                    "crm.lead",
                    {"operation": "add", "value": "10"},
                    context={"website_id": website_id},
                )


@tagged("post_install", "-at_install")
class TestPointsCeiling(ApiMixin, FormScoringCase):
    """A website designer gives a form up to the ceiling's points."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.designer = new_test_user(
            cls.env,
            "lsw_designer",
            password="lsw_designer",
            groups="base.group_user,website.group_website_designer",
        )
        cls.manager = new_test_user(
            cls.env,
            "lsw_manager",
            password="lsw_manager",
            groups="base.group_user,website.group_website_designer,"
            "lead_scoring.group_lead_scoring_manager",
        )

    def save(self, user, setting_id, **values):
        return self.call(
            user,
            MODEL,
            "editor_save",
            setting_id,
            "crm.lead",
            {"operation": "add", **values},
            context={"website_id": self.website.id},
        )

    def test_designer_gives_up_to_the_ceiling(self):
        setting_id = self.save(self.designer, False, value="50")
        self.assertEqual(self.Setting.browse(setting_id).value, 50)
        for values in (
            {"value": "51"},
            {"value": "1000"},
            {"operation": "set", "value": "-60"},
        ):
            with self.subTest(values=values):
                self.assertRefused(
                    self.designer,
                    MODEL,
                    "editor_save",
                    setting_id,
                    "crm.lead",
                    values,
                    expect="Only a Lead Scoring manager can make a form worth "
                    "more than 50 points",
                    context={"website_id": self.website.id},
                )
                self.assertRefused(
                    self.designer,
                    MODEL,
                    "editor_save",
                    False,
                    "crm.lead",
                    {"operation": "add", **values},
                    expect="Only a Lead Scoring manager",
                    context={"website_id": self.website.id},
                )
        self.assertEqual(self.Setting.browse(setting_id).value, 50)

    def test_designer_cannot_pass_the_ceiling_through_the_orm(self):
        self.assertRefused(
            self.designer,
            MODEL,
            "write",
            [self.setting.id],
            {"value": 500},
            expect="Only a Lead Scoring manager",
        )
        self.assertRefused(
            self.designer,
            MODEL,
            "create",
            {
                "name": "Big",
                "website_id": self.website.id,
                "model_id": self.lead_model.id,
                "value": 500,
            },
            expect="Only a Lead Scoring manager",
        )
        self.assertEqual(self.setting.value, 10)

    def test_manager_passes_the_ceiling_and_designers_keep_editing(self):
        setting_id = self.save(self.manager, False, value="500")
        setting = self.Setting.browse(setting_id)
        self.assertEqual(setting.value, 500)
        # What does not change the points stays open to designers ...
        self.save(self.designer, setting_id, note="Asked for a quote")
        self.call(self.designer, MODEL, "write", [setting_id], {"name": "Quote"})
        self.save(self.designer, setting_id, operation="off")
        self.assertEqual((setting.name, setting.active), ("Quote", False))
        # ... what makes it worth that much again does not.
        self.assertRefused(
            self.designer,
            MODEL,
            "editor_save",
            setting_id,
            "crm.lead",
            {"operation": "add"},
            expect="Only a Lead Scoring manager",
            context={"website_id": self.website.id},
        )
        self.assertRefused(
            self.designer,
            MODEL,
            "write",
            [setting_id],
            {"value": 400, "active": True},
            expect="Only a Lead Scoring manager",
        )
        self.assertEqual((setting.value, setting.active), (500, False))

    def test_the_ceiling_is_a_setting(self):
        settings = self.env["res.config.settings"].create({})
        self.assertEqual(settings.lead_score_form_max_points, 50)
        settings.lead_score_form_max_points = 200
        settings.set_values()
        self.assertEqual(
            self.env["ir.config_parameter"].get_param(CEILING_PARAM), "200"
        )
        setting_id = self.save(self.designer, False, value="150")
        self.assertEqual(self.Setting.browse(setting_id).value, 150)
        self.assertRefused(
            self.designer,
            MODEL,
            "editor_save",
            setting_id,
            "crm.lead",
            {"value": "201"},
            expect="more than 200 points",
            context={"website_id": self.website.id},
        )
        # Only administrators change it.
        with self.assertRaises(xmlrpc.client.Fault):
            self.call(
                self.manager,
                "ir.config_parameter",
                "set_param",
                CEILING_PARAM,
                "100000",
            )


@tagged("post_install", "-at_install")
class TestTypedEmailContact(ApiMixin, FormScoringCase):
    """A visitor typing a customer's email links the lead to the customer
    for the score, never to change the customer."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.customer = cls.env["res.partner"].create(
            {
                "name": "Victoria Customer",
                "email": "victoria@example.com",
                "phone": "+32 2 555 55 55",
                "street": "1 Customer Road",
                "city": "Brussels",
                "zip": "1000",
            }
        )
        cls.salesperson = new_test_user(
            cls.env,
            "lsw_salesperson",
            password="lsw_salesperson",
            groups="base.group_user,base.group_partner_manager,"
            "sales_team.group_sale_salesman_all_leads",
        )

    def setUp(self):
        super().setUp()
        self.authenticate(None, None)

    def assertCustomerUnchanged(self):
        self.customer.invalidate_recordset()
        self.assertEqual(
            (
                self.customer.name,
                self.customer.email,
                self.customer.phone,
                self.customer.street,
            ),
            (
                "Victoria Customer",
                "victoria@example.com",
                "+32 2 555 55 55",
                "1 Customer Road",
            ),
        )

    def test_lead_keeps_the_visitors_values_and_never_updates_the_customer(self):
        lead = self.submit(
            contact_name="Mallory",
            email_from="victoria@example.com",
            phone="+32 470 12 34 56",
        )
        # Linked for the score ...
        self.assertEqual(lead.partner_id, self.customer)
        self.assertEqual(self.customer.lead_score, 10)
        # ... but the lead shows what the visitor typed, not the customer's
        # address or phone.
        self.assertEqual(lead.contact_name, "Mallory")
        self.assertIn("470", lead.phone)
        self.assertFalse(lead.street or lead.city or lead.zip)
        self.assertTrue(lead.lead_score_typed_partner)
        self.assertFalse(lead.partner_phone_update or lead.partner_email_update)
        # A salesperson editing the lead does not change the customer.
        self.call(
            self.salesperson,
            "crm.lead",
            "write",
            [lead.id],
            {
                "phone": "+32 470 99 99 99",
                "email_from": "mallory@example.net",
                "street": "2 Other Street",
            },
        )
        self.assertCustomerUnchanged()
        # Nor does the customer's later change reach the lead.
        self.customer.phone = "+32 2 666 66 66"
        lead.invalidate_recordset()
        self.assertIn("99 99 99", lead.phone)

    def test_lead_without_typed_phone_does_not_take_the_customers(self):
        lead = self.submit(contact_name="Mallory", email_from="victoria@example.com")
        self.assertEqual(lead.partner_id, self.customer)
        self.assertFalse(lead.phone)
        self.assertFalse(lead.street)
        self.call(
            self.salesperson, "crm.lead", "write", [lead.id], {"phone": "+32 470 1"}
        )
        self.assertCustomerUnchanged()

    def test_a_salesperson_choosing_the_customer_syncs_as_usual(self):
        lead = self.submit(contact_name="Victoria", email_from="victoria@example.com")
        self.call(
            self.salesperson,
            "crm.lead",
            "write",
            [lead.id],
            {"partner_id": self.customer.id},
        )
        lead.invalidate_recordset()
        self.assertFalse(lead.lead_score_typed_partner)
        self.assertEqual(lead.street, "1 Customer Road")

    def test_a_new_contact_made_from_the_form_stays_in_sync(self):
        lead = self.submit(
            contact_name="Grace", email_from="grace@example.com", phone="+32 470 1"
        )
        self.assertTrue(lead.partner_id)
        self.assertFalse(lead.lead_score_typed_partner)
        self.assertEqual(lead.partner_id.name, "Grace")

    def test_upgrade_marks_the_leads_linked_to_an_existing_contact(self):
        migration = load_migration("lead_scoring_website", "18.0.1.2.0")
        typed = self.submit(email_from="victoria@example.com")
        created = self.submit(email_from="grace@example.com")
        manual = self.env["crm.lead"].create(
            {"name": "By hand", "partner_id": self.customer.id}
        )
        # As the form linked them before: synced.
        (typed | created).write({"lead_score_typed_partner": False})
        self.env.flush_all()
        # The customer existed before the submission.
        self.env.cr.execute(
            "UPDATE res_partner SET create_date = %s WHERE id = %s",
            [typed.create_date - timedelta(days=30), self.customer.id],
        )
        migration.migrate(self.env.cr, "18.0.1.1.0")
        self.env.invalidate_all()
        self.assertEqual(
            (typed | created | manual).mapped("lead_score_typed_partner"),
            [True, False, False],
        )
