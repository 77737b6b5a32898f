"""Odoo's privacy tool (privacy_lookup) deleting a contact on request leaves no
score data behind: the ledger, and the operations of other contacts that named
the deleted contact as their source."""

from odoo.tests import TransactionCase, tagged


@tagged("post_install", "-at_install")
class TestPrivacy(TransactionCase):
    def test_privacy_lookup_deletion_leaves_no_score_data(self):
        partner = self.env["res.partner"].create(
            {"name": "Erase Me", "email": "erase.me@example.com"}
        )
        operations = self.env["lead.score.operation"].create(
            [
                {"partner_id": partner.id, "operation": "add", "value": 10},
                {
                    "partner_id": partner.id,
                    "operation": "set",
                    "value": 3,
                    "note": "kept?",
                },
            ]
        )
        wizard = self.env["privacy.lookup.wizard"].create(
            {"name": "Erase Me", "email": "erase.me@example.com"}
        )
        wizard.action_lookup()
        lines = wizard.line_ids.filtered(lambda line: line.res_model == "res.partner")
        self.assertIn(partner.id, lines.mapped("res_id"))
        lines.action_unlink_all()
        self.assertFalse(partner.exists())
        self.assertFalse(operations.exists())
        self.env.cr.execute(
            "SELECT count(*) FROM lead_score_operation WHERE partner_id = %s"
            " OR (res_model = 'res.partner' AND res_id = %s)",
            [partner.id, partner.id],
        )
        self.assertEqual(self.env.cr.fetchone()[0], 0)
