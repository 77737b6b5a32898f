# Copyright 2026 Lead Scoring contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo.tests import HttpCase, tagged


@tagged("post_install", "-at_install")
class TestUi(HttpCase):
    def test_form_scoring_set_in_the_editor(self):
        webinars = self.env["lead.score.group"].create({"name": "Webinars"})
        self.start_tour(
            self.env["website"].get_client_action_url("/contactus"),
            "lead_scoring_website_form_editor_tour",
            login="admin",
        )
        # The demo's setting of the Contact Us form (once per contact per day).
        setting = self.env["lead.score.form.setting"].search([])
        self.assertEqual(len(setting), 1)
        self.assertEqual(
            (setting.operation, setting.value, setting.note, setting.repeat),
            ("add", 15, "Asked us a question", "every"),
        )
        # Its period and group, chosen in the editor.
        self.assertEqual((setting.repeat_hours, setting.group_id), (48, webinars))
        # The form's action changed after scoring was set: the setting follows.
        self.assertEqual(setting.model_name, "crm.lead")
        self.assertEqual(setting.page_url, "/contactus")

        self.start_tour("/contactus", "lead_scoring_website_form_submit_tour")
        partner = self.env["res.partner"].search(
            [("email", "=", "grace.hopper@example.com")]
        )
        self.assertEqual(partner.name, "Grace Hopper")
        self.assertEqual(partner.company_name, "Navy")
        self.assertEqual(partner.lead_score, 15)
        lead = self.env["crm.lead"].search(
            [("email_from", "=", "grace.hopper@example.com")]
        )
        # The lead the visitor created shows the score in the pipeline.
        self.assertEqual(lead.partner_id, partner)
        self.assertEqual(lead.partner_lead_score, 15)
        operation = partner.lead_score_operation_ids
        self.assertEqual((operation.res_model, operation.res_id), ("crm.lead", lead.id))
        self.assertEqual(operation.note, "Asked us a question")
