"""Company roll-up: a company's score per group is its own plus the sum,
highest or average of its contacts' scores there (the group's choice)."""

from odoo.tests import tagged

from .test_groups import GroupsCase
from .test_security import ApiCase


class RollupCase(GroupsCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        Partner = cls.env["res.partner"]
        cls.acme = Partner.create({"name": "Acme", "is_company": True})
        cls.globex = Partner.create({"name": "Globex", "is_company": True})
        cls.ann, cls.bob, cls.cid = Partner.create(
            [{"name": name, "parent_id": cls.acme.id} for name in ("Ann", "Bob", "Cid")]
        )

    def company_scores(self, partner):
        return {
            value.group_id: value.company_score
            for value in partner.lead_score_value_ids
        }


@tagged("post_install", "-at_install")
class TestRollup(RollupCase):
    def test_each_group_rolls_up_as_it_says(self):
        self.fit.rollup = "max"
        self.engagement.rollup = "avg"
        self.default.rollup = "sum"
        for partner, fit, engagement, default in (
            (self.ann, 10, 20, 1),
            (self.bob, 30, 5, 2),
            (self.cid, 0, 0, 0),
        ):
            if fit:
                self.add(partner, "add", fit, group_id=self.fit.id)
                self.add(partner, "add", engagement, group_id=self.engagement.id)
                self.add(partner, "add", default)
        # The company's own lines count; it has none in the other groups.
        self.add(self.acme, "add", 4, group_id=self.fit.id)
        self.assertEqual(
            self.company_scores(self.acme),
            # Fit: 4 + 30; Engagement: (20 + 5) / 2 rounded; Score: 1 + 2.
            {self.fit: 34, self.engagement: 13, self.default: 3},
        )
        self.assertEqual(
            self.group_scores(self.acme),
            {self.fit: 4, self.engagement: 0, self.default: 0},
        )
        self.assertEqual(self.acme.lead_score, 4)
        self.assertEqual(self.acme.lead_score_company, 50)
        # A person shows their company's; a person of no company, 0.
        self.assertEqual(self.ann.lead_score_company, 50)
        self.assertEqual(self.company_scores(self.ann)[self.fit], 10)
        self.assertEqual(self.partner.lead_score_company, 0)
        self.assertEqual(self.globex.lead_score_company, 0)
        # Own score only: the company's own.
        (self.fit | self.engagement | self.default).rollup = "own"
        self.assertEqual(
            self.company_scores(self.acme), {self.fit: 4}, "roll-up rows are gone"
        )
        self.assertEqual((self.acme | self.bob).mapped("lead_score_company"), [4, 4])
        # The total's group only.
        self.fit.rollup = "sum"
        self.env["res.config.settings"].create(
            {"lead_score_total_group_id": self.engagement.id}
        ).execute()
        self.assertEqual(self.acme.lead_score_company, 0)
        self.env["res.config.settings"].create(
            {"lead_score_total_group_id": self.fit.id}
        ).execute()
        self.assertEqual(self.acme.lead_score_company, 44)

    def test_a_rule_run_raises_the_company_score(self):
        self.engagement.rollup = "sum"
        self.add(self.bob, "add", 5, group_id=self.engagement.id)
        self.assertEqual(self.acme.lead_score_company, 5)
        rule = self.Rule.create(
            {
                "name": "Engaged",
                "value": 25,
                "group_id": self.engagement.id,
                "domain": f"[('id', '=', {self.ann.id})]",
            }
        )
        self.env["lead.score.run"]._run_rules(rule)
        self.assertEqual(self.company_scores(self.acme), {self.engagement: 30})
        self.assertEqual(
            (self.acme | self.ann | self.bob | self.cid).mapped("lead_score_company"),
            [30] * 4,
        )
        # Ann, whom only the engine wrote, stays so when Bob's points change
        # her company score: rule runs do not take her for a changed contact.
        self.env.flush_all()
        self.assertEqual(self.ann.write_date, self.ann.lead_score_date)
        self.add(self.bob, "add", 5, group_id=self.engagement.id)
        self.assertEqual(self.ann.lead_score_company, 35)
        self.env.flush_all()
        self.assertEqual(self.ann.write_date, self.ann.lead_score_date)

    def test_moving_archiving_or_objecting_takes_the_points_out(self):
        self.fit.rollup = "sum"
        self.add(self.ann, "add", 10, group_id=self.fit.id)
        self.add(self.bob, "add", 7, group_id=self.fit.id)
        self.assertEqual(self.acme.lead_score_company, 17)
        self.ann.parent_id = self.globex
        self.assertEqual(
            (self.acme | self.globex | self.ann | self.bob).mapped(
                "lead_score_company"
            ),
            [7, 10, 10, 7],
        )
        self.bob.action_lead_score_object()
        self.assertEqual(self.acme.lead_score_company, 0)
        self.assertFalse(self.company_scores(self.acme))
        self.bob.action_lead_score_withdraw_objection()
        self.assertEqual(self.acme.lead_score_company, 7)
        self.bob.active = False
        self.assertEqual(self.acme.lead_score_company, 0)
        self.bob.active = True
        self.ann.parent_id = False
        self.assertEqual(
            (self.acme | self.globex | self.ann).mapped("lead_score_company"),
            [7, 0, 0],
        )
        # A new contact shows its company's score; a deleted one leaves it.
        dan = self.env["res.partner"].create({"name": "Dan", "parent_id": self.acme.id})
        self.assertEqual(dan.lead_score_company, 7)
        self.bob.unlink()
        self.assertEqual((self.acme | dan).mapped("lead_score_company"), [0, 0])
        # A company who objects has no company score.
        self.add(self.cid, "add", 3, group_id=self.fit.id)
        self.assertEqual(self.acme.lead_score_company, 3)
        self.acme.action_lead_score_object()
        self.assertEqual((self.acme | self.cid).mapped("lead_score_company"), [0, 0])

    def test_the_cap_applies_to_the_company_score(self):
        self.fit.write({"rollup": "sum", "use_cap": True, "score_max": 25})
        self.add(self.acme, "add", 20, group_id=self.fit.id)
        self.add(self.ann, "add", 15, group_id=self.fit.id)
        self.assertEqual(self.company_scores(self.acme), {self.fit: 25})
        self.assertEqual(self.acme.lead_score_company, 25)
        self.fit.score_max = 100
        self.assertEqual(self.acme.lead_score_company, 35)

    def test_leads_and_filters_show_the_company_score(self):
        self.engagement.rollup = "max"
        lead_ann, lead_acme, lead_alone = self.env["crm.lead"].create(
            [
                {"name": "Ann's", "partner_id": self.ann.id},
                {"name": "Acme's", "partner_id": self.acme.id},
                {"name": "Ada's", "partner_id": self.partner.id},
            ]
        )
        self.add(self.bob, "add", 40, group_id=self.engagement.id)
        self.assertEqual(
            (lead_ann | lead_acme | lead_alone).mapped("partner_company_score"),
            [40, 40, 0],
        )
        self.assertEqual(
            self.env["crm.lead"].search(
                [
                    ("partner_company_score", ">=", 40),
                    ("id", "in", (lead_ann | lead_alone).ids),
                ]
            ),
            lead_ann,
        )
        self.add(self.globex, "add", 30, group_id=self.engagement.id)
        Partner = self.env["res.partner"]
        self.assertEqual(
            Partner.search(
                [("is_company", "=", True), ("lead_score_company", ">=", 30)]
            )
            & (self.acme | self.globex),
            self.acme | self.globex,
        )
        self.assertEqual(
            Partner.search(
                [("is_company", "=", True), ("lead_score_company", ">=", 35)]
            )
            & (self.acme | self.globex),
            self.acme,
        )
        # The company's form shows it.
        arch = Partner.get_view(view_type="form")["arch"]
        self.assertIn('name="lead_score_company"', arch)


@tagged("post_install", "-at_install")
class TestRollupApi(ApiCase):
    def test_api_reads_and_filters_the_company_score(self):
        group = self.env["lead.score.group"]._default_group()
        group.rollup = "sum"
        company = self.env["res.partner"].create(
            {"name": "Initech", "is_company": True}
        )
        self.partner.parent_id = company
        self.call(
            self.user,
            "lead.score.operation",
            "create",
            {"partner_id": self.partner.id, "value": 15},
        )
        [row] = self.call(
            self.user, "res.partner", "read", company.ids, ["lead_score_company"]
        )
        self.assertEqual(row["lead_score_company"], 15)
        found = self.call(
            self.user,
            "res.partner",
            "search",
            [("id", "in", company.ids), ("lead_score_company", ">=", 15)],
        )
        self.assertEqual(found, company.ids)
        self.assertRefused(
            self.internal, "res.partner", "read", company.ids, ["lead_score_company"]
        )
