from datetime import timedelta

from odoo import fields
from odoo.tests import tagged
from odoo.tools import SQL

from .common import LeadScoringCase


@tagged("post_install", "-at_install")
class TestRecordLines(LeadScoringCase):
    """lead.score.ledger._record_lines: the one way the engine and the
    addons' jobs write ledger lines from SQL."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.grace = cls.env["res.partner"].create({"name": "Grace Hopper"})
        cls.Engine = cls.Operation._engine().env["lead.score.ledger"]

    def values(self, *rows):
        """A SELECT of (partner_id, res_id, operation, value, key) rows."""
        return SQL(
            "SELECT * FROM (VALUES %s) v(partner_id, res_id, operation, value, key)",
            SQL(", ").join(SQL("(%s, %s, %s, %s, %s)", *row) for row in rows),
        )

    def record(self, select, **fixed):
        return self.Engine._record_lines(
            select,
            source="api",
            res_model="res.partner",
            res_id=SQL("src.res_id"),
            operation=SQL("src.operation"),
            value=SQL("src.value"),
            idempotency_key=SQL("src.key"),
            **fixed,
        )

    def test_lines_of_one_contact_follow_each_other(self):
        self.add(self.partner, "add", 10, days_ago=1)
        ada, grace = self.partner.id, self.grace.id
        recorded = self.record(
            self.values(
                (ada, 4, "remove", 20, "k4"),
                (ada, 1, "add", 5, "k1"),
                (grace, 1, "add", 3, "k1"),
                (ada, 2, "set", 50, "k2"),
                (ada, 3, "add", 7, "k3"),
            )
        )
        # Every balance is known: no replay is needed.
        self.assertEqual(sorted(recorded), [(ada, False)] * 4 + [(grace, False)])
        written = self.balances(self.partner)
        self.assertEqual(
            written,
            [
                ("add", 10, 10),
                ("add", 5, 15),
                ("set", 50, 50),
                ("add", 7, 57),
                ("remove", 20, 37),
            ],
        )
        self.assertEqual(self.balances(self.grace), [("add", 3, 3)])
        # The same balances as a full replay of the ledger.
        self.env["lead.score.ledger"]._replay_ledger([ada, grace])
        self.assertEqual(self.balances(self.partner), written)
        self.env["lead.score.ledger"]._refresh_recorded(recorded)
        self.assertEqual((self.partner.lead_score, self.grace.lead_score), (37, 3))
        line = self.partner.lead_score_operation_ids[0]
        self.assertEqual((line.source, line.signed_value), ("api", -20))
        self.assertEqual(line.company_id, self.partner.company_id)

    def test_a_recorded_key_records_nothing(self):
        select = self.values((self.partner.id, 1, "add", 5, "once"))
        self.assertEqual(len(self.record(select)), 1)
        self.assertEqual(self.record(select), [])
        # The same key for another contact is that contact's own.
        self.assertEqual(
            len(self.record(self.values((self.grace.id, 1, "add", 5, "once")))), 1
        )
        self.assertEqual(len(self.balances(self.partner)), 1)

    def test_a_rule_key_scores_a_contact_once(self):
        rule = self.Rule.create({"name": "Welcome", "value": 5, "match_all": True})
        select = SQL("SELECT %s AS partner_id", self.partner.id)
        fixed = {"source": "rule", "rule_id": rule.id, "rule_key": "once", "value": 5}
        self.assertEqual(
            self.Engine._record_lines(select, **fixed), [(self.partner.id, False)]
        )
        self.assertEqual(self.Engine._record_lines(select, **fixed), [])
        self.assertEqual(self.partner.lead_score_operation_ids.rule_name, "Welcome")

    def test_an_archived_contact_gets_nothing(self):
        self.grace.active = False
        recorded = self.record(
            self.values(
                (self.grace.id, 1, "add", 5, "k1"), (self.partner.id, 1, "add", 5, "k1")
            )
        )
        self.assertEqual(recorded, [(self.partner.id, False)])
        self.assertFalse(
            self.Operation.with_context(active_test=False).search(
                [("partner_id", "=", self.grace.id)]
            )
        )

    def test_a_later_dated_line_leaves_the_balance_to_the_replay(self):
        self.add(self.partner, "set", 100, days_ago=-1, source="automation")
        recorded = self.record(
            self.values((self.partner.id, 1, "add", 5, "k1")),
            date=fields.Datetime.now() - timedelta(days=1),
        )
        self.assertEqual(recorded, [(self.partner.id, True)])
        self.env.cr.execute(
            "SELECT balance FROM lead_score_operation WHERE idempotency_key = 'k1'"
        )
        self.assertEqual(self.env.cr.fetchall(), [(None,)])
        self.env["lead.score.ledger"]._refresh_recorded(recorded)
        self.assertEqual(
            self.balances(self.partner), [("add", 5, 5), ("set", 100, 100)]
        )
        self.assertEqual(self.partner.lead_score, 100)
