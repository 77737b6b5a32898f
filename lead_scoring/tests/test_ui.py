from unittest.mock import patch

from odoo.tests import Form, HttpCase, tagged

from .common import LeadScoringCase


@tagged("post_install", "-at_install")
class TestUi(HttpCase):
    def test_adjust_score_from_the_contact_form(self):
        partner = self.env["res.partner"].create({"name": "Tour Contact"})
        self.env["lead.score.operation"].create(
            {"partner_id": partner.id, "operation": "add", "value": 91}
        )
        self.start_tour(
            f"/odoo/contacts/{partner.id}", "lead_scoring_adjust_tour", login="admin"
        )
        self.assertEqual(partner.lead_score, 116)
        operation = partner.lead_score_operation_ids.filtered("note")
        self.assertEqual(operation.source, "manual")
        self.assertEqual(operation.note, "Asked for a demo on the phone")
        self.assertEqual(operation.user_id, self.env.ref("base.user_admin"))

    def test_adjust_dialog_shows_the_group_and_the_total(self):
        webinars = self.env["lead.score.group"].create({"name": "Webinars"})
        partner = self.env["res.partner"].create({"name": "Group Tour Contact"})
        for group, points in ((self.env["lead.score.group"], 45), (webinars, 180)):
            vals = {"partner_id": partner.id, "value": points}
            if group:
                vals["group_id"] = group.id
            self.env["lead.score.operation"].create(vals)
        # The total adds up the groups.
        self.env["ir.config_parameter"].set_param("lead_scoring.total_group_id", False)
        self.assertEqual(partner.lead_score, 225)
        self.start_tour(
            f"/odoo/contacts/{partner.id}",
            "lead_scoring_adjust_group_tour",
            login="admin",
        )
        adjusted = partner.lead_score_operation_ids.filtered("note")
        self.assertEqual(adjusted.group_id, webinars)
        self.assertEqual(adjusted.value, 20)
        self.assertEqual(partner.lead_score, 245)

    def test_bulk_adjust_shows_the_group(self):
        webinars = self.env["lead.score.group"].create({"name": "Webinars"})
        partners = self.env["res.partner"].create(
            [{"name": "AAA Bulk One"}, {"name": "AAA Bulk Two"}]
        )
        self.start_tour(
            "/odoo/contacts?view_type=list",
            "lead_scoring_bulk_adjust_tour",
            login="admin",
        )
        operations = partners.lead_score_operation_ids
        self.assertEqual(operations.partner_id, partners)
        self.assertEqual(operations.group_id, webinars)
        self.assertEqual(operations.mapped("value"), [5, 5])

    def test_a_contact_never_scored_shows_no_tier_or_grade_until_scored(self):
        Group, Tier = self.env["lead.score.group"], self.env["lead.score.tier"]
        Group.search([("is_default", "=", False)]).write({"active": False})
        Tier.search([]).unlink()
        fit, engagement = Group.create([{"name": "Fit"}, {"name": "Engagement"}])
        Tier.create(
            [
                {"name": "Cold", "min_score": 0},
                {"name": "Hot", "min_score": 50},
                {"name": "Ideal", "min_score": 30, "group_id": fit.id},
                {"name": "Good", "min_score": 10, "group_id": fit.id},
                {"name": "Engaged", "min_score": 0, "group_id": engagement.id},
            ]
        )
        self.env["res.config.settings"].create(
            {
                "lead_score_grade_fit_group_id": fit.id,
                "lead_score_grade_engagement_group_id": engagement.id,
            }
        ).execute()
        company = self.env["res.partner"].create({"name": "Acme", "is_company": True})
        partner = self.env["res.partner"].create(
            {"name": "Brand New Contact", "parent_id": company.id}
        )
        # Stored, the lowest tier and grade: the screen hides them.
        self.assertEqual(partner.lead_score_tier_id.name, "Cold")
        self.assertEqual(partner.lead_score_grade, "C1")
        self.start_tour(
            f"/odoo/contacts/{partner.id}",
            "lead_scoring_never_scored_tour",
            login="admin",
        )
        self.assertEqual(partner.lead_score, 60)

    def test_score_groups_list_opens_the_form(self):
        group = self.env["lead.score.group"].create({"name": "Tour Decay Group"})
        self.start_tour(
            "/odoo/action-lead_scoring.lead_score_group_action",
            "lead_scoring_group_form_tour",
            login="admin",
        )
        self.assertEqual(
            (group.decay, group.decay_points, group.decay_period_days),
            ("linear", 5, 14),
        )

    def test_pipeline_cards_show_the_tier_and_grade_apart_from_tags(self):
        Group = self.env["lead.score.group"]
        fit = Group.create({"name": "Fit"})
        engagement = Group.create({"name": "Engagement"})
        self.env["lead.score.tier"].create(
            {"name": "Good fit", "min_score": 30, "group_id": fit.id, "color": 10}
        )
        partner = self.env["res.partner"].create({"name": "Pipeline Contact"})
        for group, points in ((fit, 40), (engagement, 12)):
            self.env["lead.score.operation"].create(
                {"partner_id": partner.id, "value": points, "group_id": group.id}
            )
        # The tier of the contact's total score, whatever the demo's tiers.
        total = partner.lead_score
        self.env["lead.score.tier"].create(
            {
                "name": "Tour tier",
                "min_score": total,
                "group_id": self.env["lead.score.group"]._tier_group().id,
                "color": 10,
            }
        )
        self.assertEqual(total, 52)
        lead = self.env["crm.lead"].create(
            {
                "name": "Pipeline Tour Deal",
                "type": "opportunity",
                "partner_id": partner.id,
                "user_id": self.env.ref("base.user_admin").id,
                "tag_ids": [(0, 0, {"name": "Tour tag", "color": 3})],
            }
        )
        self.assertEqual(lead.partner_lead_score_tier_id.name, "Tour tier")
        self.assertTrue(lead.partner_lead_score_grade)
        self.start_tour(
            "/odoo/action-crm.crm_lead_action_pipeline?view_type=kanban",
            "lead_scoring_pipeline_tour",
            login="admin",
        )
        self.assertTrue(lead.partner_lead_score_value_ids)


