"""Velocity: a contact's score change over the last 7 and 30 days, from the
ledger lines of those days, kept with the scores and as the windows slide."""

from datetime import timedelta

from odoo import fields
from odoo.tests import tagged

from .common import LeadScoringCase


@tagged("post_install", "-at_install")
class TestVelocity(LeadScoringCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.other = cls.env["res.partner"].create({"name": "Grace Hopper"})

    def velocity(self, partner):
        partner.invalidate_recordset()
        return partner.lead_score_change_7d, partner.lead_score_change_30d

    def test_changes_over_7_and_30_days(self):
        self.add(self.partner, "add", 50, days_ago=60)
        self.add(self.partner, "add", 20, days_ago=20)
        self.add(self.partner, "add", 15, days_ago=3)
        self.add(self.partner, "remove", 5, days_ago=1)
        self.assertEqual(self.partner.lead_score, 80)
        self.assertEqual(self.velocity(self.partner), (10, 30))

    def test_a_set_counts_as_the_difference_it_made(self):
        self.add(self.partner, "add", 40, days_ago=10)
        self.add(self.partner, "set", 100, days_ago=2)
        self.assertEqual(self.velocity(self.partner), (60, 100))

    def test_the_job_writes_the_engine_s_lines_set_based(self):
        self.add(self.partner, "add", 10, days_ago=40)
        self.add(self.other, "add", 5, days_ago=40)
        # Lines recorded as the engine does, then its refresh batch.
        self.env.cr.execute(
            """INSERT INTO lead_score_operation
                      (partner_id, date, operation, value, signed_value, source, group_id)
               SELECT p, now() AT TIME ZONE 'UTC' - interval '1 day', 'add', 35, 35,
                      'api', %s FROM unnest(%s::int[]) p""",
            [
                self.env["lead.score.group"].search([], limit=1).id,
                [self.partner.id, self.other.id],
            ],
        )
        self.env["lead.score.ledger"]._refresh_scores(
            [self.partner.id, self.other.id], flush=True
        )
        # The refresh holds the contacts' rows: the velocity job writes it.
        self.assertEqual(self.velocity(self.partner), (0, 0))
        self.env["res.partner"]._update_lead_score_velocity()
        self.assertEqual(self.velocity(self.partner), (35, 35))
        self.assertEqual(self.velocity(self.other), (35, 35))
        self.assertEqual(
            self.env["res.partner"].search(
                [("lead_score_change_7d", ">=", 30), ("id", "in", [self.partner.id])]
            ),
            self.partner,
            "the Heating up filter finds it",
        )

    def test_the_daily_job_slides_the_windows(self):
        self.add(self.partner, "add", 30, days_ago=5)
        self.assertEqual(self.velocity(self.partner), (30, 30))
        later = fields.Datetime.now() + timedelta(days=4)
        self.env["res.partner"]._update_lead_score_velocity(now=later)
        self.assertEqual(self.velocity(self.partner), (0, 30))
        self.env["res.partner"]._update_lead_score_velocity(
            now=later + timedelta(days=30)
        )
        self.assertEqual(self.velocity(self.partner), (0, 0))

    def test_an_objecting_contact_has_none(self):
        self.add(self.partner, "add", 30, days_ago=1)
        self.partner.lead_score_objection = True
        self.assertEqual(self.velocity(self.partner), (0, 0))
        self.env["res.partner"]._update_lead_score_velocity()
        self.assertEqual(self.velocity(self.partner), (0, 0))

    def test_explained_by_the_lines_behind_it(self):
        old = self.add(self.partner, "add", 50, days_ago=60)
        recent = self.add(self.partner, "add", 15, days_ago=3)
        action = self.partner.action_view_lead_score_change()
        lines = self.env["lead.score.operation"].search(action["domain"])
        self.assertIn(recent, lines)
        self.assertNotIn(old, lines)

    def test_shown_on_leads(self):
        self.add(self.partner, "add", 30, days_ago=1)
        lead = self.env["crm.lead"].create(
            {"name": "Deal", "partner_id": self.partner.id}
        )
        self.assertEqual(lead.partner_lead_score_change_7d, 30)
        self.assertIn(
            lead,
            self.env["crm.lead"].search([("partner_lead_score_change_7d", ">=", 30)]),
        )
