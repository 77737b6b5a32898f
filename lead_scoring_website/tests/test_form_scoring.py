# Copyright 2026 Lead Scoring contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from unittest.mock import patch

from lxml import html

from odoo import http
from odoo.tests import new_test_user, tagged
from odoo.tools.misc import hmac

from odoo.addons.lead_scoring_website.models.lead_score_form_setting import (
    LeadScoreFormSetting,
)

from .common import FormScoringCase


@tagged("post_install", "-at_install")
class TestFormScoring(FormScoringCase):
    def test_rendered_form_is_signed(self):
        self.create_page("/scored-form", setting=self.setting)
        tokens = self.rendered_tokens("/scored-form")
        # The stale token saved with the page is replaced by a fresh one.
        self.assertEqual([node.get("value") for node in tokens], [self.token()])

    def test_form_without_setting_is_not_signed(self):
        self.create_page("/plain-form")
        self.assertFalse(self.rendered_tokens("/plain-form"))

    def test_rendered_token_scores(self):
        self.create_page("/scored-form", setting=self.setting)
        token = self.rendered_tokens("/scored-form")[0].get("value")
        self.authenticate(None, None)
        lead = self.submit(token=token, email_from="new.visitor@example.com")
        operation = self.operations()
        self.assertEqual(operation.partner_id.email, "new.visitor@example.com")
        self.assertEqual((operation.res_model, operation.res_id), ("crm.lead", lead.id))

    def test_existing_contact_found_by_email(self):
        partner = self.env["res.partner"].create(
            {"name": "Ada", "email": "Ada.Lovelace@example.com"}
        )
        self.authenticate(None, None)
        partner_count = self.env["res.partner"].search_count([])
        lead = self.submit(email_from="  ADA.lovelace@Example.COM ")
        operation = self.operations()
        self.assertEqual(operation.partner_id, partner)
        self.assertEqual(
            (operation.operation, operation.value, operation.note),
            ("add", 10, "Filled in the contact form"),
        )
        self.assertEqual((operation.res_model, operation.res_id), ("crm.lead", lead.id))
        self.assertEqual(partner.lead_score, 10)
        self.assertEqual(self.env["res.partner"].search_count([]), partner_count)
        # A contact found by its email is not renamed by the form.
        self.assertEqual(partner.name, "Ada")

    def test_a_form_scores_its_score_group(self):
        engagement = self.env["lead.score.group"].create({"name": "Engagement"})
        self.assertEqual(
            self.setting.group_id, self.env["lead.score.group"]._default_group()
        )
        self.setting.group_id = engagement
        self.authenticate(None, None)
        self.submit(email_from="grace@example.com")
        operation = self.operations()
        self.assertEqual(operation.group_id, engagement)
        self.assertEqual(
            [(v.group_id, v.score) for v in operation.partner_id.lead_score_value_ids],
            [(engagement, 10)],
        )

    def test_typed_email_cannot_lower_or_reset_a_score(self):
        partner = self.env["res.partner"].create(
            {"name": "Ada", "email": "ada.lovelace@example.com"}
        )
        self.Operation.create(
            {"partner_id": partner.id, "operation": "add", "value": 80}
        )
        self.authenticate(None, None)
        for operation in ("remove", "set"):
            self.setting.write({"operation": operation, "value": 0})
            self.submit(email_from="ada.lovelace@example.com")
        self.assertFalse(
            self.operations(partner).filtered(lambda o: o.source == "website")
        )
        self.assertEqual(partner.lead_score, 80)
        # A contact the submission itself creates is scored by any operation.
        self.submit(email_from="new.lovelace@example.com")
        newcomer = self.env["res.partner"].search(
            [("email", "=", "new.lovelace@example.com")]
        )
        self.assertEqual(self.operations(newcomer).operation, "set")

    def test_new_contact_created_from_the_form(self):
        self.authenticate(None, None)
        lead = self.submit(
            contact_name="Grace Hopper",
            email_from="grace@example.com",
            phone="+32 485 11 22 33",
        )
        partner = self.env["res.partner"].search([("email", "=", "grace@example.com")])
        self.assertEqual(partner.name, "Grace Hopper")
        self.assertTrue(partner.phone)
        self.assertEqual(partner.lead_score, 10)
        self.assertEqual(self.operations(partner).res_id, lead.id)

    def test_new_contact_named_as_the_form(self):
        self.authenticate(None, None)
        lead = self.submit(
            contact_name="Jeanne Reviewer",
            partner_name="UI Review SA",
            email_from="jeanne.reviewer@example.com",
        )
        partner = self.operations().partner_id
        self.assertEqual(
            (partner.name, partner.company_name, partner.is_company),
            ("Jeanne Reviewer", "UI Review SA", False),
        )
        # The company is a name on the contact: no company record is created
        # or picked from what a visitor typed.
        self.assertFalse(partner.parent_id)
        self.assertEqual(lead.partner_id, partner)
        self.assertEqual(lead.partner_lead_score, 10)
        self.assertEqual(
            (lead.contact_name, lead.partner_name, lead.name),
            ("Jeanne Reviewer", "UI Review SA", "A question"),
        )

    def test_web_lead_gets_the_contact_with_its_email(self):
        partner = self.env["res.partner"].create(
            {
                "name": "Ada",
                "email": "Ada.Lovelace@example.com",
                "phone": "+32 2 111 11 11",
                "company_name": "Analytical Engines",
            }
        )
        self.authenticate(None, None)
        lead = self.submit(
            contact_name="Ada L.",
            partner_name="Babbage & Co",
            email_from="ada.lovelace@example.com",
            phone="+32 485 11 22 33",
        )
        self.assertEqual(lead.partner_id, partner)
        self.assertEqual(lead.partner_lead_score, 10)
        # The lead keeps what the visitor typed ...
        self.assertEqual(
            (lead.contact_name, lead.partner_name, lead.email_from),
            ("Ada L.", "Babbage & Co", "ada.lovelace@example.com"),
        )
        self.assertIn("485", lead.phone)
        # ... and the contact is not renamed or changed by it.
        self.assertEqual(
            (partner.name, partner.email, partner.phone, partner.company_name),
            (
                "Ada",
                "Ada.Lovelace@example.com",
                "+32 2 111 11 11",
                "Analytical Engines",
            ),
        )

    def test_web_lead_is_not_linked_to_another_company_contact(self):
        other_company = self.env["res.company"].create({"name": "Other company"})
        stranger = self.env["res.partner"].create(
            {
                "name": "Stranger",
                "email": "shared@example.com",
                "company_id": other_company.id,
            }
        )
        self.authenticate(None, None)
        lead = self.submit(email_from="shared@example.com")
        self.assertTrue(lead.partner_id)
        self.assertNotEqual(lead.partner_id, stranger)
        self.assertEqual(stranger.lead_score, 0)
        self.assertFalse(stranger.opportunity_ids)

    def test_logged_in_user_with_another_email_is_not_the_lead_contact(self):
        # As website_crm: the lead gets a contact with its own email only.
        user = new_test_user(self.env, "ls_portal", groups="base.group_portal")
        self.authenticate("ls_portal", "ls_portal")
        lead = self.submit(
            email_from="someone.else@example.com",
            csrf_token=http.Request.csrf_token(self),
        )
        self.assertEqual(user.partner_id.lead_score, 10)
        self.assertFalse(lead.partner_id)

    def test_typed_names_are_cut_and_on_one_line(self):
        self.authenticate(None, None)
        self.submit(
            contact_name="  Eve\n\tHacker " + "x" * 5000,
            partner_name="Evil\r\nCorp " + "y" * 5000,
            phone="1" * 5000,
            email_from="eve@example.com",
        )
        partner = self.operations().partner_id
        self.assertEqual(partner.email, "eve@example.com")
        self.assertTrue(partner.name.startswith("Eve Hacker xxx"))
        self.assertEqual(len(partner.name), 128)
        self.assertTrue(partner.company_name.startswith("Evil Corp yyy"))
        self.assertEqual(len(partner.company_name), 128)
        self.assertLessEqual(len(partner.phone), 64)

    def test_demo_contact_us_form_names_its_contact(self):
        # The demo's Contact Us form posts what website_crm's lead form posts.
        response = self.url_open("/contactus")
        form = html.fromstring(response.content).xpath("//form[@id='contactus_form']")[
            0
        ]
        self.assertEqual(form.get("data-model_name"), "crm.lead")
        names = set(form.xpath(".//*[@name]/@name"))
        self.assertLessEqual(
            {"contact_name", "partner_name", "name", "email_from"}, names
        )
        self.assertFalse(names & {"company", "subject", "email_to"})
        token = form.xpath(".//input[@name='lead_scoring_token']/@value")[0]
        self.authenticate(None, None)
        lead = self.submit(
            token=token,
            contact_name="Jeanne Reviewer",
            partner_name="UI Review SA",
            email_from="jeanne.reviewer@example.com",
            name="Demo",
        )
        partner = self.operations().partner_id
        self.assertEqual(partner.name, "Jeanne Reviewer")
        self.assertEqual(partner.company_name, "UI Review SA")
        self.assertEqual(lead.name, "Demo")
        # The pipeline shows the lead's score.
        self.assertEqual(lead.partner_id, partner)
        self.assertEqual(lead.partner_lead_score, 25)

    def test_contact_us_email_form_scores(self):
        # The default Contact Us form creates an email, which has no contact.
        mail_setting = self.Setting.create(
            {
                "name": "Contact us (email)",
                "website_id": self.website.id,
                "model_id": self.env["ir.model"]._get("mail.mail").id,
                "value": 7,
            }
        )
        self.authenticate(None, None)
        mail = self.submit(
            "mail.mail",
            token=self.token(mail_setting, "mail.mail"),
            contact_name="",
            name="Alan Turing",
            email_from="alan@example.com",
            subject="Enigma",
            company="Bletchley Park",
            email_to="info@example.com",
            website_form_signature=hmac(
                self.env(su=True), "website_form_signature", "info@example.com"
            ),
        )
        partner = self.env["res.partner"].search([("email", "=", "alan@example.com")])
        self.assertEqual(partner.name, "Alan Turing")
        self.assertEqual(partner.company_name, "Bletchley Park")
        self.assertEqual(partner.lead_score, 7)
        operation = self.operations(partner)
        self.assertEqual(
            (operation.res_model, operation.res_id), ("mail.mail", mail.id)
        )

    def test_lead_contact_is_scored(self):
        partner = self.env["res.partner"].create(
            {"name": "Known", "email": "known@example.com"}
        )
        visitor_partner = self.env["res.partner"].create(
            {"name": "Other", "email": "other@example.com"}
        )
        self.authenticate(None, None)
        with patch.object(
            type(self.env["crm.lead"]),
            "website_form_input_filter",
            lambda lead, request, values: dict(values, partner_id=partner.id),
            create=True,
        ):
            lead = self.submit(email_from="other@example.com")
        self.assertEqual(lead.partner_id, partner)
        self.assertEqual(partner.lead_score, 10)
        self.assertEqual(visitor_partner.lead_score, 0)

    def test_posted_contact_is_not_trusted(self):
        # A form whose model lets the visitor post the contact (partner_id
        # whitelisted) cannot make the visitor pick who is scored.
        victim = self.env["res.partner"].create(
            {"name": "Victim", "email": "victim@example.com"}
        )
        lead = self.env["crm.lead"].create({"name": "Hi", "partner_id": victim.id})
        operation = self.setting._score_submission(
            lead, {"partner_id": str(victim.id), "email_from": "sender@example.com"}
        )
        self.assertEqual(operation.partner_id.email, "sender@example.com")
        self.assertEqual(victim.lead_score, 0)

    def test_logged_in_user_is_their_own_contact(self):
        user = new_test_user(self.env, "ls_portal", groups="base.group_portal")
        self.authenticate("ls_portal", "ls_portal")
        self.submit(
            email_from="someone.else@example.com",
            csrf_token=http.Request.csrf_token(self),
        )
        self.assertEqual(self.operations().partner_id, user.partner_id)
        self.assertEqual(user.partner_id.lead_score, 10)
        self.assertFalse(
            self.env["res.partner"].search([("email", "=", "someone.else@example.com")])
        )

    def test_once_per_contact_per_period(self):
        # Every submission no longer scores: a replayed one would score again.
        self.setting.repeat = "every"
        self.authenticate(None, None)
        first = self.submit()
        self.submit()
        other = self.submit(email_from="bob@example.com")
        operations = self.operations()
        self.assertEqual(len(operations), 2)
        self.assertEqual(set(operations.mapped("res_id")), {first.id, other.id})
        self.assertEqual(operations.mapped("partner_id.lead_score"), [10, 10])

    def test_once_per_contact(self):
        self.setting.repeat = "once"
        self.authenticate(None, None)
        self.submit()
        self.submit(email_from="ADA@example.com")
        self.submit(email_from="bob@example.com")
        ada = self.env["res.partner"].search([("email", "=", "ada@example.com")])
        self.assertEqual(len(self.operations(ada)), 1)
        self.assertEqual(ada.lead_score, 10)
        self.assertEqual(len(self.operations()), 2)

    def test_replayed_record_scores_once(self):
        lead = self.env["crm.lead"].create(
            {"name": "Replay", "email_from": "ada@example.com"}
        )
        submitted = {"email_from": "ada@example.com", "contact_name": "Ada"}
        first = self.setting._score_submission(lead, submitted)
        second = self.setting._score_submission(lead, submitted)
        self.assertEqual(first, second)
        self.assertEqual(first.partner_id.lead_score, 10)

    def test_changed_token_scores_nothing(self):
        token = self.token()
        self.authenticate(None, None)
        self.submit(token=token[:-4] + ("0000" if token[-4:] != "0000" else "1111"))
        self.submit(token=f"{self.setting.id}:")
        self.submit(token="garbage")
        self.assertFalse(self.operations())

    def test_token_of_another_setting_id_scores_nothing(self):
        bigger = self.Setting.create(
            {
                "name": "Bigger",
                "website_id": self.website.id,
                "model_id": self.lead_model.id,
                "value": 500,
            }
        )
        signature = self.token().split(":", 1)[1]
        self.authenticate(None, None)
        self.submit(token=f"{bigger.id}:{signature}")
        self.assertFalse(self.operations())

    def test_token_of_another_model_scores_nothing(self):
        mail_setting = self.Setting.create(
            {
                "name": "Mail form",
                "website_id": self.website.id,
                "model_id": self.env["ir.model"]._get("mail.mail").id,
                "value": 500,
            }
        )
        self.authenticate(None, None)
        # Signed for mail.mail, posted to the lead form.
        self.submit(token=self.token(mail_setting, "mail.mail"))
        # Signed for crm.lead, but the setting is for mail.mail.
        self.submit(token=self.token(mail_setting, "crm.lead"))
        self.assertFalse(self.operations())

    def test_posted_values_do_not_change_the_points(self):
        self.setting.operation = "add"
        self.authenticate(None, None)
        lead = self.submit(
            value="1000",
            operation="set",
            lead_scoring_setting_id="999",
            note="Hacked",
            idempotency_key="x",
        )
        operation = self.operations()
        self.assertEqual((operation.operation, operation.value), ("add", 10))
        self.assertEqual(operation.note, "Filled in the contact form")
        self.assertNotIn("lead_scoring_token", lead.description or "")
        self.assertIn("value", lead.description)

    def test_setting_of_another_website_scores_nothing(self):
        other = self.env["website"].create({"name": "Other website"})
        self.setting.website_id = other
        self.authenticate(None, None)
        self.submit()
        self.assertFalse(self.operations())

    def test_inactive_setting_scores_nothing(self):
        self.setting.active = False
        self.authenticate(None, None)
        self.submit()
        self.assertFalse(self.operations())

    def test_scoring_failure_keeps_the_submission(self):
        self.authenticate(None, None)

        def fail(*args, **kwargs):
            raise RuntimeError("scoring is down")

        with (
            patch.object(LeadScoreFormSetting, "_score_submission", fail),
            self.assertLogs(
                "odoo.addons.lead_scoring_website.controllers.form", "ERROR"
            ) as logs,
        ):
            lead = self.submit()
        self.assertTrue(lead.exists())
        self.assertEqual(lead.email_from, "ada@example.com")
        self.assertFalse(self.operations())
        self.assertIn("scoring is down", "\n".join(logs.output))

    def test_archived_contact_fails_safely(self):
        self.env["res.partner"].create(
            {"name": "Gone", "email": "gone@example.com", "active": False}
        )
        self.authenticate(None, None)
        lead = self.submit(email_from="gone@example.com")
        self.assertTrue(lead.exists())
        # An archived contact is not a match: a new contact is scored.
        active = self.env["res.partner"].search([("email", "=", "gone@example.com")])
        self.assertEqual(active.lead_score, 10)
