"""The grade: a letter from the contact's tier in the fit group, a digit from
its tier in the engagement group (A1 ... C3)."""

from odoo.exceptions import ValidationError
from odoo.tests import tagged

from odoo.addons.lead_scoring.models.lead_score_group import (
    GRADE_ENGAGEMENT_PARAM,
    GRADE_FIT_PARAM,
)

from .test_groups import GroupsCase
from .test_security import ApiCase


def grade_groups(env, fit, engagement):
    """Grade from these groups, as the settings do."""
    env["res.config.settings"].create(
        {
            "lead_score_grade_fit_group_id": fit.id,
            "lead_score_grade_engagement_group_id": engagement.id,
        }
    ).execute()


@tagged("post_install", "-at_install")
class TestGrade(GroupsCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.ideal, cls.good = cls.Tier.create(
            [
                {"name": "Ideal", "min_score": 30, "group_id": cls.fit.id},
                {"name": "Good", "min_score": 10, "group_id": cls.fit.id},
            ]
        )
        cls.hot, cls.warm, cls.cold = cls.Tier.create(
            [
                {"name": "Hot", "min_score": 50, "group_id": cls.engagement.id},
                {"name": "Warm", "min_score": 20, "group_id": cls.engagement.id},
                {"name": "Cold", "min_score": 0, "group_id": cls.engagement.id},
            ]
        )
        grade_groups(cls.env, cls.fit, cls.engagement)

    def test_the_grade_follows_the_tiers_of_both_groups(self):
        # No fit tier: the letter after the last; a score of 0 is Cold.
        self.assertEqual(self.partner.lead_score_grade, "C3")
        self.add(self.partner, "add", 12, group_id=self.fit.id)
        self.assertEqual(self.partner.lead_score_grade, "B3")
        self.add(self.partner, "add", 30, group_id=self.fit.id)
        self.add(self.partner, "add", 25, group_id=self.engagement.id)
        self.assertEqual(self.partner.lead_score_grade, "A2")
        self.add(self.partner, "add", 30, group_id=self.engagement.id)
        self.assertEqual(self.partner.lead_score_grade, "A1")
        # Below every engagement tier: the digit after the last.
        self.add(self.partner, "set", -5, group_id=self.engagement.id)
        self.assertEqual(self.partner.lead_score_grade, "A4")
        # Points of another group leave the grade.
        self.add(self.partner, "add", 100)
        self.assertEqual(self.partner.lead_score_grade, "A4")
        self.assertEqual(
            self.env["res.partner"].create({"name": "New"}).lead_score_grade, "C3"
        )
        self.assertEqual(
            self.env["res.partner"].search([("lead_score_grade", "=", "A4")]),
            self.partner,
        )
        lead = self.env["crm.lead"].create(
            {"name": "Deal", "partner_id": self.partner.id}
        )
        self.assertEqual(lead.partner_lead_score_grade, "A4")

    def test_a_contact_who_objects_has_no_grade(self):
        self.add(self.partner, "add", 40, group_id=self.fit.id)
        self.partner.action_lead_score_object()
        self.assertFalse(self.partner.lead_score_grade)
        self.assertNotIn(
            self.partner, self.partner.search([("lead_score_grade", "!=", False)])
        )
        self.partner.action_lead_score_withdraw_objection()
        self.assertEqual(self.partner.lead_score_grade, "A3")

    def test_changing_the_settings_or_tiers_recomputes_every_grade(self):
        other = self.env["res.partner"].create({"name": "Other"})
        self.add(self.partner, "add", 40, group_id=self.fit.id)
        self.add(self.partner, "add", 60, group_id=self.engagement.id)
        lead = self.env["crm.lead"].create(
            {"name": "Deal", "partner_id": self.partner.id}
        )
        self.assertEqual(
            (self.partner | other).mapped("lead_score_grade"), ["A1", "C3"]
        )
        # The groups the other way round: Hot is the letter A, Ideal the digit 1.
        grade_groups(self.env, self.engagement, self.fit)
        self.assertEqual(
            (self.partner | other).mapped("lead_score_grade"), ["A1", "C3"]
        )
        self.hot.min_score = 70
        self.assertEqual(
            (self.partner | other).mapped("lead_score_grade"), ["B1", "C3"]
        )
        self.assertEqual(lead.partner_lead_score_grade, "B1")
        self.good.min_score = -10
        self.assertEqual(
            (self.partner | other).mapped("lead_score_grade"), ["B1", "C2"]
        )
        # Not two different groups: refused.
        for fit, engagement in ((self.fit, self.fit), (self.fit, self.Group)):
            with self.assertRaises(ValidationError):
                grade_groups(self.env, fit, engagement)
        # No grade.
        grade_groups(self.env, self.Group, self.Group)
        self.assertEqual((self.partner | other).mapped("lead_score_grade"), [False] * 2)
        self.assertFalse(lead.partner_lead_score_grade)
        params = self.env["ir.config_parameter"]
        self.assertFalse(params.get_param(GRADE_FIT_PARAM))
        grade_groups(self.env, self.fit, self.engagement)
        self.assertEqual(params.get_param(GRADE_FIT_PARAM), str(self.fit.id))
        self.assertEqual(
            params.get_param(GRADE_ENGAGEMENT_PARAM), str(self.engagement.id)
        )
        self.assertEqual(self.partner.lead_score_grade, "A2")
        # A grade group archived: no grade.
        self.engagement.active = False
        self.assertFalse(self.partner.lead_score_grade)

    def test_a_grade_change_in_a_rule_run_is_written_and_logged(self):
        # The total's tier (the default group's) stays: only the grade moves.
        self.Tier.create({"name": "Known", "min_score": 0})
        self.Rule.create(
            {
                "name": "Engaged",
                "value": 25,
                "group_id": self.engagement.id,
                "domain": f"[('id', '=', {self.partner.id})]",
            }
        )
        tier = self.partner.lead_score_tier_id
        messages = self.partner.message_ids
        env = self.env(context={})  # tracking on
        env["lead.score.run"]._run_rules(env["lead.score.rule"].search([]))
        env.flush_all()
        self.env.cr.precommit.run()
        self.assertEqual(self.partner.lead_score, 25)
        self.assertEqual(self.partner.lead_score_tier_id, tier)
        self.assertEqual(self.partner.lead_score_grade, "C2")
        tracked = (self.partner.message_ids - messages).tracking_value_ids
        self.assertEqual(
            [
                (t.old_value_char, t.new_value_char)
                for t in tracked
                if t.field_id.name == "lead_score_grade"
            ],
            [("C3", "C2")],
        )


@tagged("post_install", "-at_install")
class TestGradeApi(ApiCase):
    def test_api_reads_and_filters_the_grade(self):
        Group = self.env["lead.score.group"]
        fit, engagement = Group.create([{"name": "Fit"}, {"name": "Engagement"}])
        self.env["lead.score.tier"].create(
            [
                {"name": "Fits", "min_score": 10, "group_id": fit.id},
                {"name": "Engaged", "min_score": 10, "group_id": engagement.id},
            ]
        )
        Group._set_grade_groups(fit.id, engagement.id)
        self.call(
            self.user,
            "lead.score.operation",
            "create",
            {"partner_id": self.partner.id, "value": 15, "group_id": fit.id},
        )
        [row] = self.call(
            self.user, "res.partner", "read", self.partner.ids, ["lead_score_grade"]
        )
        self.assertEqual(row["lead_score_grade"], "A2")
        found = self.call(
            self.user, "res.partner", "search", [("lead_score_grade", "=", "A2")]
        )
        self.assertEqual(found, self.partner.ids)
        self.assertRefused(
            self.internal, "res.partner", "read", self.partner.ids, ["lead_score_grade"]
        )
