from datetime import timedelta

from odoo import fields
from odoo.tests import Form, tagged

from .common import LeadScoringCase


@tagged("post_install", "-at_install")
class TestRulePreview(LeadScoringCase):
    """A rule's preview says, before it is saved or run, whom it would score
    and whose tier would change; it writes nothing."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        france = cls.env.ref("base.fr")
        tag = cls.env["res.partner.category"].create({"name": "Preview"})
        cls.french = cls.env["res.partner"].create(
            [
                {"name": f"French {i}", "country_id": france.id, "category_id": tag.ids}
                for i in range(3)
            ]
        )
        cls.french_domain = (
            f"[('country_id', '=', {france.id}), ('category_id', 'in', {tag.ids})]"
        )
        cls.cold = cls.Tier.create({"name": "Cold", "min_score": 0})
        cls.warm = cls.Tier.create({"name": "Warm", "min_score": 25})
        cls.hot = cls.Tier.create({"name": "Hot", "min_score": 100})

    def test_an_unsaved_rule_previews_contacts_points_and_tier_moves(self):
        self.add(self.french[0], "add", 90, source="manual", note="Met")
        form = Form(self.Rule.with_user(self.manager))
        form.name = "French partners"
        form.value = 30
        form.domain = self.french_domain
        self.assertEqual(form.preview_contacts, 3)
        self.assertEqual(form.preview_points, 90)
        self.assertEqual(form.preview_tier_moves, "2 Cold → Warm, 1 Warm → Hot")
        self.assertFalse(self.french.lead_score_operation_ids.filtered("rule_id"))
        form.operation = "set"
        form.value = 5
        self.assertEqual(form.preview_points, 5 * 3 - 90)
        self.assertEqual(form.preview_tier_moves, "1 Warm → Cold")

    def test_negative_points_to_add_preview_nothing_and_say_why(self):
        form = Form(self.Rule.with_user(self.manager))
        form.name = "French partners"
        form.domain = self.french_domain
        form.value = -225
        self.assertEqual(form.preview_contacts, 0)
        self.assertEqual(form.preview_points, 0)
        self.assertIn("from 0 to 1,000,000", form.preview_warning)
        form.operation = "set"
        self.assertEqual(form.preview_contacts, 3)
        self.assertFalse(form.preview_warning)

    def test_a_rule_that_ran_previews_only_what_is_left(self):
        rule = self.Rule.create(
            {"name": "French", "value": 30, "domain": self.french_domain}
        )
        self.env["lead.score.run"]._run_rules(rule)
        self.assertEqual(rule.preview_contacts, 0)
        newcomer = self.french[0].copy({"name": "Newcomer"})
        rule.invalidate_recordset()
        self.assertEqual(rule.preview_contacts, 1)
        action = rule.action_preview_contacts()
        self.assertEqual(self.env["res.partner"].search(action["domain"]), newcomer)

    def test_a_broken_condition_previews_nothing(self):
        form = Form(self.Rule)
        form.name = "Broken"
        form.domain = "[('no_such_field', '=', 1)]"
        self.assertEqual(form.preview_contacts, 0)

    def test_an_event_rule_previews_what_it_would_have_scored_since_a_date(self):
        lead_model = self.env["ir.model"]._get("crm.lead")
        partner_field = self.env["ir.model.fields"]._get("crm.lead", "partner_id")
        leads = self.env["crm.lead"].create(
            [{"name": f"Lead {i}", "partner_id": self.french[i].id} for i in range(3)]
        )
        self.env.flush_all()
        self.env.cr.execute(
            "UPDATE crm_lead SET create_date = now() - interval '40 days'"
            " WHERE id = %s",
            [leads[0].id],
        )
        form = Form(self.Rule)
        form.name = "Each lead"
        form.condition_type = "event"
        form.model_id = lead_model
        form.partner_field_id = partner_field
        form.domain = f"[('id', 'in', {leads.ids})]"
        self.assertEqual(form.preview_contacts, 3)
        form.preview_since = fields.Date.today() - timedelta(days=30)
        self.assertEqual(form.preview_contacts, 2)
        # Points per lead: a contact with two new leads gets them twice.
        self.env["crm.lead"].create({"name": "Lead 3", "partner_id": self.french[1].id})
        form.domain = "[('partner_id', 'in', %s)]" % self.french.ids
        self.assertEqual(form.preview_contacts, 2)
        self.assertEqual(form.preview_points, 3 * form.value)
