from odoo.tests import HttpCase, tagged


@tagged("post_install", "-at_install")
class TestUi(HttpCase):
    def test_adjust_score_from_the_contact_form(self):
        partner = self.env["res.partner"].create({"name": "Tour Contact"})
        self.start_tour(
            f"/odoo/contacts/{partner.id}", "lead_scoring_adjust_tour", login="admin"
        )
        self.assertEqual(partner.lead_score, 25)
        operation = partner.lead_score_operation_ids
        self.assertEqual(operation.source, "manual")
        self.assertEqual(operation.note, "Asked for a demo on the phone")
        self.assertEqual(operation.user_id, self.env.ref("base.user_admin"))
