"""GDPR Art. 21: a contact who objects to scoring is scored by nothing, shows
no score, and may have their score history kept or erased."""

from odoo import fields
from odoo.exceptions import AccessError, ValidationError
from odoo.tests import tagged
from odoo.tools import SQL

from .common import LeadScoringCase
from .test_security import ApiCase


@tagged("post_install", "-at_install")
class TestObjection(LeadScoringCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Tier.create({"name": "Cold", "min_score": 0})
        cls.objector = cls.env["res.partner"].create({"name": "Do Not Score"})

    def record_like_a_form(self, partners):
        return (
            self.Operation._engine()
            .env["lead.score.ledger"]
            ._record_and_refresh(
                SQL(
                    "SELECT unnest(%s::int[]) AS partner_id", partners.ids
                ),  # as a form or a mailing job selects its contacts
                value=10,
                source="website",
            )
        )

    def test_kept_history_counts_for_nothing_until_withdrawn(self):
        self.add(self.objector, "add", 30, days_ago=2)
        self.assertEqual(self.objector.lead_score_tier_id.name, "Cold")
        # A Lead Scoring user records it, without the right to edit contacts.
        self.objector.with_user(self.user).action_lead_score_object()
        self.assertTrue(self.objector.lead_score_objection_date)
        self.assertEqual(self.objector.lead_score, 0)
        self.assertFalse(self.objector.lead_score_tier_id)
        # The history is kept, and the breakdown still adds up to the score.
        self.assertEqual(len(self.objector.lead_score_operation_ids), 1)
        parts = self.env["lead.score.breakdown"].search(
            [("partner_id", "=", self.objector.id)]
        )
        self.assertEqual(set(parts.mapped("state")), {"objected"})
        self.assertEqual(sum(parts.mapped("points")), 0)
        self.assertIn(
            self.objector,
            self.env["res.partner"].search([("lead_score_objection", "=", True)]),
        )
        # Withdrawing it is a manager's act.
        with self.assertRaises(AccessError):
            self.objector.with_user(self.user).action_lead_score_withdraw_objection()
        self.objector.with_user(self.manager).action_lead_score_withdraw_objection()
        self.assertEqual(self.objector.lead_score, 30)
        self.assertFalse(self.objector.lead_score_objection_date)

    def test_no_path_scores_an_objecting_contact(self):
        self.objector.lead_score_objection = True
        rule = self.Rule.create({"name": "Everyone", "value": 5, "match_all": True})
        self.env["lead.score.run"]._run_rules(rule)
        self.assertEqual(self.partner.lead_score, 5)
        self.assertEqual(
            self.record_like_a_form(self.partner | self.objector), {self.partner.id}
        )
        # Automation steps and website forms create engine lines: left out.
        self.Operation._engine().create(
            {
                "partner_id": self.objector.id,
                "value": 7,
                "source": "automation",
                "note": "Campaign step",
            }
        )
        with self.assertRaisesRegex(ValidationError, "object to scoring"):
            self.Operation.with_user(self.user).create(
                {
                    "partner_id": self.objector.id,
                    "value": 5,
                    "source": "manual",
                    "note": "By hand",
                }
            )
        self.assertFalse(self.objector.lead_score_operation_ids)
        self.assertEqual(self.objector.lead_score, 0)

    def test_erase_on_request_with_an_audit(self):
        self.add(self.objector, "add", 30, days_ago=2)
        self.add(self.objector, "add", 12, days_ago=1)
        wizard = (
            self.env["lead.score.erase"]
            .with_user(self.manager)
            .create({"partner_ids": [fields.Command.set(self.objector.ids)]})
        )
        self.assertEqual(wizard.operation_count, 2)
        with self.assertRaisesRegex(Exception, "Tick the confirmation"):
            wizard.action_erase()
        wizard.confirm = True
        wizard.action_erase()
        self.assertFalse(self.objector.lead_score_operation_ids)
        self.assertEqual(self.objector.lead_score, 0)
        message = self.objector.message_ids[:1]
        self.assertIn("erased by", message.body)
        self.assertIn("2 operations", message.body)
        self.assertEqual(message.author_id, self.manager.partner_id)

    def test_a_lead_scoring_user_cannot_erase(self):
        self.add(self.objector, "add", 30)
        with self.assertRaises(AccessError):
            self.env["lead.score.erase"].with_user(self.user).create(
                {
                    "partner_ids": [fields.Command.set(self.objector.ids)],
                    "confirm": True,
                }
            ).action_erase()
        self.assertEqual(self.objector.lead_score, 30)


@tagged("post_install", "-at_install")
class TestObjectionOverTheApi(ApiCase):
    def test_an_objecting_contact_is_scored_by_nothing(self):
        self.call(
            self.user, "res.partner", "action_lead_score_object", [self.partner.id]
        )
        self.assertRefused(
            self.internal,
            "res.partner",
            "action_lead_score_withdraw_objection",
            [self.partner.id],
        )
        self.assertTrue(self.partner.lead_score_objection)
        # An external system's point, a form's job (private: refused), a rule.
        self.assertRefused(
            self.user,
            "lead.score.operation",
            "create",
            {"partner_id": self.partner.id, "value": 5},
            expect="object to scoring",
        )
        self.assertRefused(
            self.manager,
            "lead.score.ledger",
            "_record_and_refresh",
            f"SELECT {self.partner.id} AS partner_id",
            value=5,
            source="website",
        )
        self.call(
            self.manager,
            "lead.score.rule",
            "create",
            {"name": "All", "value": 5, "match_all": True},
        )
        self.env["lead.score.run"]._run_rules(self.Rule.search([]))
        self.assertFalse(self.partner.lead_score_operation_ids)
        self.assertEqual(self.partner.lead_score, 0)

    def test_only_a_manager_erases(self):
        self.Operation.create({"partner_id": self.partner.id, "value": 5})
        wizard = self.call(
            self.manager,
            "lead.score.erase",
            "create",
            {"partner_ids": [(6, 0, [self.partner.id])], "confirm": True},
        )
        self.assertRefused(
            self.user,
            "lead.score.erase",
            "create",
            {"partner_ids": [(6, 0, [self.partner.id])], "confirm": True},
        )
        self.assertRefused(self.user, "lead.score.erase", "action_erase", [wizard])
        self.assertEqual(self.partner.lead_score, 5)
        self.call(self.manager, "lead.score.erase", "action_erase", [wizard])
        self.assertFalse(self.partner.lead_score_operation_ids)
