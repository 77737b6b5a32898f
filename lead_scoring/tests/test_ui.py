from odoo.tests import Form, HttpCase, tagged

from .common import LeadScoringCase


@tagged("post_install", "-at_install")
class TestUi(HttpCase):
    def test_adjust_score_from_the_contact_form(self):
        partner = self.env["res.partner"].create({"name": "Tour Contact"})
        self.env["lead.score.operation"].create(
            {"partner_id": partner.id, "operation": "add", "value": 91}
        )
        self.start_tour(
            f"/odoo/contacts/{partner.id}", "lead_scoring_adjust_tour", login="admin"
        )
        self.assertEqual(partner.lead_score, 116)
        operation = partner.lead_score_operation_ids.filtered("note")
        self.assertEqual(operation.source, "manual")
        self.assertEqual(operation.note, "Asked for a demo on the phone")
        self.assertEqual(operation.user_id, self.env.ref("base.user_admin"))


@tagged("post_install", "-at_install")
class TestAdjustWizard(LeadScoringCase):
    def _wizard_form(self, partners):
        Adjust = self.env["lead.score.adjust"].with_user(self.user)
        return Form(Adjust.with_context(default_partner_ids=partners.ids))

    def test_wizard_shows_the_contacts_current_score(self):
        self.add(self.partner, "add", 91)
        wizard = self._wizard_form(self.partner)
        self.assertEqual(wizard.current_score, 91)
        wizard.value = 9
        wizard.note = "Called back"
        wizard.save().action_apply()
        self.assertEqual(self.partner.lead_score, 100)
        # Opened again after the adjustment, it shows the new score.
        self.assertEqual(self._wizard_form(self.partner).current_score, 100)
