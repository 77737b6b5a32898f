import random
from datetime import timedelta
from itertools import groupby

from odoo import Command, fields
from odoo.exceptions import AccessError
from odoo.tests import tagged

from ..models.lead_score_operation import MAX_BALANCE
from .common import LeadScoringCase
from .test_security import ApiCase


class TestBreakdown(LeadScoringCase):
    def parts(self, partner):
        return self.env["lead.score.breakdown"].search(
            [("partner_id", "=", partner.id)]
        )

    def assertAddsUp(self, partners):
        self.assertParts(partners)
        sums = {
            group["partner_id"][0]: group["points"]
            for group in self.env["lead.score.breakdown"].read_group(
                [("partner_id", "in", partners.ids)], ["points:sum"], ["partner_id"]
            )
        }
        for partner in partners:
            self.assertEqual(
                sums.get(partner.id, 0), partner.lead_score, partner.display_name
            )

    def expected_parts(self, partners):
        """The parts of these contacts, folded here from their ledger lines:
        {(contact, group, source, rule, state): (points, lines)}, the cap's
        part included (source and rule False, no line)."""
        lines = self.Operation.search([("partner_id", "in", partners.ids)]).sorted(
            lambda line: (line.partner_id.id, line.group_id.id, line.date, line.id)
        )
        expected = {}
        for (partner, group), group_lines in groupby(
            lines, key=lambda line: (line.partner_id, line.group_id)
        ):
            group_lines = list(group_lines)
            objects = partner.lead_score_objection
            sets = [
                index
                for index, line in enumerate(group_lines)
                if line.operation == "set" and not line.expired
            ]
            total = 0
            for index, line in enumerate(group_lines):
                if objects:
                    state = "objected"
                elif line.expired:
                    state = "expired"
                elif sets and index < sets[-1]:
                    state = "replaced"
                else:
                    state = "counting"
                points = 0
                if state == "counting":
                    points = -line.value if line.operation == "remove" else line.value
                total += points
                key = (partner.id, group.id, line.source, line.rule_id.id, state)
                part_points, count = expected.get(key, (0, 0))
                expected[key] = (part_points + points, count + 1)
            score = max(-MAX_BALANCE, min(MAX_BALANCE, total))
            if group.use_cap:
                score = max(group.score_min, min(group.score_max, score))
            if objects:
                score = 0
            if score != total:
                key = (partner.id, group.id, False, False, "capped")
                expected[key] = (score - total, 0)
        return expected

    def assertParts(self, partners):
        """Each part has the points and lines of its own ledger lines: the
        cap's part holds no more than what the cap took."""
        parts = self.env["lead.score.breakdown"].search(
            [("partner_id", "in", partners.ids)]
        )
        actual = {
            (
                part.partner_id.id,
                part.group_id.id,
                part.source,
                part.rule_id.id,
                part.state,
            ): (part.points, part.line_count)
            for part in parts
        }
        self.assertEqual(len(actual), len(parts), "two parts for the same lines")
        self.assertEqual(actual, self.expected_parts(partners))

    def test_parts_by_source_and_rule_with_what_no_longer_counts(self):
        now = fields.Datetime.now()
        rule = self.Rule.create(
            {"name": "Visited pricing", "value": 5, "match_all": True}
        )
        self.add(self.partner, "add", 40, days_ago=9)
        self.add(self.partner, "set", 10, days_ago=8, source="manual", note="Reset")
        self.add(self.partner, "add", 5, days_ago=7, source="rule", rule_id=rule.id)
        self.add(self.partner, "add", 5, days_ago=6, source="rule", rule_id=rule.id)
        self.add(self.partner, "remove", 3, days_ago=5, source="website")
        self.add(
            self.partner, "add", 7, days_ago=4, expiry_date=now - timedelta(hours=1)
        )
        self.Operation._expire_operations()
        self.assertEqual(self.partner.lead_score, 17)
        parts = {
            (part.source, part.rule_id, part.state): (part.points, part.line_count)
            for part in self.parts(self.partner)
        }
        self.assertEqual(
            parts,
            {
                ("api", self.Rule, "replaced"): (0, 1),
                ("manual", self.Rule, "counting"): (10, 1),
                ("rule", rule, "counting"): (10, 2),
                ("website", self.Rule, "counting"): (-3, 1),
                ("api", self.Rule, "expired"): (0, 1),
            },
        )
        self.assertAddsUp(self.partner)

    def test_a_capped_score_shows_what_the_cap_took(self):
        self.env.cr.execute(
            """INSERT INTO lead_score_operation (partner_id, date, operation, value,
                   signed_value, source, expired)
               SELECT %s, now() - i * interval '1 minute', 'add', 1000000, 1000000,
                      'api', FALSE
                 FROM generate_series(1, 2001) i""",
            [self.partner.id],
        )
        self.env["lead.score.ledger"]._refresh_scores([self.partner.id], flush=True)
        self.assertEqual(self.partner.lead_score, 2_000_000_000)
        capped = self.parts(self.partner).filtered(lambda p: p.state == "capped")
        self.assertEqual(capped.points, -1_000_000)
        self.assertAddsUp(self.partner)

    def test_parts_add_up_to_the_score_on_a_random_ledger(self):
        rng = random.Random(20261126)
        now = fields.Datetime.now()
        partners = self.env["res.partner"].create(
            [{"name": f"Random {n}"} for n in range(25)]
        )
        rule = self.Rule.create({"name": "Random rule", "value": 1, "match_all": True})
        lines = self.Operation
        for _n in range(300):
            operation = rng.choice(["add", "add", "add", "remove", "set"])
            vals = {}
            if rng.random() < 0.2:
                vals["expiry_date"] = now + timedelta(hours=rng.choice([-2, 48]))
            if rng.random() < 0.3:
                vals.update(source="rule", rule_id=rule.id)
            lines |= self.add(
                rng.choice(partners),
                operation,
                rng.randint(0, 60),
                days_ago=rng.randint(0, 90),
                **vals,
            )
        self.Operation._expire_operations()
        lines.filtered(lambda line: rng.random() < 0.1).sudo().unlink()
        self.assertTrue(self.Operation.search_count([("expired", "=", True)]))
        self.assertAddsUp(partners)
        # And on every contact of the database, the demo's included.
        self.assertAddsUp(
            self.env["res.partner"].with_context(active_test=False).search([])
        )

    def test_contact_form_shows_the_parts(self):
        self.add(self.partner, "add", 12, source="manual", note="Met at the fair")
        self.assertEqual(self.partner.lead_score_breakdown_ids.points, 12)


