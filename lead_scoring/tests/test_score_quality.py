from datetime import timedelta
from itertools import product

from odoo import fields
from odoo.exceptions import AccessError
from odoo.tests import Form, new_test_user, tagged

from ..wizards.lead_score_quality import roc_auc, youden_threshold
from .common import LeadScoringCase


@tagged("post_install", "-at_install")
class TestScoreQuality(LeadScoringCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # Only this test's opportunities fall in the report's period.
        cls.env["crm.lead"].with_context(active_test=False).search([]).write(
            {"type": "lead"}
        )
        cls.team_a = cls.env["crm.team"].create({"name": "Team A"})
        cls.team_b = cls.env["crm.team"].create({"name": "Team B"})
        cls.count = 0

    def opportunity(self, score, won, days_ago=10, revenue=1000, **vals):
        """An opportunity created days_ago, since won or lost, of a new contact
        whose score was ``score`` (from a line 30 days ago) when it was created."""
        self.count += 1
        partner = self.env["res.partner"].create({"name": f"Contact {self.count}"})
        if score:
            self.add(partner, "set", score, days_ago=30)
        lead = self.env["crm.lead"].create(
            {
                "name": f"Deal {self.count}",
                "type": "opportunity",
                "partner_id": partner.id,
                "expected_revenue": revenue,
                "team_id": self.team_a.id,
                **vals,
            }
        )
        if won:
            lead.action_set_won()
        else:
            lead.action_set_lost()
        self.env.flush_all()
        self.env.cr.execute(
            "UPDATE crm_lead SET create_date = %s WHERE id = %s",
            [fields.Datetime.now() - timedelta(days=days_ago), lead.id],
        )
        lead.invalidate_recordset(["create_date"])
        return lead

    def report(self, user=None, **vals):
        report = self.env["lead.score.quality"].with_user(user or self.env.user)
        report = report.create({"band_width": 25, **vals})
        report.action_compute()
        return report

    def lines(self, report, kind, scope="all", team=None):
        """{label: (count, won, won rate, lift)}"""
        return {
            line.label: (
                line.opportunity_count,
                line.won_count,
                round(line.won_rate, 1),
                round(line.lift, 2),
            )
            for line in report.line_ids
            if line.kind == kind
            and line.scope == scope
            and (team is None or line.team_id == team)
        }

    def test_perfectly_separating_score(self):
        for score in (80, 90):
            self.opportunity(score, won=True)
        for score in (10, 20):
            self.opportunity(score, won=False)
        report = self.report()
        self.assertEqual((report.opportunity_count, report.won_count), (4, 2))
        self.assertEqual(report.won_rate, 50)
        self.assertEqual(report.auc, 1.0)
        self.assertEqual(report.threshold, 80)
        self.assertEqual((report.threshold_tpr, report.threshold_fpr), (100, 0))
        self.assertEqual(
            self.lines(report, "band"),
            {"0 – 24": (2, 0, 0.0, 0.0), "75 – 99": (2, 2, 100.0, 2.0)},
        )
        band = report.line_ids.filtered(lambda line: line.label == "75 – 99")[:1]
        self.assertEqual(band.expected_revenue, 2000)
        self.assertEqual((band.won_share, band.lost_share), (100, 0))
        self.assertIn("ROC AUC 1.00", report.action_open_lines()["name"])

    def test_inverted_score(self):
        for score in (5, 15):
            self.opportunity(score, won=True)
        for score in (60, 70, 80):
            self.opportunity(score, won=False)
        report = self.report()
        self.assertEqual(report.auc, 0.0)
        self.assertEqual(
            self.lines(report, "band"),
            {
                "0 – 24": (2, 2, 100.0, 2.5),
                "50 – 74": (2, 0, 0.0, 0.0),
                "75 – 99": (1, 0, 0.0, 0.0),
            },
        )

    def test_tied_scores_are_chance(self):
        for won in (True, False, True, False, False, True):
            self.opportunity(50, won=won)
        report = self.report()
        self.assertEqual(report.auc, 0.5)
        self.assertEqual(self.lines(report, "band"), {"50 – 74": (6, 3, 50.0, 1.0)})

    def test_no_auc_without_won_and_lost(self):
        self.opportunity(50, won=True)
        report = self.report()
        self.assertFalse(report.has_auc)
        self.assertEqual(report.won_rate, 100)

    def test_auc_counts_ties_half(self):
        for scored in (
            [(1, True), (2, True), (2, True), (2, False), (0, False)],
            [(3, True), (1, False), (3, False), (3, True), (-2, True), (0, False)],
        ):
            won = [score for score, is_won in scored if is_won]
            lost = [score for score, is_won in scored if not is_won]
            pairs = [
                1 if w > lo else 0.5 if w == lo else 0 for w, lo in product(won, lost)
            ]
            self.assertAlmostEqual(roc_auc(scored), sum(pairs) / len(pairs))
        self.assertEqual(
            youden_threshold([(1, False), (2, True), (3, False), (4, True)]),
            (2, 1.0, 0.5),
        )

    def test_later_score_changes_do_not_leak(self):
        lead = self.opportunity(10, won=True, days_ago=10)
        partner = lead.partner_id
        # After the opportunity was created: not in the report.
        self.add(partner, "add", 100, days_ago=5)
        self.add(partner, "set", 500, days_ago=2)
        # Before it: an add that still counted then, one expired by then, and
        # one whose expiry came later.
        self.add(
            partner,
            "add",
            7,
            days_ago=20,
            expiry_date=fields.Datetime.now() - timedelta(days=15),
        )
        self.add(
            partner,
            "add",
            3,
            days_ago=20,
            expiry_date=fields.Datetime.now() - timedelta(days=1),
        )
        self.Operation._expire_operations()
        self.opportunity(0, won=False)
        self.assertEqual(partner.lead_score, 500)
        report = self.report()
        self.assertEqual(self.lines(report, "band")["0 – 24"], (2, 1, 50.0, 1.0))
        self.assertEqual(report.threshold, 13)

    def test_a_line_a_minute_after_the_creation_does_not_count(self):
        """The score when the opportunity was created, to the minute: a line
        a minute later (points added, or a set) is not in it, a line a
        minute before is."""
        minute = timedelta(minutes=1)
        for later_operation, later_value in (("add", 100), ("set", 500)):
            with self.subTest(later=later_operation):
                lead = self.opportunity(10, won=True, days_ago=10)
                for date, operation, value in (
                    (lead.create_date - minute, "add", 5),
                    (lead.create_date + minute, later_operation, later_value),
                ):
                    self.Operation.create(
                        {
                            "partner_id": lead.partner_id.id,
                            "operation": operation,
                            "value": value,
                            "date": date,
                            "source": "api",
                        }
                    )
                report = self.report()
                self.assertEqual(report.opportunity_count, 1)
                # Without tiers, the line "No tier" starts at its lowest score.
                no_tier = report.line_ids.filtered(lambda line: line.kind == "tier")
                self.assertEqual(set(no_tier.mapped("score_from")), {15})
                self.assertEqual(
                    self.lines(report, "band"), {"0 – 24": (1, 1, 100.0, 1.0)}
                )
                lead.unlink()

    def test_tiers_and_teams(self):
        self.Tier.create(
            [{"name": "Cold", "min_score": 0}, {"name": "Hot", "min_score": 50}]
        )
        self.opportunity(-20, won=False)
        self.opportunity(20, won=False, team_id=self.team_b.id)
        self.opportunity(30, won=True)
        self.opportunity(60, won=True, team_id=self.team_b.id)
        self.opportunity(70, won=False)
        report = self.report()
        self.assertEqual(report.tier_bands, "Cold ≥ 0 · Hot ≥ 50")
        self.assertEqual(
            self.lines(report, "tier"),
            {
                "No tier": (1, 0, 0.0, 0.0),
                "Cold": (2, 1, 50.0, 1.25),
                "Hot": (2, 1, 50.0, 1.25),
            },
        )
        # Per team, the lift is over the team's own won rate.
        self.assertEqual(
            self.lines(report, "tier", "team", self.team_b),
            {"Cold": (1, 0, 0.0, 0.0), "Hot": (1, 1, 100.0, 2.0)},
        )
        hot = report.line_ids.filtered(
            lambda line: line.label == "Hot" and line.scope == "all"
        )
        self.assertEqual((hot.won_share, hot.lost_share), (50, 33.3))
        only_b = self.report(team_ids=[self.team_b.id])
        self.assertEqual(only_b.opportunity_count, 2)

    def test_period_and_state(self):
        self.opportunity(40, won=True, days_ago=400)
        self.opportunity(40, won=True, days_ago=10)
        open_deal = self.opportunity(40, won=True, days_ago=10)
        open_stage = self.env["crm.stage"].search([("is_won", "=", False)], limit=1)
        open_deal.write({"stage_id": open_stage.id, "probability": 30})
        self.assertEqual(self.report().opportunity_count, 1)
        today = fields.Date.today()
        self.assertEqual(
            self.report(date_from=today - timedelta(days=500)).opportunity_count, 2
        )

    def test_access(self):
        salesman = new_test_user(
            self.env,
            "ls_salesman",
            groups="sales_team.group_sale_salesman,lead_scoring.group_lead_scoring_user",
        )
        self.opportunity(40, won=True, user_id=salesman.id)
        self.opportunity(40, won=False, user_id=self.manager.id)
        # A salesman sees his own opportunities only, as in the pipeline.
        self.assertEqual(self.report(user=salesman).opportunity_count, 1)
        self.assertEqual(self.report().opportunity_count, 2)
        # Without the Lead Scoring group, or without CRM access: no report.
        sales_only = new_test_user(
            self.env, "ls_sales_only", groups="sales_team.group_sale_salesman_all_leads"
        )
        with self.assertRaises(AccessError):
            self.report(user=sales_only)
        with self.assertRaises(AccessError):
            self.report(user=self.user)

    def test_form_and_views(self):
        self.opportunity(80, won=True)
        self.opportunity(20, won=False)
        with Form(self.env["lead.score.quality"]) as form:
            form.band_width = 50
        self.assertIs(form.record.action_compute(), True, "the form shows the verdict")
        action = form.record.action_open_lines()
        self.assertEqual(action["res_model"], "lead.score.quality.line")
        self.assertEqual(action["view_mode"], "list,pivot,graph")
        lines = self.env["lead.score.quality.line"].search(action["domain"])
        self.assertEqual(
            sorted(lines.filtered(lambda line: line.scope == "all").mapped("label")),
            ["0 – 49", "50 – 99", "No tier"],
        )

    def test_verdict_in_words(self):
        for score in (80, 90):
            self.opportunity(score, won=True)
        for score in (10, 20):
            self.opportunity(score, won=False)
        self.assertEqual(
            self.report().verdict, "The score separates won from lost deals well."
        )

    def test_an_empty_period_says_so(self):
        report = self.report()
        self.assertEqual(report.opportunity_count, 0)
        self.assertIn("No opportunity created in this period", report.verdict)

    def test_compute_leaves_one_report_per_user(self):
        first = self.report()
        second = self.report()
        self.assertFalse(first.exists())
        self.assertTrue(second.exists())

    def test_line_totals_count_each_opportunity_once(self):
        self.opportunity(80, won=True)
        self.opportunity(20, won=False)
        report = self.report()
        action = report.action_open_lines()
        context = action["context"]
        if isinstance(context, str):
            context = eval(context)  # noqa: S307 - the action's own literal
        self.assertTrue(context.get("search_default_tiers"))
        tier_lines = report.line_ids.filtered(
            lambda line: line.scope == "all" and line.kind == "tier"
        )
        self.assertEqual(sum(tier_lines.mapped("opportunity_count")), 2)

    def test_a_manager_starts_a_tier_at_the_threshold(self):
        hot = self.env["lead.score.tier"].create({"name": "Very hot", "min_score": 500})
        for score in (80, 90):
            self.opportunity(score, won=True)
        for score in (10, 20):
            self.opportunity(score, won=False)
        report = self.report()
        report.threshold_tier_id = hot
        report.action_use_threshold()
        self.assertEqual(hot.min_score, report.threshold)
        # A Lead Scoring user may read the report, not move the tiers.
        scorer = new_test_user(
            self.env,
            "ls_quality_scorer",
            groups="sales_team.group_sale_salesman_all_leads,"
            "lead_scoring.group_lead_scoring_user",
        )
        mine = self.report(user=scorer)
        mine.threshold_tier_id = hot
        with self.assertRaises(AccessError):
            mine.action_use_threshold()
