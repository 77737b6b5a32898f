"""Score decay: a daily job writes one 'Decay' line per contact with a
positive score, so that scores halve every so many days."""

from datetime import datetime, timedelta

from freezegun import freeze_time

from odoo.exceptions import AccessError
from odoo.tests import tagged

from odoo.addons.lead_scoring.models.lead_score_operation import (
    DECAY_HALF_LIFE_PARAM,
)

from .common import LeadScoringCase

DAY = datetime(2026, 3, 2, 8, 0)


@tagged("post_install", "-at_install")
class TestDecay(LeadScoringCase):
    def decay(self, days_later, half_life=30):
        """The daily job, run days_later than DAY."""
        self.env["ir.config_parameter"].set_param(DECAY_HALF_LIFE_PARAM, half_life)
        with freeze_time(DAY + timedelta(days=days_later)):
            self.Operation._cron_decay_scores()

    def decay_lines(self, partner):
        return self.Operation.search(
            [("partner_id", "=", partner.id), ("source", "=", "decay")]
        )

    def scored(self, name, value, operation="add"):
        partner = self.env["res.partner"].create({"name": name})
        with freeze_time(DAY):
            self.add(partner, operation, value)
        return partner

    def test_a_day_of_decay_then_nothing_more_that_day(self):
        ada = self.scored("Ada", 100)
        self.decay(1)
        self.assertEqual(ada.lead_score, 98)  # 100 - round(100 * 0.5 ** (1 / 30))
        line = self.decay_lines(ada)
        self.assertEqual((line.operation, line.value, line.balance), ("remove", 2, 98))
        self.decay(1)
        self.assertEqual(len(self.decay_lines(ada)), 1)
        self.assertEqual(ada.lead_score, 98)

    def test_missed_days_are_caught_up(self):
        ada = self.scored("Ada", 100)
        self.decay(0)  # the job's first day: nothing to lose yet
        self.assertFalse(self.decay_lines(ada))
        self.decay(30)
        self.assertEqual(ada.lead_score, 50)
        self.decay(31)
        self.assertEqual(ada.lead_score, 49)  # 50 - round(50 * 0.5 ** (1 / 30))

    def test_small_scores_decay_too(self):
        # 10 points lose less than half a point a day: the days add up until
        # a whole point is lost.
        ada = self.scored("Ada", 10)
        for day in range(4):
            self.decay(day)
        self.assertEqual(ada.lead_score, 9)  # round(10 * 0.5 ** (3 / 30))
        self.assertEqual(len(self.decay_lines(ada)), 1)

    def test_replay_equals_score(self):
        partners = [self.scored(f"P{value}", value) for value in (100, 37, 999)]
        for day in range(1, 8):
            self.decay(day, half_life=7)
        # Each day's loss is rounded: 37 ends at 19 (18.5 exactly).
        expected = {100: 50, 37: 19, 999: 500}
        scores = {partner: partner.lead_score for partner in partners}
        self.Operation._refresh_scores([partner.id for partner in partners])
        for partner, value in zip(partners, (100, 37, 999), strict=True):
            partner.invalidate_recordset()
            self.assertEqual(partner.lead_score, scores[partner])
            self.assertEqual(partner.lead_score, expected[value])

    def test_untouched_contacts(self):
        zero = self.scored("Zero", 0, operation="set")
        negative = self.scored("Negative", -5, operation="set")
        objector = self.scored("Objector", 100)
        objector.lead_score_objection = True
        archived = self.scored("Archived", 100)
        archived.active = False
        self.decay(5)
        for partner in (zero, negative, objector, archived):
            self.assertFalse(self.decay_lines(partner), partner.name)
        self.assertEqual(negative.lead_score, -5)

    def test_never_below_zero(self):
        ada = self.scored("Ada", 3)
        self.decay(0, half_life=1)
        self.decay(60, half_life=1)
        self.assertEqual(ada.lead_score, 0)
        self.assertEqual(self.decay_lines(ada).value, 3)

    def test_breakdown_shows_decay(self):
        ada = self.scored("Ada", 100)
        self.decay(1)
        parts = self.env["lead.score.breakdown"].search([("partner_id", "=", ada.id)])
        decay = parts.filtered(lambda part: part.source == "decay")
        self.assertEqual(decay.points, -2)
        self.assertEqual(sum(parts.mapped("points")), ada.lead_score)

    def test_no_decay_without_half_life(self):
        ada = self.scored("Ada", 100)
        self.decay(10, half_life=0)
        self.assertFalse(self.decay_lines(ada))
        self.assertEqual(ada.lead_score, 100)

    def test_decay_key_is_reserved(self):
        with self.assertRaises(AccessError):
            self.add(self.partner, "add", 1, idempotency_key="lead-scoring:decay:x")