@tagged("post_install", "-at_install")
class TestAdjustWizard(LeadScoringCase):
    def _wizard_form(self, partners):
        Adjust = self.env["lead.score.adjust"].with_user(self.user)
        return Form(Adjust.with_context(default_partner_ids=partners.ids))

    def test_group_selector_shows_from_the_opening(self):
        Group = self.env["lead.score.group"]
        # Only the default group: no group to choose.
        Group.search([("is_default", "=", False)]).write({"active": False})
        partners = self.partner | self.env["res.partner"].create({"name": "Grace"})
        for contacts in (self.partner, partners):
            self.assertEqual(self._wizard_form(contacts).group_count, 1)
        fit = Group.create({"name": "Fit"})
        self.add(self.partner, "add", 12, group_id=fit.id)
        self.add(self.partner, "add", 30)
        # Two groups: the dialog counts them as it opens (the form shows the
        # group when there are two or more), for one contact or several.
        for contacts in (self.partner, partners):
            self.assertEqual(self._wizard_form(contacts).group_count, 2)
        wizard = self._wizard_form(self.partner)
        self.assertEqual((wizard.total_score, wizard.current_score), (42, 30))
        wizard.group_id = fit
        self.assertEqual((wizard.total_score, wizard.current_score), (42, 12))
        labels = self.env["lead.score.adjust"].fields_get(
            ["total_score", "current_score", "group_id"], ["string"]
        )
        self.assertEqual(labels["total_score"]["string"], "Total score")
        self.assertEqual(labels["current_score"]["string"], "Score in this group")

    def test_wizard_shows_the_contacts_current_score(self):
        self.add(self.partner, "add", 91)
        wizard = self._wizard_form(self.partner)
        self.assertEqual(wizard.current_score, 91)
        wizard.value = 9
        wizard.note = "Called back"
        wizard.save().action_apply()
        self.assertEqual(self.partner.lead_score, 100)
        # Opened again after the adjustment, it shows the new score.
        self.assertEqual(self._wizard_form(self.partner).current_score, 100)


@tagged("post_install", "-at_install")
class TestRunNowUi(HttpCase):
    def test_run_now_follows_the_run_and_refreshes_the_list(self):
        self.env["res.partner"].create(
            [{"name": f"Tour run contact {i}"} for i in range(3)]
        )
        self.env["lead.score.rule"].create(
            {
                "name": "Tour run rule",
                "value": 5,
                "domain": "[('name', 'ilike', 'Tour run contact')]",
            }
        )
        Cron = type(self.env["ir.cron"])
        rules_cron = self.env.ref("lead_scoring.ir_cron_apply_rules")
        original = Cron._trigger

        def run_at_once(crons, at=None):
            # No cron thread runs in tests: the triggered run happens here.
            if crons == rules_cron:
                crons.env["lead.score.run"]._run_rules(
                    crons.env["lead.score.rule"].sudo().search([])
                )
                return None
            return original(crons, at)

        with patch.object(Cron, "_trigger", run_at_once):
            self.start_tour(
                "/odoo/action-lead_scoring.lead_score_rule_action",
                "lead_scoring_run_now_tour",
                login="admin",
            )

    def test_the_score_over_time_opens_as_a_chart(self):
        partner = self.env["res.partner"].create({"name": "Chart Contact"})
        for value in (40, 20):
            self.env["lead.score.operation"].create(
                {"partner_id": partner.id, "operation": "add", "value": value}
            )
        self.start_tour(
            f"/odoo/contacts/{partner.id}", "lead_scoring_over_time_tour", login="admin"
        )


@tagged("post_install", "-at_install")
class TestChatterUi(HttpCase):
    def test_the_chatter_names_the_rules_that_moved_the_tier(self):
        Rule = self.env["lead.score.rule"]
        Rule.with_context(active_test=False).search([]).write({"active": False})
        partner = self.env["res.partner"].create({"name": "Chatter Tour Contact"})
        domain = f"[('id', '=', {partner.id})]"
        for name, value in (("Tour pricing page", 300), ("Tour demo booked", 20)):
            Rule.create({"name": name, "value": value, "domain": domain})
        self.env["lead.score.run"]._run_rules(Rule.search([]))
        self.env.flush_all()
        self.env.cr.precommit.run()
        self.assertTrue(partner.lead_score_tier_id)
        self.start_tour(
            f"/odoo/contacts/{partner.id}",
            "lead_scoring_chatter_run_tour",
            login="admin",
        )


@tagged("post_install", "-at_install")
class TestRuleLayoutUi(HttpCase):
    # The width the README's screenshots are taken at.
    browser_size = "1440x900"

    def test_rule_list_and_condition_layout(self):
        countries = self.env["res.country"].search(
            [("code", "in", ["BE", "FR", "NL", "LU", "US"])]
        )
        rule = self.env["lead.score.rule"].create(
            {
                "name": "Tour rule in our five countries",
                "value": 10,
                "domain": f"[('country_id', 'in', {countries.ids})]",
            }
        )
        rule.last_run_date = "2026-12-07 08:00:00"
        self.start_tour(
            "/odoo/action-lead_scoring.lead_score_rule_action",
            "lead_scoring_rule_layout_tour",
            login="admin",
        )
