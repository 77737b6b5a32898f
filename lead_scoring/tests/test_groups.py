"""Score groups: a contact has one score per group (Fit, Engagement ...);
the total adds them up, or is one chosen group's."""

from datetime import date, datetime, timedelta
from unittest.mock import patch

from freezegun import freeze_time

from odoo import fields
from odoo.exceptions import UserError, ValidationError
from odoo.tests import tagged
from odoo.tools import SQL

from odoo.addons.lead_scoring.engine import recompute
from odoo.addons.lead_scoring.models.lead_score_group import TOTAL_GROUP_PARAM

from .common import LeadScoringCase, load_migration
from .test_security import ApiCase


class GroupsCase(LeadScoringCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Group = cls.env["lead.score.group"]
        # Only the groups of the test (the demo's archived).
        cls.Group.search([("is_default", "=", False)]).write({"active": False})
        cls.default = cls.Group._default_group()
        cls.fit = cls.Group.create({"name": "Fit"})
        cls.engagement = cls.Group.create({"name": "Engagement"})

    def group_scores(self, partner):
        return {value.group_id: value.score for value in partner.lead_score_value_ids}

    def parts_by_group(self, partner):
        sums = {}
        for part in self.env["lead.score.breakdown"].search(
            [("partner_id", "=", partner.id)]
        ):
            sums[part.group_id] = sums.get(part.group_id, 0) + part.points
        return sums


@tagged("post_install", "-at_install")
class TestGroups(GroupsCase):
    def test_each_group_has_its_score_and_the_total_adds_them_up(self):
        fit_rule = self.Rule.create(
            {
                "name": "Has a job title",
                "value": 15,
                "group_id": self.fit.id,
                "domain": f"[('id', '=', {self.partner.id})]",
            }
        )
        engagement_rule = self.Rule.create(
            {
                "name": "Has an email",
                "value": 30,
                "group_id": self.engagement.id,
                "domain": f"[('id', '=', {self.partner.id})]",
            }
        )
        self.env["lead.score.run"]._run_rules(fit_rule | engagement_rule)
        self.add(self.partner, "add", 5, group_id=self.engagement.id)
        self.add(self.partner, "add", 7)
        self.assertEqual(
            self.group_scores(self.partner),
            {self.fit: 15, self.engagement: 35, self.default: 7},
        )
        self.assertEqual(self.partner.lead_score, 57)
        self.assertEqual(
            self.partner.lead_score_operation_ids.filtered("rule_id").group_id,
            self.fit | self.engagement,
        )
        self.assertEqual(
            self.partner.lead_score_summary, "General 7 · Fit 15 · Engagement 35"
        )
        # The breakdown's parts add up to each group's score.
        self.assertEqual(
            self.parts_by_group(self.partner), self.group_scores(self.partner)
        )

    def test_the_total_may_be_one_chosen_group(self):
        self.add(self.partner, "add", 20, group_id=self.fit.id)
        self.add(self.partner, "add", 50, group_id=self.engagement.id)
        self.assertEqual(self.partner.lead_score, 70)
        hot = self.Tier.create(
            {"name": "Engaged", "min_score": 40, "group_id": self.engagement.id}
        )
        settings = self.env["res.config.settings"].create(
            {"lead_score_total_group_id": self.engagement.id}
        )
        settings.execute()
        self.assertEqual(
            self.env["ir.config_parameter"].get_param(TOTAL_GROUP_PARAM),
            str(self.engagement.id),
        )
        self.assertEqual(self.partner.lead_score, 50)
        # The total's tiers are the chosen group's.
        self.assertEqual(self.partner.lead_score_tier_id, hot)
        self.add(self.partner, "add", 5, group_id=self.fit.id)
        self.assertEqual(self.partner.lead_score, 50)
        self.env["res.config.settings"].create(
            {"lead_score_total_group_id": False}
        ).execute()
        self.assertEqual(self.partner.lead_score, 75)
        self.assertFalse(self.partner.lead_score_tier_id)

    def test_velocity_follows_the_groups_that_count(self):
        """Archiving a group takes its points out of the score and out of the
        velocity, in the same recompute."""
        self.add(self.partner, "add", 30, group_id=self.fit.id)
        self.add(self.partner, "add", 20, group_id=self.engagement.id)
        self.partner.invalidate_recordset()
        self.assertEqual(self.partner.lead_score_change_7d, 50)
        self.engagement.active = False
        self.partner.invalidate_recordset()
        self.assertEqual(self.partner.lead_score, 30)
        self.assertEqual(
            (self.partner.lead_score_change_7d, self.partner.lead_score_change_30d),
            (30, 30),
        )

    def test_a_cap_keeps_the_group_score_and_the_breakdown_adds_up(self):
        self.fit.write({"use_cap": True, "score_min": 0, "score_max": 40})
        self.add(self.partner, "add", 30, group_id=self.fit.id)
        self.add(self.partner, "add", 25, group_id=self.fit.id)
        self.add(self.partner, "add", 10, group_id=self.engagement.id)
        self.assertEqual(
            self.group_scores(self.partner), {self.fit: 40, self.engagement: 10}
        )
        self.assertEqual(self.partner.lead_score, 50)
        parts = self.env["lead.score.breakdown"].search(
            [("partner_id", "=", self.partner.id), ("state", "=", "capped")]
        )
        self.assertEqual((parts.group_id, parts.points), (self.fit, -15))
        self.assertEqual(
            self.parts_by_group(self.partner), self.group_scores(self.partner)
        )
        # The ledger keeps every point: lifting the cap gives them back.
        self.fit.use_cap = False
        self.assertEqual(self.group_scores(self.partner)[self.fit], 55)
        self.assertEqual(self.partner.lead_score, 65)
        with self.assertRaises(ValidationError):
            self.fit.write({"use_cap": True, "score_min": 50, "score_max": 10})

    def test_a_change_of_configuration_is_recomputed_in_batches_by_the_job(self):
        """At a million contacts, no request may recompute them all: the
        change's request does what its budget allows, the job the rest."""
        partners = self.env["res.partner"].create(
            [{"name": f"Batch {index}"} for index in range(5)]
        )
        for partner in partners:
            self.add(partner, "add", 30)
        job = self.env.ref("lead_scoring.ir_cron_recompute_scores")
        triggers = self.env["ir.cron.trigger"].search([("cron_id", "=", job.id)])
        with (
            patch.object(recompute, "RECOMPUTE_BATCH", 2),
            patch.object(recompute, "RECOMPUTE_INLINE_SECONDS", -1),
        ):
            self.default.write({"use_cap": True, "score_min": 0, "score_max": 20})
            self.Tier.create({"name": "Capped", "min_score": 20})
            # One batch of the lowest contacts done: ours are beyond it.
            self.assertEqual(partners.mapped("lead_score"), [30] * 5)
            self.assertFalse(partners.lead_score_tier_id)
            Recompute = self.env["lead.score.recompute"]
            self.assertTrue(Recompute._recompute_after())
            self.assertGreater(
                self.env["ir.cron.trigger"].search([("cron_id", "=", job.id)]),
                triggers,
            )
            # A call stopped by its time goes on from there at the next,
            # without clearing every Odoo worker's caches (as set_param does).
            before = Recompute._recompute_after()
            self.registry.cache_invalidated.clear()
            Recompute._recompute_pending(commit=False, deadline=0)
            self.assertGreater(Recompute._recompute_after(), before)
            self.assertFalse(self.registry.cache_invalidated)
            Recompute._cron_recompute_scores()
        self.assertIsNone(Recompute._recompute_after())
        partners.invalidate_recordset()
        self.assertEqual(partners.mapped("lead_score"), [20] * 5)
        self.assertEqual(
            [partner.lead_score_tier_id.name for partner in partners], ["Capped"] * 5
        )
        self.assertEqual(
            {self.group_scores(partner)[self.default] for partner in partners}, {20}
        )

    def test_a_set_in_one_group_leaves_the_others(self):
        self.add(self.partner, "add", 30, group_id=self.fit.id)
        self.add(self.partner, "add", 20, group_id=self.engagement.id)
        self.add(self.partner, "set", 5, group_id=self.engagement.id)
        self.add(self.partner, "add", 1, group_id=self.fit.id)
        self.assertEqual(
            self.group_scores(self.partner), {self.fit: 31, self.engagement: 5}
        )
        self.assertEqual(self.partner.lead_score, 36)
        # Each line's balance is its group's.
        self.assertEqual(
            [(op.group_id, op.balance) for op in self.partner.lead_score_operation_ids],
            [
                (self.fit, 31),
                (self.engagement, 5),
                (self.engagement, 20),
                (self.fit, 30),
            ],
        )

    def test_contacts_filter_by_a_group_score(self):
        other = self.env["res.partner"].create({"name": "Grace Hopper"})
        self.add(self.partner, "add", 60, group_id=self.engagement.id)
        self.add(other, "add", 60, group_id=self.fit.id)
        self.add(other, "add", 10, group_id=self.engagement.id)
        found = self.env["res.partner"].search(
            [
                (
                    "lead_score_value_ids",
                    "any",
                    [("group_id", "=", self.engagement.id), ("score", ">=", 50)],
                )
            ]
        )
        self.assertEqual(found, self.partner)

    def test_leads_show_their_contacts_group_scores(self):
        self.Tier.create(
            {"name": "Good fit", "min_score": 30, "group_id": self.fit.id, "color": 10}
        )
        other = self.env["res.partner"].create({"name": "Grace Hopper"})
        self.add(self.partner, "add", 40, group_id=self.fit.id)
        self.add(self.partner, "add", 12, group_id=self.engagement.id)
        self.add(other, "add", 5, group_id=self.engagement.id)
        Lead = self.env["crm.lead"]
        leads = Lead.create(
            [
                {"name": "Ada's deal", "partner_id": self.partner.id},
                {"name": "Grace's deal", "partner_id": other.id},
                {"name": "Nobody's deal"},
            ]
        )

        def tags(leads):
            return [
                [
                    (v.display_name, v.tier_color)
                    for v in lead.partner_lead_score_value_ids
                ]
                for lead in leads
            ]

        self.assertEqual(
            tags(leads),
            [[("Fit 40", 10), ("Engagement 12", 0)], [("Engagement 5", 0)], []],
        )

        def queries(leads):
            self.env.invalidate_all()
            count = self.cr.sql_log_count
            tags(leads)
            return self.cr.sql_log_count - count

        # Read for all the leads shown at once, not lead by lead.
        self.assertEqual(queries(leads), queries(Lead.browse(leads[0].id)))
        # Not for a contact who objects, nor with a single group.
        other.lead_score_objection = True
        self.engagement.active = False
        self.assertEqual(tags(leads), [[("Fit 40", 10)], [], []])
        self.fit.active = False
        self.assertEqual(tags(leads), [[], [], []])

    def test_the_opportunity_shows_the_group_scores_the_card_its_tier(self):
        views = self.env["crm.lead"].get_views([(False, "kanban"), (False, "form")])
        form, kanban = views["views"]["form"]["arch"], views["views"]["kanban"]["arch"]
        self.assertIn('name="partner_lead_score_value_ids"', form)
        # A pipeline card keeps the tier and grade, apart from the lead's
        # tags (see test_ui's pipeline tour); the group scores are on the form.
        self.assertNotIn('name="partner_lead_score_value_ids"', kanban)
        self.assertIn('name="partner_lead_score_tier_id"', kanban)

    def test_manual_adjustment_names_its_group(self):
        wizard = (
            self.env["lead.score.adjust"]
            .with_user(self.user)
            .create(
                {
                    "partner_ids": [(6, 0, self.partner.ids)],
                    "group_id": self.engagement.id,
                    "value": 12,
                    "note": "Long call",
                }
            )
        )
        wizard.action_apply()
        self.assertEqual(self.group_scores(self.partner), {self.engagement: 12})
        wizard = self.env["lead.score.adjust"].create(
            {"partner_ids": [(6, 0, self.partner.ids)], "note": "Met"}
        )
        self.assertEqual(wizard.group_id, self.default)
        self.assertEqual(wizard.current_score, 0)

    def test_an_objection_zeroes_every_group(self):
        self.add(self.partner, "add", 30, group_id=self.fit.id)
        self.partner.lead_score_objection = True
        self.assertEqual(self.group_scores(self.partner), {self.fit: 0})
        self.assertEqual(self.partner.lead_score, 0)
        self.partner.lead_score_objection = False
        self.assertEqual(self.group_scores(self.partner), {self.fit: 30})

    def test_the_default_group_stays(self):
        with self.assertRaises(UserError):
            self.default.active = False
        with self.assertRaises(UserError):
            self.default.unlink()
        with self.assertRaises(UserError):
            self.default.is_default = False
        self.assertEqual(
            self.Operation._fields["group_id"].default(self.Operation), self.default
        )

    def test_each_group_has_its_own_tiers(self):
        warm = self.Tier.create({"name": "Warm", "min_score": 10})
        engaged = self.Tier.create(
            {"name": "Warm", "min_score": 10, "group_id": self.engagement.id}
        )
        self.add(self.partner, "add", 15, group_id=self.engagement.id)
        value = self.partner.lead_score_value_ids
        self.assertEqual(value.tier_id, engaged)
        self.assertEqual(warm.group_id, self.default)
        self.assertEqual(engaged.partner_count, 1)
        engaged.min_score = 20
        value.invalidate_recordset()
        self.assertFalse(value.tier_id)

    def test_each_group_decays_on_its_own(self):
        day = datetime(2026, 3, 2, 8, 0)
        with freeze_time(day):
            self.add(self.partner, "add", 100, group_id=self.fit.id)
            self.add(self.partner, "add", 40, group_id=self.engagement.id)
            self.add(self.partner, "add", 30)
        self.fit.write({"decay": "half_life", "decay_half_life_days": 10})
        self.engagement.write(
            {"decay": "linear", "decay_points": 5, "decay_period_days": 1}
        )
        for days in (10, 12):
            with freeze_time(day + timedelta(days=days)):
                self.env["lead.score.decay"]._cron_decay_scores()
        # Decay starts the day before its first run: one day lost on day 10,
        # two more on day 12; the default group does not decay.
        self.assertEqual(
            self.group_scores(self.partner),
            {self.fit: 81, self.engagement: 25, self.default: 30},
        )
        decay = self.partner.lead_score_operation_ids.filtered(
            lambda op: op.source == "decay"
        )
        self.assertEqual(
            sorted((op.group_id.name, op.value) for op in decay),
            [("Engagement", 5), ("Engagement", 10), ("Fit", 7), ("Fit", 12)],
        )
        self.assertEqual(self.partner.lead_score, 136)
        self.env["lead.score.ledger"]._refresh_scores([self.partner.id])
        self.partner.invalidate_recordset()
        self.assertEqual(self.partner.lead_score, 136)

    def test_decay_settings_are_checked(self):
        for vals in [
            {"decay": "half_life", "decay_half_life_days": 0},
            {"decay": "linear", "decay_points": -3, "decay_period_days": 7},
            {"decay": "linear", "decay_points": 5, "decay_period_days": 100_001},
        ]:
            with self.assertRaises(ValidationError), self.env.cr.savepoint():
                self.fit.write(vals)
        # Not decaying, the numbers do not matter.
        self.fit.write({"decay": "none", "decay_half_life_days": 0})

    def test_points_per_period_takes_the_numbers_given_only(self):
        message = "needs the points lost and the period in days"
        # Chosen without its numbers, the decay is refused, not set to a
        # number nobody chose.
        with self.assertRaisesRegex(ValidationError, message):
            self.Group.create({"name": "Quiet", "decay": "linear"})
        for vals in ({"decay_points": 5}, {"decay_period_days": 14}):
            with self.assertRaisesRegex(ValidationError, message):
                self.Group.create({"name": "Quiet", "decay": "linear", **vals})
        with self.assertRaisesRegex(ValidationError, message), self.env.cr.savepoint():
            self.fit.decay = "linear"
        group = self.Group.create(
            {
                "name": "Quiet",
                "decay": "linear",
                "decay_points": 5,
                "decay_period_days": 14,
            }
        )
        self.assertEqual((group.decay_points, group.decay_period_days), (5, 14))
        with (
            self.assertRaisesRegex(ValidationError, "half-life of its decay"),
            self.env.cr.savepoint(),
        ):
            self.fit.write({"decay": "half_life", "decay_half_life_days": 0})

    def test_the_default_group_decays_as_set(self):
        default = self.default.with_user(self.manager)
        default.write({"decay": "linear", "decay_points": 2, "decay_period_days": 3})
        self.env["lead.score.decay"]._decay_scores()
        self.assertTrue(default.decay_since)
        default.decay = "none"
        self.assertFalse(default.decay_since)

    def test_compaction_carries_each_group_forward(self):
        for days_ago, group, value in [
            (90, self.fit, 10),
            (80, self.engagement, 30),
            (70, self.fit, 5),
            (60, self.engagement, 2),
        ]:
            self.add(self.partner, "add", value, days_ago=days_ago, group_id=group.id)
        before = self.group_scores(self.partner)
        self.env["lead.score.retention"]._compact_ledger(
            fields.Datetime.now() - timedelta(days=30)
        )
        carried = self.partner.lead_score_operation_ids
        self.assertEqual(
            sorted((op.group_id.name, op.source, op.value) for op in carried),
            [("Engagement", "carried", 32), ("Fit", "carried", 15)],
        )
        self.env["lead.score.ledger"]._refresh_scores(self.partner.ids)
        self.assertEqual(self.group_scores(self.partner), before)
        self.assertEqual(self.partner.lead_score, 47)

    def test_a_rule_previews_its_group_score_and_tiers(self):
        self.Tier.create({"name": "Hot", "min_score": 10})
        engaged = self.Tier.create(
            {"name": "Engaged", "min_score": 30, "group_id": self.engagement.id}
        )
        self.add(self.partner, "add", 50)
        self.add(self.partner, "add", 20, group_id=self.engagement.id)
        rule = self.Rule.with_context(lang="en_US").new(
            {
                "name": "Webinar",
                "value": 15,
                "group_id": self.engagement.id,
                "domain": f"[('id', '=', {self.partner.id})]",
            }
        )
        self.assertEqual(rule.preview_tier_moves, f"1 No tier → {engaged.name}")
        self.assertEqual(rule.preview_points, 15)

    def test_scores_refreshed_by_group_are_not_behind(self):
        self.add(self.partner, "add", 20, group_id=self.fit.id)
        self.add(self.partner, "add", 7, group_id=self.engagement.id)
        behind = self.env["lead.score.refresh"]._scores_behind_lines(
            SQL("o.partner_id = %s", self.partner.id)
        )
        self.assertFalse(behind)
        self.env.cr.execute(
            "UPDATE lead_score_value SET score = 3 WHERE partner_id = %s AND group_id = %s",
            [self.partner.id, self.fit.id],
        )
        behind = self.env["lead.score.refresh"]._scores_behind_lines(
            SQL("o.partner_id = %s", self.partner.id)
        )
        self.assertEqual(behind, {self.partner.id})

    def test_score_quality_adds_up_each_group_as_it_was(self):
        self.env["crm.lead"].with_context(active_test=False).search([]).write(
            {"type": "lead"}
        )
        self.add(self.partner, "add", 20, days_ago=30, group_id=self.fit.id)
        self.add(self.partner, "add", 9, days_ago=25, group_id=self.engagement.id)
        # A set in one group resets that group only.
        self.add(self.partner, "set", 4, days_ago=20, group_id=self.engagement.id)
        lead = self.env["crm.lead"].create(
            {"name": "Deal", "type": "opportunity", "partner_id": self.partner.id}
        )
        lead.action_set_won()
        self.env.flush_all()
        self.env.cr.execute(
            "UPDATE crm_lead SET create_date = %s WHERE id = %s",
            [fields.Datetime.now() - timedelta(days=10), lead.id],
        )
        self.add(self.partner, "add", 50, days_ago=5, group_id=self.fit.id)
        report = self.env["lead.score.quality"].create({"band_width": 25})
        self.assertEqual([row[3] for row in report._historical_scores()], [24])


@tagged("post_install", "-at_install")
class TestGroupsUpgrade(GroupsCase):
    def test_upgrade_puts_every_line_rule_and_tier_in_the_default_group(self):
        migration = load_migration("lead_scoring", "18.0.1.1.0")
        tier = self.Tier.create({"name": "Warm", "min_score": 10})
        rule = self.Rule.create(
            {"name": "Before", "value": 3, "domain": "[('id', '=', 0)]"}
        )
        self.add(self.partner, "add", 10, days_ago=2)
        self.add(self.partner, "add", 5, days_ago=1)
        history = [
            (d.date, d.score)
            for d in self.env["lead.score.history"].search(
                [("partner_id", "=", self.partner.id)]
            )
        ]
        self.env.flush_all()
        # Back to the previous version's shape: no group, no group scores.
        self.env.cr.execute(
            "ALTER TABLE lead_score_operation ALTER group_id DROP NOT NULL;"
            "ALTER TABLE lead_score_rule ALTER group_id DROP NOT NULL;"
            "ALTER TABLE lead_score_tier ALTER group_id DROP NOT NULL;"
            "UPDATE lead_score_operation SET group_id = NULL;"
            "UPDATE lead_score_rule SET group_id = NULL;"
            "UPDATE lead_score_tier SET group_id = NULL;"
            "DELETE FROM lead_score_value;"
        )
        self.env.invalidate_all()
        # Data loaded by the upgrade before the migration (as the demo's new
        # tiers are): the old tiers have no group yet.
        self.Tier.create(
            {"name": "Engaged", "min_score": 20, "group_id": self.engagement.id}
        )
        migration.migrate(self.env.cr, "18.0.1.0.0")
        self.env.invalidate_all()
        self.env.cr.execute(
            "SELECT count(*) FROM lead_score_operation WHERE group_id IS DISTINCT FROM %s",
            [self.default.id],
        )
        self.assertEqual(self.env.cr.fetchone()[0], 0)
        self.assertEqual((rule.group_id, tier.group_id), (self.default, self.default))
        self.assertEqual(self.group_scores(self.partner), {self.default: 15})
        self.assertEqual(self.partner.lead_score_value_ids.tier_id, tier)
        self.assertEqual(self.partner.lead_score, 15)
        self.assertEqual(self.partner.lead_score_tier_id, tier)
        self.assertEqual(
            [
                (d.date, d.score)
                for d in self.env["lead.score.history"].search(
                    [("partner_id", "=", self.partner.id)]
                )
            ],
            history,
        )

    def test_upgrade_moves_the_half_life_to_every_group(self):
        migration = load_migration("lead_scoring", "18.0.1.2.0")
        params = self.env["ir.config_parameter"]
        params.set_param("lead_scoring.decay_half_life_days", 14)
        params.set_param("lead_scoring.decay_since", "2026-01-05")
        archived = self.Group.create({"name": "Old", "active": False})
        migration.migrate(self.env.cr, "18.0.1.1.0")
        groups = self.Group.with_context(active_test=False).search([])
        self.assertIn(archived, groups)
        self.assertEqual(
            set(groups.mapped(lambda g: (g.decay, g.decay_half_life_days))),
            {("half_life", 14)},
        )
        self.assertEqual(set(groups.mapped("decay_since")), {date(2026, 1, 5)})
        self.assertFalse(params.get_param("lead_scoring.decay_half_life_days"))
        self.assertFalse(params.get_param("lead_scoring.decay_since"))
        self.assertNotIn(
            "lead_score_half_life_days", self.env["res.config.settings"]._fields
        )


@tagged("post_install", "-at_install")
class TestGroupsApi(ApiCase):
    def test_api_scores_a_group_and_reads_group_scores(self):
        engagement = self.env["lead.score.group"].create({"name": "Engagement"})
        self.call(
            self.user,
            "lead.score.operation",
            "create",
            {"partner_id": self.partner.id, "value": 25, "group_id": engagement.id},
        )
        self.call(
            self.user,
            "lead.score.operation",
            "create",
            {"partner_id": self.partner.id, "value": 4},
        )
        rows = self.call(
            self.user,
            "lead.score.value",
            "search_read",
            [("partner_id", "=", self.partner.id)],
            fields=["group_id", "score"],
        )
        self.assertEqual(
            sorted((row["group_id"][1], row["score"]) for row in rows),
            [("Engagement", 25), ("General", 4)],
        )
        found = self.call(
            self.user,
            "res.partner",
            "search",
            [
                (
                    "lead_score_value_ids",
                    "any",
                    [("group_id", "=", engagement.id), ("score", ">=", 20)],
                )
            ],
        )
        self.assertEqual(found, self.partner.ids)
        self.assertRefused(
            self.internal,
            "lead.score.value",
            "search_read",
            [("partner_id", "=", self.partner.id)],
        )