@tagged("post_install", "-at_install")
class TestBreakdownAccess(ApiCase):
    def test_another_company_s_parts_and_group_scores_stay_hidden(self):
        other_company = self.env["res.company"].create({"name": "Company B"})
        outsider = self.new_user(
            "ls_sec_breakdown_b",
            "lead_scoring.group_lead_scoring_user",
            company_id=other_company.id,
            company_ids=[Command.set(other_company.ids)],
        )
        self.partner.company_id = self.env.company
        self.Operation.create({"partner_id": self.partner.id, "value": 9})
        domain = [("partner_id", "=", self.partner.id)]
        for model in ("lead.score.breakdown", "lead.score.value"):
            with self.subTest(model=model):
                self.assertEqual(len(self.call(self.user, model, "search", domain)), 1)
                self.assertFalse(self.call(outsider, model, "search", domain))
                self.assertRefused(self.internal, model, "search", domain)


class TestScoreOverTime(LeadScoringCase):
    def chart(self, partner=None):
        partner = partner or self.partner
        action = partner.action_open_lead_score_history()
        self.assertEqual(action["tag"], "lead_scoring_score_chart")
        return self.env["lead.score.history"].get_chart_data(
            action["params"]["partner_id"]
        )

    def test_the_score_at_the_end_of_each_day_it_changed(self):
        self.add(self.partner, "add", 10, days_ago=3)
        self.add(self.partner, "add", 5, days_ago=3)
        self.add(self.partner, "set", 2, days_ago=1)
        self.add(self.partner, "remove", 1, days_ago=0)
        days = self.env["lead.score.history"].search(
            [("partner_id", "=", self.partner.id)]
        )
        today = fields.Datetime.now().date()  # the ledger dates days in UTC
        self.assertEqual(
            [(day.date, day.score) for day in days],
            [
                (today - timedelta(days=3), 15),
                (today - timedelta(days=1), 2),
                (today, 1),
            ],
        )
        chart = self.chart()
        self.assertEqual(chart["total"], [15, 2, 1])

    def test_a_day_without_a_change_keeps_its_score_in_every_group(self):
        fit = self.env["lead.score.group"].create({"name": "Fit"})
        engagement = self.env["lead.score.group"].create({"name": "Engagement"})
        self.Tier.create({"name": "Hot", "min_score": 50, "color": 1})
        self.add(self.partner, "add", 40, days_ago=10, group_id=fit.id)
        self.add(self.partner, "add", 20, days_ago=5, group_id=engagement.id)
        self.add(self.partner, "add", 7, days_ago=2, group_id=fit.id)
        chart = self.chart()
        today = fields.Datetime.now().date()  # the ledger dates days in UTC
        self.assertEqual(
            chart["dates"],
            [
                fields.Date.to_string(today - timedelta(days=days))
                for days in (10, 5, 2, 0)
            ],
        )
        groups = {group["name"]: group["scores"] for group in chart["groups"]}
        # Carried forward: never back to 0 between two changes.
        self.assertEqual(groups["Fit"], [40, 40, 47, 47])
        self.assertEqual(groups["Engagement"], [0, 20, 20, 20])
        self.assertEqual(chart["total"], [40, 60, 67, 67])
        self.assertEqual(chart["total"][-1], self.partner.lead_score)
        self.assertEqual(chart["tiers"], [{"name": "Hot", "min_score": 50, "color": 1}])

    def test_a_capped_group_is_drawn_capped(self):
        fit = self.env["lead.score.group"].create(
            {"name": "Fit", "use_cap": True, "score_min": 0, "score_max": 50}
        )
        self.add(self.partner, "add", 80, days_ago=1, group_id=fit.id)
        self.assertEqual(self.chart()["total"], [50, 50])
        self.assertEqual(self.partner.lead_score, 50)

    def test_only_scorers_read_the_chart(self):
        self.add(self.partner, "add", 10, days_ago=1)
        with self.assertRaises(AccessError):
            self.env["lead.score.history"].with_user(self.internal).get_chart_data(
                self.partner.id
            )
        chart = (
            self.env["lead.score.history"]
            .with_user(self.user)
            .get_chart_data(self.partner.id)
        )
        self.assertEqual(chart["total"], [10, 10])
