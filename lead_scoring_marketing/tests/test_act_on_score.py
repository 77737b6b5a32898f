# Copyright 2026 Lead Scoring contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

from odoo.tests import new_test_user, tagged

from odoo.addons.lead_scoring.tests.common import spying_set_based_writes

from .common import MarketingCase


@tagged("post_install", "-at_install")
class TestActOnScore(MarketingCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        Partner = cls.env["res.partner"]
        cls.members = Partner.create([{"name": f"Member {i}"} for i in range(2)])
        cls.outsider = Partner.create({"name": "Outsider"})

    def rule(self, partners, value):
        return self.Rule.create(
            {
                "name": f"+{value}",
                "operation": "add",
                "value": value,
                "domain": f"[('id', 'in', {partners.ids})]",
            }
        )

    def scheduled_run(self):
        self.env["lead.score.run"]._cron_apply_rules()

    def test_automation_rule_on_the_score_fires_after_a_run(self):
        tag = self.env["res.partner.category"].create({"name": "Scored"})
        action = self.env["ir.actions.server"].create(
            {
                "name": "Tag scored contacts",
                "model_id": self.model_partner.id,
                "state": "object_write",
                "update_path": "category_id",
                "update_m2m_operation": "add",
                "resource_ref": f"res.partner.category,{tag.id}",
            }
        )
        self.env["base.automation"].create(
            {
                "name": "Score reached 10",
                "model_id": self.model_partner.id,
                "trigger": "on_create_or_write",
                "trigger_field_ids": [
                    (
                        6,
                        0,
                        [self.env.ref("lead_scoring.field_res_partner__lead_score").id],
                    )
                ],
                "filter_domain": "[('lead_score', '>=', 10)]",
                "action_server_ids": [(6, 0, action.ids)],
            }
        )
        self.rule(self.members, 10)
        self.scheduled_run()
        self.assertEqual(self.members.mapped("lead_score"), [10, 10])
        self.assertEqual(
            self.env["res.partner"].search([("category_id", "in", tag.ids)]),
            self.members,
        )
        self.assertFalse(self.outsider.category_id)

    def test_only_an_automation_rule_on_score_changes_makes_runs_write_through_the_orm(
        self,
    ):
        self.Tier.create({"name": "Warm", "min_score": 5})
        tag = self.env["res.partner.category"].create({"name": "Tagged"})
        action = self.env["ir.actions.server"].create(
            {
                "name": "Tag",
                "model_id": self.model_partner.id,
                "state": "object_write",
                "update_path": "category_id",
                "update_m2m_operation": "add",
                "resource_ref": f"res.partner.category,{tag.id}",
            }
        )

        def automation(trigger, fields=()):
            return self.env["base.automation"].create(
                {
                    "name": trigger,
                    "model_id": self.model_partner.id,
                    "trigger": trigger,
                    "trigger_field_ids": [
                        (6, 0, [self.env.ref(f"base.field_res_partner__{f}").id])
                        for f in fields
                    ],
                    "filter_domain": "[('lead_score', '>=', 10)]",
                    "action_server_ids": [(6, 0, action.ids)],
                }
            )

        with spying_set_based_writes(self.env) as set_based:
            # Neither reacts to a score: the run writes the scores (and
            # tiers) of its contacts in one UPDATE.
            automation("on_create")
            automation("on_create_or_write", fields=["email"])
            self.rule(self.members, 10)
            self.scheduled_run()
            self.assertEqual(set(set_based.call_args.args[1]), set(self.members.ids))
            self.assertFalse(self.members.category_id)
            # This one does (on any update): the ORM writes the scores.
            set_based.reset_mock()
            automation("on_write")
            self.rule(self.members, 1)
            self.scheduled_run()
            self.assertFalse(set_based.call_args)
        self.assertEqual(self.members.mapped("lead_score"), [11, 11])
        self.assertEqual(self.members.category_id, tag)

    def star_leads_of_tier(self, tier):
        """An automation rule starring the leads whose contact reaches
        ``tier``, on a change of the lead's copy of the tier."""
        model = self.env.ref("crm.model_crm_lead")
        action = self.env["ir.actions.server"].create(
            {
                "name": "Star the lead",
                "model_id": model.id,
                "state": "object_write",
                "update_path": "priority",
                "selection_value": self.env["ir.model.fields.selection"]
                .search([("field_id.model", "=", "crm.lead"), ("value", "=", "3")])
                .id,
            }
        )
        self.env["base.automation"].create(
            {
                "name": "Hot contact",
                "model_id": model.id,
                "trigger": "on_create_or_write",
                "trigger_field_ids": [
                    (
                        6,
                        0,
                        self.env.ref(
                            "lead_scoring.field_crm_lead__partner_lead_score_tier_id"
                        ).ids,
                    )
                ],
                "filter_domain": f"[('partner_lead_score_tier_id', '=', {tier.id})]",
                "action_server_ids": [(6, 0, action.ids)],
            }
        )

    def leads_starred_in(self, tier):
        """A lead of a member and one of the outsider, starred (see
        star_leads_of_tier) once their contact reaches ``tier``."""
        leads = self.env["crm.lead"].create(
            [
                {"name": "Deal", "partner_id": self.members[0].id},
                {"name": "Other", "partner_id": self.outsider.id},
            ]
        )
        self.star_leads_of_tier(tier)
        return leads

    def test_automation_rule_on_a_lead_s_copy_of_the_tier_fires_after_a_run(self):
        hot = self.Tier.create({"name": "Hot", "min_score": 10})
        lead, other = self.leads_starred_in(hot)
        self.rule(self.members, 10)
        self.scheduled_run()
        self.assertEqual(lead.partner_lead_score_tier_id, hot)
        self.assertEqual((lead.priority, other.priority), ("3", "0"))

    def test_automation_rule_on_a_lead_s_copy_fires_when_the_tiers_change(self):
        """A manager lowers a tier: the contacts it takes in move in SQL (a
        change of configuration), their leads' copies through the ORM."""
        hot = self.Tier.create({"name": "Hot", "min_score": 1000})
        lead, other = self.leads_starred_in(hot)
        self.rule(self.members, 10)
        self.scheduled_run()
        self.assertEqual(lead.priority, "0")
        hot.min_score = 10
        self.env.flush_all()
        self.assertEqual(lead.partner_lead_score_tier_id, hot)
        self.assertEqual((lead.priority, other.priority), ("3", "0"))

    def test_automation_rule_on_the_grade_fires_after_a_run(self):
        Group = self.env["lead.score.group"]
        fit, engagement = Group.create([{"name": "Fit"}, {"name": "Engagement"}])
        self.Tier.create(
            [
                {"name": "Fits", "min_score": 10, "group_id": fit.id},
                {"name": "Engaged", "min_score": 10, "group_id": engagement.id},
            ]
        )
        Group._set_grade_groups(fit.id, engagement.id)
        action = self.env["ir.actions.server"].create(
            {
                "name": "Note the A1 grade",
                "model_id": self.model_partner.id,
                "state": "object_write",
                "update_path": "ref",
                "value": "Grade A1",
            }
        )
        self.env["base.automation"].create(
            {
                "name": "Grade A1",
                "model_id": self.model_partner.id,
                "trigger": "on_create_or_write",
                "trigger_field_ids": [
                    (
                        6,
                        0,
                        self.env.ref(
                            "lead_scoring.field_res_partner__lead_score_grade"
                        ).ids,
                    )
                ],
                "filter_domain": "[('lead_score_grade', '=', 'A1')]",
                "action_server_ids": [(6, 0, action.ids)],
            }
        )
        for group in fit | engagement:
            self.rule(self.members, 10).group_id = group
        self.rule(self.outsider, 10).group_id = fit
        self.scheduled_run()
        self.assertEqual(self.members.mapped("lead_score_grade"), ["A1", "A1"])
        self.assertEqual(self.outsider.lead_score_grade, "A2")
        self.assertEqual(self.members.mapped("ref"), ["Grade A1"] * 2)
        self.assertFalse(self.outsider.ref)

    def test_automation_rule_on_heating_up_fires_after_a_run(self):
        action = self.env["ir.actions.server"].create(
            {
                "name": "Note heating up",
                "model_id": self.model_partner.id,
                "state": "object_write",
                "update_path": "ref",
                "value": "Heating up",
            }
        )
        self.env["base.automation"].create(
            {
                "name": "Heating up",
                "model_id": self.model_partner.id,
                "trigger": "on_create_or_write",
                "trigger_field_ids": [
                    (
                        6,
                        0,
                        self.env.ref(
                            "lead_scoring.field_res_partner__lead_score_change_7d"
                        ).ids,
                    )
                ],
                "filter_domain": "[('lead_score_change_7d', '>=', 30)]",
                "action_server_ids": [(6, 0, action.ids)],
            }
        )
        self.rule(self.members, 30)
        self.rule(self.outsider, 10)
        with spying_set_based_writes(self.env) as set_based:
            self.scheduled_run()
        # The scores stay set-based: only the velocity goes through the ORM.
        self.assertLessEqual(
            set(self.members.ids), set(set_based.call_args.args[1]), "scores in SQL"
        )
        self.assertEqual(self.members.mapped("lead_score"), [30, 30])
        self.assertEqual(self.members.mapped("lead_score_change_7d"), [30, 30])
        self.assertEqual(self.outsider.lead_score_change_7d, 10)
        self.assertEqual(self.members.mapped("ref"), ["Heating up"] * 2)
        self.assertFalse(self.outsider.ref)

    def test_hot_notification_fires_once_per_crossing(self):
        tiers = self.Tier.create(
            [
                {"name": "Cold", "min_score": 0},
                {"name": "Warm", "min_score": 50},
                {"name": "Hot", "min_score": 100},
            ]
        )
        # Whatever the language the scheduler runs in, where Hot reads "Chaud".
        self.env["res.lang"]._activate_lang("fr_FR")
        tiers[2].with_context(lang="fr_FR").name = "Chaud"
        self.Rule = self.Rule.with_context(lang="fr_FR")
        self.env.ref("lead_scoring_marketing.automation_hot_contact").active = True
        salesperson = new_test_user(
            self.env, "ls_salesperson", groups="base.group_user"
        )
        contact = self.members[0]
        contact.user_id = salesperson

        def notifications():
            return self.env["mail.activity"].search(
                [
                    ("res_model", "=", "res.partner"),
                    ("res_id", "=", contact.id),
                    ("summary", "=", "Hot contact: follow up"),
                ]
            )

        self.rule(contact, 100)
        self.scheduled_run()
        self.assertEqual(contact.lead_score_tier_id.name, "Hot")
        self.assertEqual(len(notifications()), 1, "crossing into Hot notifies")
        self.assertEqual(notifications().user_id, salesperson)

        self.rule(contact, 10)
        self.scheduled_run()
        self.assertEqual(contact.lead_score, 110)
        self.assertEqual(len(notifications()), 1, "staying Hot does not notify again")

        self.add(contact, "remove", 60)
        self.scheduled_run()
        self.assertEqual(contact.lead_score_tier_id.name, "Warm")
        self.assertEqual(len(notifications()), 1)

        self.rule(contact, 60)
        self.scheduled_run()
        self.assertEqual(contact.lead_score_tier_id.name, "Hot")
        self.assertEqual(len(notifications()), 2, "coming back to Hot notifies again")
        self.assertFalse(
            self.env["mail.activity"].search(
                [("res_model", "=", "res.partner"), ("res_id", "=", self.outsider.id)]
            )
        )

    def test_scheduled_run_updates_the_copies_on_leads(self):
        hot = self.Tier.create({"name": "Hot", "min_score": 100})
        lead = self.env["crm.lead"].create(
            {"name": "Deal", "partner_id": self.members[0].id}
        )
        self.assertEqual(lead.partner_lead_score, 0)
        self.rule(self.members, 120)
        self.scheduled_run()
        self.assertEqual(lead.partner_lead_score, 120)
        self.assertEqual(lead.partner_lead_score_tier_id, hot)

    def test_hot_notification_is_shipped_inactive(self):
        automation = self.env.ref("lead_scoring_marketing.automation_hot_contact")
        self.assertFalse(automation.active)
        self.assertEqual(
            automation.trigger_field_ids,
            self.env.ref("lead_scoring.field_res_partner__lead_score_tier_id"),
        )
