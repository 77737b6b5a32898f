"""Score decay: a daily job writes one 'Decay' line per contact and score
group that decays, so that scores halve every so many days or lose so many
points per period."""

from datetime import datetime, timedelta
from unittest.mock import patch

from freezegun import freeze_time

from odoo.exceptions import AccessError
from odoo.tests import tagged

from ..engine import decay
from ..engine.decay import DECAY_PASS_PARAM
from .common import LeadScoringCase

DAY = datetime(2026, 3, 2, 8, 0)


class DecayCase(LeadScoringCase):
    def decay(self, days_later, half_life=30):
        """The daily job, run days_later than DAY, the default group halving
        every half_life days (0: no decay)."""
        self.env["lead.score.group"]._default_group().write(
            {"decay": "half_life", "decay_half_life_days": half_life}
            if half_life
            else {"decay": "none"}
        )
        self.run_decay(days_later)

    def run_decay(self, days_later):
        with freeze_time(DAY + timedelta(days=days_later)):
            self.env["lead.score.decay"]._cron_decay_scores()

    def decay_lines(self, partner):
        return self.Operation.search(
            [("partner_id", "=", partner.id), ("source", "=", "decay")]
        )

    def scored(self, name, value, operation="add"):
        partner = self.env["res.partner"].create({"name": name})
        with freeze_time(DAY):
            self.add(partner, operation, value)
        return partner


@tagged("post_install", "-at_install")
class TestDecay(DecayCase):
    def test_a_day_of_decay_then_nothing_more_that_day(self):
        ada = self.scored("Ada", 100)
        self.decay(1)
        self.assertEqual(ada.lead_score, 98)  # 100 - round(100 * 0.5 ** (1 / 30))
        line = self.decay_lines(ada)
        self.assertEqual((line.operation, line.value, line.balance), ("remove", 2, 98))
        self.decay(1)
        self.assertEqual(len(self.decay_lines(ada)), 1)
        self.assertEqual(ada.lead_score, 98)

    def test_a_later_run_that_day_repairs_scores_that_a_crash_left_behind(self):
        """A run killed between its lines (committed) and its scores: a run
        later that day finds the lines by the day's key, stores the scores
        and adds no line."""
        ada = self.scored("Ada", 100)
        self.env["lead.score.group"]._default_group().write(
            {"decay": "half_life", "decay_half_life_days": 30}
        )
        Refresh = type(self.env["lead.score.refresh"])
        with (
            patch.object(Refresh, "_refresh_in_chunks", autospec=True) as crash,
            freeze_time(DAY + timedelta(days=1)),
        ):
            self.env["lead.score.decay"]._cron_decay_scores()
        self.assertTrue(crash.called)
        self.env.invalidate_all()
        line = self.decay_lines(ada)
        self.assertEqual((line.value, line.balance, ada.lead_score), (2, 98, 100))
        self.run_decay(1.5)  # 12 hours later, the same day
        self.env.invalidate_all()
        self.assertEqual(self.decay_lines(ada), line)
        self.assertEqual(ada.lead_score, 98)
        self.assertEqual(ada.lead_score_value_ids.score, 98)

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
        self.env["lead.score.ledger"]._refresh_scores(
            [partner.id for partner in partners]
        )
        for partner, value in zip(partners, (100, 37, 999), strict=True):
            partner.invalidate_recordset()
            self.assertEqual(partner.lead_score, scores[partner])
            self.assertEqual(partner.lead_score, expected[value])

    def test_a_pass_stopped_by_its_deadline_goes_on_at_the_next_call(self):
        """A call past its deadline stops after a batch (here one contact);
        the next call, an hour later, goes on where it stopped and dates its
        lines as the pass began, so that nobody decays twice or not at all."""
        partners = [self.scored(f"P{value}", value) for value in (100, 40)]
        self.decay(0)
        start = DAY + timedelta(days=30)
        calls = 0
        self.registry.cache_invalidated.clear()
        engine = self.env["lead.score.engine"]
        with patch.object(decay, "DECAY_BATCH", 1):
            while calls == 0 or engine._saved_position(DECAY_PASS_PARAM):
                self.assertLess(calls, 100, "the pass does not move on")
                with freeze_time(start + timedelta(hours=calls)):
                    self.env["lead.score.decay"]._decay_scores(deadline=0)
                calls += 1
        self.assertGreater(calls, 2)
        # Its position is kept without clearing every Odoo worker's caches
        # at each batch (as set_param does).
        self.assertFalse(self.registry.cache_invalidated)
        for partner, score in zip(partners, (50, 20), strict=True):
            line = self.decay_lines(partner)
            self.assertEqual((line.date, partner.lead_score), (start, score))

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


@tagged("post_install", "-at_install")
class TestLinearDecay(DecayCase):
    def linear(self, points, days, **vals):
        """The default group loses points every days."""
        self.env["lead.score.group"]._default_group().write(
            {
                "decay": "linear",
                "decay_points": points,
                "decay_period_days": days,
                **vals,
            }
        )

    def test_points_per_whole_period_the_rest_carried_over(self):
        ada = self.scored("Ada", 100)
        self.linear(5, 7)
        for day, score in [(0, 100), (6, 100), (7, 95), (17, 90), (21, 85)]:
            # Day 17 catches up one period (days 8 to 16 missed), days 15 to
            # 17 count in the next: day 21 ends it.
            self.run_decay(day)
            self.assertEqual(ada.lead_score, score, f"day {day}")
        self.run_decay(21)
        self.run_decay(42)  # three periods missed, one line
        self.assertEqual(ada.lead_score, 70)
        self.assertEqual(self.decay_lines(ada).mapped("value"), [15, 5, 5, 5])
        self.env["lead.score.ledger"]._refresh_scores([ada.id])
        ada.invalidate_recordset()
        self.assertEqual(ada.lead_score, 70)
        self.assertEqual(
            [balance for _op, _value, balance in self.balances(ada)],
            [100, 95, 90, 85, 70],
        )

    def test_stops_at_zero(self):
        ada = self.scored("Ada", 12)
        self.linear(5, 1)
        self.run_decay(0)
        self.run_decay(10)
        self.assertEqual(ada.lead_score, 0)
        self.assertEqual(self.decay_lines(ada).value, 12)
        self.run_decay(11)
        self.assertEqual(len(self.decay_lines(ada)), 1)

    def test_below_zero_down_to_the_cap_minimum(self):
        ada = self.scored("Ada", 12)
        self.linear(5, 1, decay_below_zero=True, use_cap=True, score_min=-20)
        self.run_decay(0)
        self.run_decay(3)
        self.assertEqual(ada.lead_score, -3)
        self.run_decay(10)
        self.assertEqual(ada.lead_score, -20)
        self.run_decay(11)
        self.assertEqual(self.decay_lines(ada).mapped("value"), [17, 15])
        # Without a cap, on below zero; a score of 0 decays too.
        zero = self.scored("Zero", 0, operation="set")
        self.env["lead.score.group"]._default_group().use_cap = False
        self.run_decay(12)
        self.assertEqual((ada.lead_score, zero.lead_score), (-30, -60))
