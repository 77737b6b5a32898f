from odoo.exceptions import AccessError
from odoo.tests import new_test_user, tagged

from .common import LeadScoringCase


@tagged("post_install", "-at_install")
class TestAccess(LeadScoringCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.portal = new_test_user(cls.env, "ls_portal", groups="base.group_portal")
        cls.public = cls.env.ref("base.public_user")
        cls.operation = cls.Operation.create(
            {"partner_id": cls.partner.id, "operation": "add", "value": 5}
        )
        cls.tier = cls.Tier.create({"name": "Hot", "min_score": 100})
        cls.rule = cls.Rule.create(
            {"name": "All", "value": 1, "domain": "[('id', '=', 0)]"}
        )

    def test_portal_and_public_never_read_a_score(self):
        for user in (self.portal, self.public, self.internal):
            with self.subTest(user=user.login):
                partner = self.partner.with_user(user)
                with self.assertRaises(AccessError):
                    partner.read(["lead_score"])
                with self.assertRaises(AccessError):
                    self.Operation.with_user(user).search([])
                with self.assertRaises(AccessError):
                    self.Operation.with_user(user).create(
                        {"partner_id": self.partner.id, "operation": "add", "value": 1}
                    )

    def test_user_sees_and_adjusts_but_cannot_delete_or_configure(self):
        Operation = self.Operation.with_user(self.user)
        self.assertEqual(self.partner.with_user(self.user).lead_score, 5)
        Operation.create(
            {"partner_id": self.partner.id, "operation": "add", "value": 1}
        )
        with self.assertRaises(AccessError):
            self.operation.with_user(self.user).unlink()
        with self.assertRaises(AccessError):
            self.Rule.with_user(self.user).create({"name": "x", "value": 1})
        with self.assertRaises(AccessError):
            self.tier.with_user(self.user).write({"min_score": 1})
        self.assertTrue(self.rule.with_user(self.user).read(["name"]))

    def test_manager_configures_and_deletes(self):
        self.Rule.with_user(self.manager).create({"name": "x", "value": 1})
        self.tier.with_user(self.manager).write({"min_score": 90})
        self.operation.with_user(self.manager).unlink()
        self.assertEqual(self.partner.lead_score, 0)

    def test_operations_follow_the_contacts_company(self):
        other_company = self.env["res.company"].create({"name": "Other Co"})
        foreign = self.env["res.partner"].create(
            {"name": "Foreign", "company_id": other_company.id}
        )
        foreign_operation = self.Operation.create(
            {"partner_id": foreign.id, "operation": "add", "value": 3}
        )
        self.assertEqual(foreign_operation.company_id, other_company)
        visible = self.Operation.with_user(self.user).search([])
        self.assertNotIn(foreign_operation, visible)
        self.assertIn(self.operation, visible)
