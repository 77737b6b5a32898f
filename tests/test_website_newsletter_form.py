# Copyright 2026 Lead Scoring contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Newsletter forms (website_mass_mailing) score their subscribers.

Here rather than in lead_scoring_website, which does not depend on
website_mass_mailing; run it on a database where both are installed.
"""

import json

from odoo.tests import HttpCase, tagged

from odoo.addons.lead_scoring_website.tools import form_token


@tagged("post_install", "-at_install")
class TestWebsiteNewsletterForm(HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(context=dict(cls.env.context, tracking_disable=True))
        cls.mailing_list = cls.env["mailing.list"].create(
            {"name": "Product news", "is_public": True}
        )
        cls.setting = cls.env["lead.score.form.setting"].create(
            {
                "name": "Newsletter",
                "website_id": cls.env["website"].get_current_website().id,
                "model_id": cls.env["ir.model"]._get("mailing.contact").id,
                "operation": "add",
                "value": 5,
            }
        )

    def subscribe(self, email, name="Ada Lovelace", token=None):
        response = self.url_open(
            "/website/form/mailing.contact",
            data={
                "name": name,
                "email": email,
                "list_ids": str(self.mailing_list.id),
                "lead_scoring_token": token
                or form_token(self.env(su=True), self.setting.id, "mailing.contact"),
            },
        )
        self.assertEqual(response.status_code, 200)
        subscription = self.env["mailing.contact"].browse(
            json.loads(response.content)["id"]
        )
        self.assertEqual(subscription.list_ids, self.mailing_list)
        return subscription

    def test_new_subscriber_becomes_a_scored_contact(self):
        self.authenticate(None, None)
        subscription = self.subscribe("grace@example.com", name="Grace Hopper")
        partner = self.env["res.partner"].search([("email", "=", "grace@example.com")])
        self.assertEqual(partner.name, "Grace Hopper")
        self.assertEqual(partner.lead_score, 5)
        operation = partner.lead_score_operation_ids
        self.assertEqual(
            (operation.source, operation.res_model, operation.res_id),
            ("website", "mailing.contact", subscription.id),
        )

    def test_existing_contact_scores_once(self):
        self.setting.repeat = "once"
        partner = self.env["res.partner"].create(
            {"name": "Ada", "email": "ada@example.com"}
        )
        self.authenticate(None, None)
        self.subscribe("Ada@Example.com ")
        self.subscribe("ada@example.com")
        self.assertEqual(len(partner.lead_score_operation_ids), 1)
        self.assertEqual(partner.lead_score, 5)

    def test_token_of_the_lead_form_scores_nothing(self):
        self.authenticate(None, None)
        self.subscribe(
            "bob@example.com",
            token=form_token(self.env(su=True), self.setting.id, "crm.lead"),
        )
        self.assertFalse(
            self.env["lead.score.operation"].search([("source", "=", "website")])
        )
