from datetime import timedelta

from psycopg2 import IntegrityError

from odoo import fields
from odoo.exceptions import UserError, ValidationError
from odoo.tests import tagged
from odoo.tools import mute_logger

from .common import LeadScoringCase


@tagged("post_install", "-at_install")
class TestLedger(LeadScoringCase):
    def test_add_remove_set_fold_in_date_order(self):
        self.add(self.partner, "add", 10, days_ago=5)
        self.add(self.partner, "remove", 3, days_ago=4)
        self.add(self.partner, "set", 100, days_ago=3)
        self.add(self.partner, "add", 5, days_ago=2)
        self.assertEqual(self.partner.lead_score, 105)
        self.assertEqual(
            self.balances(self.partner),
            [("add", 10, 10), ("remove", 3, 7), ("set", 100, 100), ("add", 5, 105)],
        )

    def test_backdated_operation_is_folded_in_its_place(self):
        self.add(self.partner, "set", 50, days_ago=2)
        self.add(self.partner, "add", 10, days_ago=1)
        # Recorded last, dated first: the later set overwrites it.
        self.add(self.partner, "add", 1000, days_ago=10)
        self.assertEqual(self.partner.lead_score, 60)
        self.assertEqual(self.balances(self.partner)[0], ("add", 1000, 1000))

    def test_deleting_a_set_in_the_middle_brings_back_what_it_overwrote(self):
        self.add(self.partner, "add", 30, days_ago=4)
        middle_set = self.add(self.partner, "set", 5, days_ago=3)
        self.add(self.partner, "add", 7, days_ago=2)
        self.add(self.partner, "remove", 2, days_ago=1)
        self.assertEqual(self.partner.lead_score, 10)
        middle_set.with_user(self.manager).unlink()
        self.assertEqual(self.partner.lead_score, 35)
        self.assertEqual(
            self.balances(self.partner),
            [("add", 30, 30), ("add", 7, 37), ("remove", 2, 35)],
        )

    def test_deletion_leaves_an_audit_message(self):
        operation = self.add(self.partner, "add", 42, note="trade fair")
        operation.with_user(self.manager).unlink()
        message = self.partner.message_ids[:1]
        self.assertIn("deleted by", message.body)
        # The values are tracked, so that only Lead Scoring users see them
        # (see test_security).
        tracked = message.tracking_value_ids
        score = tracked.filtered(lambda t: t.field_id.name == "lead_score")
        self.assertEqual((score.old_value_integer, score.new_value_integer), (42, 0))
        lines = tracked - score
        self.assertIn("Add 42", lines.old_value_char)
        self.assertIn("trade fair", lines.old_value_char)
        # Shown as "Add 42 · ... → deleted", not "→ None".
        self.assertEqual(lines.new_value_char, "deleted")
        self.assertEqual(self.partner.lead_score, 0)

    def test_expired_operations_stop_counting_but_stay_in_history(self):
        now = fields.Datetime.now()
        self.add(self.partner, "add", 10, days_ago=3)
        expiring = self.add(
            self.partner, "add", 20, days_ago=2, expiry_date=now - timedelta(hours=1)
        )
        self.add(
            self.partner, "add", 5, days_ago=1, expiry_date=now + timedelta(days=9)
        )
        self.assertEqual(self.partner.lead_score, 35)
        self.Operation._expire_operations()
        self.assertTrue(expiring.expired)
        self.assertFalse(self.Operation.search([("expired", "=", True)]) - expiring)
        self.assertEqual(self.partner.lead_score, 15)
        self.assertEqual(
            self.balances(self.partner),
            [("add", 10, 10), ("add", 20, 10), ("add", 5, 15)],
        )

    def test_an_expired_set_no_longer_overwrites(self):
        now = fields.Datetime.now()
        self.add(self.partner, "add", 40, days_ago=3)
        self.add(
            self.partner, "set", 0, days_ago=2, expiry_date=now - timedelta(minutes=1)
        )
        self.add(self.partner, "add", 2, days_ago=1)
        self.assertEqual(self.partner.lead_score, 2)
        self.Operation._expire_operations()
        self.assertEqual(self.partner.lead_score, 42)

    def test_idempotency_key_returns_the_first_operation(self):
        first = self.add(self.partner, "add", 10, idempotency_key="crm-sync-1")
        again = self.add(self.partner, "add", 10, idempotency_key="crm-sync-1")
        self.assertEqual(first, again)
        self.assertEqual(self.partner.lead_score, 10)
        self.assertEqual(len(self.partner.lead_score_operation_ids), 1)

    def test_idempotency_key_is_the_contact_s_own(self):
        """Another contact's key neither blocks nor reveals anything."""
        other = self.env["res.partner"].create({"name": "Other"})
        first = self.add(self.partner, "add", 10, idempotency_key="k-1")
        second = self.add(other, "add", 7, idempotency_key="k-1")
        self.assertNotEqual(first, second)
        self.assertEqual((self.partner.lead_score, other.lead_score), (10, 7))

    def test_idempotency_key_is_unique_in_the_database(self):
        self.add(self.partner, "add", 10, idempotency_key="k-2")
        with mute_logger("odoo.sql_db"), self.assertRaises(IntegrityError):
            with self.env.cr.savepoint():
                self.env.cr.execute(
                    "INSERT INTO lead_score_operation (partner_id, date, operation, value,"
                    " source, idempotency_key, expired) VALUES (%s, now(), 'add', 1, 'api',"
                    " 'k-2', false)",
                    [self.partner.id],
                )

    def test_bad_values_are_refused_and_nothing_changes(self):
        self.add(self.partner, "add", 10)
        for operation, value in [
            ("add", 1.5),
            ("add", -5),
            ("remove", 1_000_001),
            ("set", -1_000_001),
            ("add", "12"),
        ]:
            with (
                self.subTest(operation=operation, value=value),
                self.assertRaises(ValidationError),
            ):
                self.add(self.partner, operation, value)
        self.assertEqual(self.partner.lead_score, 10)
        self.assertEqual(len(self.partner.lead_score_operation_ids), 1)

    def test_manual_operation_needs_a_note(self):
        with self.assertRaises(ValidationError):
            self.add(self.partner, "add", 5, source="manual", note="  ")
        self.add(self.partner, "add", 5, source="manual", note="Phoned us")
        self.assertEqual(self.partner.lead_score, 5)

    def test_archived_or_missing_contact_is_refused(self):
        archived = self.env["res.partner"].create({"name": "Gone", "active": False})
        with self.assertRaises(ValidationError):
            self.add(archived, "add", 5)
        with self.assertRaises(ValidationError):
            self.Operation.create(
                {"partner_id": 999_999_999, "operation": "add", "value": 1}
            )

    def test_recorded_operations_cannot_be_rewritten(self):
        operation = self.add(self.partner, "add", 5)
        with self.assertRaises(UserError):
            operation.write({"value": 500})
        operation.write({"note": "clarified"})
        self.assertEqual(self.partner.lead_score, 5)

    def test_wizard_adds_removes_and_sets_with_a_note(self):
        wizard = self.env["lead.score.adjust"].with_user(self.user)
        for operation, value, expected in [
            ("add", 20, 20),
            ("remove", 5, 15),
            ("set", 3, 3),
        ]:
            wizard.create(
                {
                    "partner_ids": [self.partner.id],
                    "operation": operation,
                    "value": value,
                    "note": f"{operation} by hand",
                }
            ).action_apply()
            self.assertEqual(self.partner.lead_score, expected)
        last = self.partner.lead_score_operation_ids[:1]
        self.assertEqual((last.source, last.user_id), ("manual", self.user))

    def test_ten_thousand_operations_replay(self):
        self.env["lead.score.operation"].create(
            [
                {"partner_id": self.partner.id, "operation": "add", "value": 1}
                for _ in range(10_000)
            ]
        )
        self.assertEqual(self.partner.lead_score, 10_000)
        self.env["lead.score.ledger"]._replay_ledger(self.partner.ids)
        self.assertEqual(
            max(self.partner.lead_score_operation_ids.mapped("balance")), 10_000
        )

    def test_score_is_stored_and_searchable(self):
        self.add(self.partner, "add", 120)
        Partner = self.env["res.partner"]
        self.assertIn(self.partner, Partner.search([("lead_score", ">=", 100)]))
        self.assertIn(
            self.partner,
            Partner.search([("lead_score", ">=", 50), ("lead_score", "<=", 150)]),
        )
        self.assertNotIn(self.partner, Partner.search([("lead_score", "<", 100)]))
        self.env.cr.execute(
            "SELECT lead_score FROM res_partner WHERE id = %s", self.partner.ids
        )
        self.assertEqual(self.env.cr.fetchone()[0], 120)
