from unittest.mock import patch

from lxml import etree

from odoo.exceptions import UserError, ValidationError
from odoo.tests import new_test_user, tagged
from odoo.tools.safe_eval import safe_eval

from ..models import lead_score_operation as operation_module
from ..wizards import lead_score_adjust as adjust_module
from .common import LeadScoringCase


@tagged("post_install", "-at_install")
class TestTiers(LeadScoringCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.cold = cls.Tier.create({"name": "Cold", "min_score": 0, "color": 4})
        cls.warm = cls.Tier.create({"name": "Warm", "min_score": 50, "color": 2})
        cls.hot = cls.Tier.create({"name": "Hot", "min_score": 100, "color": 1})

    def test_contact_is_in_the_highest_band_it_reaches(self):
        self.assertEqual(self.partner.lead_score_tier_id, self.cold)
        self.add(self.partner, "add", 50)
        self.assertEqual(self.partner.lead_score_tier_id, self.warm)
        self.add(self.partner, "add", 60)
        self.assertEqual(self.partner.lead_score_tier_id, self.hot)
        self.add(self.partner, "set", -5)
        self.assertFalse(self.partner.lead_score_tier_id)

    def test_tier_changes_are_tracked_in_the_chatter(self):
        env = self.env(context={})
        env["lead.score.operation"].create(
            {"partner_id": self.partner.id, "operation": "add", "value": 120}
        )
        env.flush_all()
        self.env.cr.precommit.run()
        tracked = self.partner.message_ids.tracking_value_ids.filtered(
            lambda t: t.field_id.name == "lead_score_tier_id"
        )
        self.assertTrue(tracked)
        self.assertEqual(tracked[:1].new_value_char, "Hot")
        # The score is in the same message.
        score = tracked.mail_message_id.tracking_value_ids.filtered(
            lambda t: t.field_id.name == "lead_score"
        )
        self.assertEqual((score.old_value_integer, score.new_value_integer), (0, 120))

    def _tracked_scores(self):
        self.env(context={}).flush_all()
        self.env.cr.precommit.run()
        return self.env["mail.tracking.value"].search(
            [
                ("mail_message_id.model", "=", "res.partner"),
                ("mail_message_id.res_id", "=", self.partner.id),
                ("field_id.name", "=", "lead_score"),
            ]
        )

    def test_score_changes_within_a_tier_are_logged_only_by_hand(self):
        env = self.env(context={})
        self.add(self.partner, "add", 10)
        env["lead.score.operation"].create(
            {"partner_id": self.partner.id, "operation": "add", "value": 5}
        )
        self.assertFalse(self._tracked_scores())
        wizard = (
            env["lead.score.adjust"]
            .with_user(self.user)
            .create(
                {
                    "partner_ids": [(6, 0, self.partner.ids)],
                    "value": 7,
                    "note": "Met at a fair",
                }
            )
        )
        wizard.action_apply()
        tracked = self._tracked_scores()
        self.assertEqual(
            (tracked.old_value_integer, tracked.new_value_integer), (15, 22)
        )

    def test_a_bulk_adjustment_is_stored_and_logged_as_one_adjustment_is(self):
        env = self.env(context={})  # tracking on
        Partner = env["res.partner"]
        alone = self.partner
        selection = Partner.create([{"name": f"Selected {i}"} for i in range(3)])
        for partner in alone | selection:
            self.add(partner, "add", 40)
        self.env.flush_all()
        Message = type(env["mail.message"])

        def adjust(partners):
            before = partners.message_ids
            wizard = env["lead.score.adjust"].with_user(self.user)
            wizard.create(
                {"partner_ids": [(6, 0, partners.ids)], "value": 15, "note": "Fair"}
            ).action_apply()
            wizard.env.flush_all()  # the person's request ends
            self.env.cr.precommit.run()
            partners.invalidate_recordset(["message_ids"])
            return partners.message_ids - before

        def shown(message):
            return (
                message.subtype_id,
                str(message.body),
                tuple(
                    sorted(
                        (t.field_id.name, t.old_value_integer, t.new_value_integer)
                        + (t.old_value_char or "", t.new_value_char or "")
                        for t in message.tracking_value_ids
                    )
                ),
            )

        one = adjust(alone)
        with (
            patch.object(operation_module, "BULK_CONTACTS", 3),
            patch.object(Message, "create", side_effect=AssertionError("ORM")),
        ):
            bulk = adjust(selection)
        self.assertEqual(len(one), 1)
        self.assertEqual(sorted(bulk.mapped("res_id")), selection.ids)
        self.assertEqual({shown(message) for message in bulk}, {shown(one)})
        self.assertEqual(
            shown(one)[-1],
            (
                ("lead_score", 40, 55, "", ""),
                ("lead_score_tier_id", self.cold.id, self.warm.id, "Cold", "Warm"),
            ),
        )
        # The person who adjusted them (the test's tracking logs as the
        # superuser whose flush came first).
        self.assertEqual(bulk.author_id, self.user.partner_id)
        self.assertEqual(selection.mapped("lead_score"), [55] * 3)
        self.assertEqual(selection.lead_score_tier_id, self.warm)

    def test_an_adjustment_of_too_many_contacts_is_refused_before_anything(self):
        selection = self.env["res.partner"].create(
            [{"name": f"Selected {i}"} for i in range(3)]
        )
        Wizard = self.env["lead.score.adjust"].with_user(self.user)
        Operation = self.env["lead.score.operation"]
        with patch.object(adjust_module, "MAX_CONTACTS", 2):
            wizard = Wizard.create(
                {"partner_ids": [(6, 0, selection.ids)], "value": 5, "note": "Fair"}
            )
            with self.assertRaisesRegex(UserError, "at most 2 contacts at once"):
                wizard.action_apply()
            self.assertFalse(Operation.search([("partner_id", "in", selection.ids)]))
            wizard.partner_ids = selection[:2]
            wizard.action_apply()
        self.assertEqual(selection.mapped("lead_score"), [5, 5, 0])

    def test_contact_form_shows_the_score_and_opens_its_history(self):
        self.add(self.partner, "add", 60)
        self.add(self.partner, "remove", 5)
        arch = etree.fromstring(
            self.env["res.partner"]
            .with_user(self.user)
            .get_views([(False, "form")])["views"]["form"]["arch"]
        )
        button = arch.find(
            ".//div[@name='button_box']/button[@name='action_view_lead_score_operations']"
        )
        self.assertIsNotNone(button.find(".//field[@name='lead_score']"))
        self.assertIsNotNone(button.find(".//field[@name='lead_score_tier_id']"))
        history = arch.find(".//field[@name='lead_score_operation_ids']/list")
        self.assertEqual(
            history.find("field[@name='signed_value']").get("string"), "Points"
        )
        self.assertIsNone(history.find("field[@name='value']"))
        action = self.partner.with_user(self.user).action_view_lead_score_operations()
        history = self.Operation.search(action["domain"])
        self.assertEqual(history, self.partner.lead_score_operation_ids)
        self.assertEqual(sorted(history.mapped("signed_value")), [-5, 60])

    def test_changing_bands_moves_contacts(self):
        self.add(self.partner, "add", 70)
        self.assertEqual(self.partner.lead_score_tier_id, self.warm)
        self.hot.min_score = 60
        self.assertEqual(self.partner.lead_score_tier_id, self.hot)
        self.hot.unlink()
        self.assertEqual(self.partner.lead_score_tier_id, self.warm)

    def test_tier_button_opens_its_contacts(self):
        self.add(self.partner, "add", 120)
        action = self.hot.action_view_partners()
        self.assertEqual(action["res_model"], "res.partner")
        shown = self.env["res.partner"].search(action["domain"])
        self.assertIn(self.partner, shown)
        self.assertEqual(len(shown), self.hot.partner_count)
        self.assertTrue(all(score >= 100 for score in shown.mapped("lead_score")))

    def test_groups_show_the_average_score(self):
        other = self.env["res.partner"].create({"name": "Other hot contact"})
        self.add(self.partner, "add", 100)
        self.add(other, "add", 200)
        leads = self.env["crm.lead"].create(
            [
                {"name": "Deal", "partner_id": partner.id}
                for partner in (self.partner, other)
            ]
        )
        for records, score, tier in (
            (self.partner | other, "lead_score", "lead_score_tier_id"),
            (leads, "partner_lead_score", "partner_lead_score_tier_id"),
        ):
            with self.subTest(model=records._name):
                groups = records.read_group(
                    [("id", "in", records.ids)], [score], [tier]
                )
                self.assertEqual(groups[0][score], 150)

    def test_tier_kanban_puts_the_highest_scores_first(self):
        other = self.env["res.partner"].create({"name": "Aaron"})
        self.add(self.partner, "add", 300)
        self.add(other, "add", 120)
        action = self.hot.action_view_partners()
        kanban = {mode: view for view, mode in action["views"]}["kanban"]
        views = self.env["res.partner"].get_views([(kanban, "kanban")])
        order = etree.fromstring(views["views"]["kanban"]["arch"]).get("default_order")
        shown = self.env["res.partner"].search(
            action["domain"] + [("id", "in", (self.partner | other).ids)], order=order
        )
        self.assertEqual(shown.ids, [self.partner.id, other.id])
        by_tier = self.env.ref("lead_scoring.res_partner_action_by_tier")
        self.assertIn("'group_by': 'lead_score_tier_id'", by_tier.context)

    def test_duplicate_bands_are_refused(self):
        with self.assertRaises(ValidationError):
            self.Tier.create({"name": "Lukewarm", "min_score": 50})
        with self.assertRaises(ValidationError):
            self.Tier.create({"name": "hot", "min_score": 500})
        with self.assertRaises(ValidationError):
            self.warm.min_score = 100

    def test_crm_leads_show_and_sort_by_their_contact_score(self):
        Lead = self.env["crm.lead"]
        other = self.env["res.partner"].create({"name": "Cold Contact"})
        hot_lead = Lead.create({"name": "Hot deal", "partner_id": self.partner.id})
        cold_lead = Lead.create({"name": "Cold deal", "partner_id": other.id})
        self.add(self.partner, "add", 150)
        self.assertEqual(hot_lead.partner_lead_score, 150)
        self.assertEqual(hot_lead.partner_lead_score_tier_id, self.hot)
        ordered = Lead.search(
            [("id", "in", (hot_lead | cold_lead).ids)], order="partner_lead_score desc"
        )
        self.assertEqual(ordered[0], hot_lead)
        self.assertEqual(
            Lead.search([("partner_lead_score", ">=", 100), ("id", "in", ordered.ids)]),
            hot_lead,
        )


@tagged("post_install", "-at_install")
class TestViews(LeadScoringCase):
    def _search_arch(self, model):
        arch = self.env[model].with_user(self.user).get_views([(False, "search")])
        return etree.fromstring(arch["views"]["search"]["arch"])

    def test_contacts_range_filters_need_no_domain_writing(self):
        low = self.env["res.partner"].create({"name": "Low"})
        self.add(self.partner, "add", 120)
        self.add(low, "add", 20)
        search = self._search_arch("res.partner")
        at_least = search.find(".//filter[@name='lead_score_100']")
        domain = safe_eval(at_least.get("domain"))
        found = self.env["res.partner"].search(
            domain + [("id", "in", (low | self.partner).ids)]
        )
        self.assertEqual(found, self.partner)
        self.assertIsNotNone(search.find(".//filter[@name='group_lead_score_tier']"))
        # The filter editor's "is between" builds this domain.
        between = [("lead_score", ">=", 10), ("lead_score", "<=", 30)]
        found = (
            self.env["res.partner"]
            .with_user(self.user)
            .search(between + [("id", "in", (low | self.partner).ids)])
        )
        self.assertEqual(found, low)

    def test_leads_without_a_contact_show_no_score(self):
        self.salesman = new_test_user(
            self.env,
            "ls_salesman",
            groups="sales_team.group_sale_salesman,lead_scoring.group_lead_scoring_user",
        )
        arch = (
            self.env["crm.lead"]
            .with_user(self.salesman)
            .get_views([(self.env.ref("crm.crm_case_tree_view_oppor").id, "list")])
        )
        column = etree.fromstring(arch["views"]["list"]["arch"]).find(
            ".//field[@name='partner_lead_score']"
        )
        self.assertEqual(column.get("invisible"), "not partner_id")
        self.assertEqual(column.get("string"), "Score")

    def test_score_columns_are_hidden_without_the_group(self):
        fields_user = (
            self.env["res.partner"].with_user(self.user).fields_get(["lead_score"])
        )
        fields_internal = (
            self.env["res.partner"].with_user(self.internal).fields_get(["lead_score"])
        )
        self.assertIn("lead_score", fields_user)
        self.assertNotIn("lead_score", fields_internal)
        arch = (
            self.env["res.partner"]
            .with_user(self.internal)
            .get_views([(False, "list")])
        )
        self.assertNotIn("lead_score", arch["views"]["list"]["arch"])

    def test_french_installed_after_the_addons_names_the_tab_in_french(self):
        self.env["res.lang"]._activate_lang("fr_FR")
        self.env["ir.module.module"]._load_module_terms(["lead_scoring"], ["fr_FR"])
        arch = (
            self.env["res.partner"]
            .with_user(self.user)
            .with_context(lang="fr_FR")
            .get_views([(False, "form")])["views"]["form"]["arch"]
        )
        tab = etree.fromstring(arch).find(".//page[@name='lead_scoring']")
        self.assertEqual(tab.get("string"), "Scoring des pistes")

    def test_reports_sit_beside_the_contacts_not_under_configuration(self):
        configuration = self.env.ref("contacts.res_partner_menu_config") | self.env.ref(
            "crm.crm_menu_config"
        )
        for name in (
            "menu_lead_scoring_by_tier",
            "menu_lead_scoring_operations",
            "menu_lead_scoring_breakdown",
            "menu_lead_scoring_crm_by_tier",
            "menu_lead_scoring_crm_operations",
            "menu_lead_scoring_crm_breakdown",
        ):
            menu = self.env.ref(f"lead_scoring.{name}")
            ancestors = {int(id_) for id_ in menu.parent_path.split("/") if id_}
            self.assertFalse(ancestors & set(configuration.ids), name)
        self.assertEqual(
            self.env.ref("lead_scoring.menu_lead_scoring_crm_by_tier").parent_id,
            self.env.ref("crm.crm_menu_report"),
        )

    def test_contacts_by_tier_offer_no_column_or_drag_that_cannot_work(self):
        action = self.env.ref("lead_scoring.res_partner_action_by_tier")
        view = action.view_ids.filtered(lambda v: v.view_mode == "kanban").view_id
        arch = etree.fromstring(
            self.env["res.partner"].get_view(view.id, "kanban")["arch"]
        )
        for attribute in ("group_create", "records_draggable", "quick_create"):
            self.assertIn(arch.get(attribute), ("0", "false", "False"), attribute)

    def test_the_lead_scoring_tab_names_its_tables(self):
        arch = etree.fromstring(
            self.env["res.partner"].get_view(
                self.env.ref("base.view_partner_form").id, "form"
            )["arch"]
        )
        page = arch.xpath("//page[@name='lead_scoring']")[0]
        titles = [node.get("string") for node in page.iter("separator")]
        self.assertEqual(
            titles, ["Score per group", "Where the score comes from", "History"]
        )
        # Only what no longer counts gets a badge in the breakdown.
        state = page.xpath(
            ".//field[@name='lead_score_breakdown_ids']//field[@name='state']"
        )[0]
        self.assertIn(
            "counting", state.get("invisible") or state.get("column_invisible") or ""
        )
