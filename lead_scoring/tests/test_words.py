"""What the screens say: names and labels that read right, grades that
explain themselves, no verdict on a contact never scored, and the extras
users look for (hottest first, last scored, a group's tier in the filters,
tier names in the reader's language)."""

from datetime import timedelta

from lxml import etree

from odoo import fields
from odoo.tests import new_test_user, tagged
from odoo.tools.safe_eval import safe_eval

from .common import load_migration
from .test_grade import grade_groups
from .test_groups import GroupsCase

GRADE_TITLE = (
    "Grade: the letter for the fit (A the best), the digit for the "
    "engagement (1 the most engaged)"
)


@tagged("post_install", "-at_install")
class TestWords(GroupsCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.cold = cls.Tier.create({"name": "Cold", "min_score": 0})
        cls.hot = cls.Tier.create({"name": "Hot", "min_score": 50})
        cls.ideal = cls.Tier.create(
            {"name": "Ideal", "min_score": 35, "group_id": cls.fit.id}
        )
        cls.engaged = cls.Tier.create(
            {"name": "Engaged", "min_score": 20, "group_id": cls.engagement.id}
        )
        grade_groups(cls.env, cls.fit, cls.engagement)
        cls.salesman = new_test_user(
            cls.env,
            "ls_words_salesman",
            groups="sales_team.group_sale_salesman_all_leads,"
            "lead_scoring.group_lead_scoring_user",
        )

    def arch(self, model, view_type, view=None, user=None):
        view_id = self.env.ref(view).id if view else False
        views = (
            self.env[model]
            .with_user(user or self.salesman)
            .get_views([(view_id, view_type)])
        )
        return etree.fromstring(views["views"][view_type]["arch"])

    # The default group ------------------------------------------------

    def test_the_default_group_is_named_general_not_score(self):
        self.assertEqual(self.default.name, "General")

    def test_the_upgrade_renames_the_default_group_only_if_still_named_score(self):
        migration = load_migration("lead_scoring", "18.0.1.4.0")
        self.env["res.lang"]._activate_lang("fr_FR")
        self.default.name = "Score"
        self.default.with_context(lang="fr_FR").name = "Score"
        self.env.flush_all()
        migration.migrate(self.env.cr, "18.0.1.3.0")
        self.default.invalidate_recordset(["name"])
        self.assertEqual(self.default.name, "General")
        # A name someone chose, in any language, stays.
        self.default.name = "Score"
        self.default.with_context(lang="fr_FR").name = "Points"
        self.env.flush_all()
        migration.migrate(self.env.cr, "18.0.1.3.0")
        self.default.invalidate_recordset(["name"])
        self.assertEqual(self.default.name, "Score")
        self.assertEqual(self.default.with_context(lang="fr_FR").name, "Points")

    # The company's score ----------------------------------------------

    def test_the_company_score_reads_as_the_company_s_and_shows_for_its_people(self):
        company = self.env["res.partner"].create({"name": "Acme", "is_company": True})
        person = self.env["res.partner"].create(
            {"name": "Wile", "parent_id": company.id}
        )
        alone = self.env["res.partner"].create({"name": "Loner"})
        field = self.env["res.partner"]._fields["lead_score_company"]
        self.assertEqual(field.string, "Company's score")
        self.assertIn("company's score", field.help)
        block = self.arch("res.partner", "form").find(
            ".//div[@class='o_lead_score_company']"
        )
        self.assertEqual(block.get("invisible"), "not is_company and not parent_id")
        self.assertEqual(block.find("span").text, "Company's score")
        column = self.arch("res.partner", "list").find(
            ".//field[@name='lead_score_company']"
        )
        self.assertEqual(column.get("invisible"), "not is_company and not parent_id")
        # On leads: shown for a company or a person of one.
        leads = self.env["crm.lead"].create(
            [
                {"name": f"Deal {partner.name}", "partner_id": partner.id}
                for partner in (company, person, alone)
            ]
        )
        self.assertEqual(leads.mapped("partner_in_company"), [True, True, False])
        form = self.arch("crm.lead", "form")
        self.assertEqual(
            form.find(".//field[@name='partner_company_score']").get("invisible"),
            "not partner_in_company",
        )
        self.assertEqual(
            self.env["crm.lead"]._fields["partner_company_score"].string,
            "Company's score",
        )

    # Grades explain themselves ------------------------------------------

    def test_grade_badges_say_what_a_grade_means(self):
        badges = {
            "contact form": self.arch("res.partner", "form"),
            "contact kanban": self.arch("res.partner", "kanban"),
            "lead form": self.arch("crm.lead", "form"),
            "pipeline": self.arch(
                "crm.lead", "kanban", view="crm.crm_case_kanban_view_leads"
            ),
        }
        for where, arch in badges.items():
            with self.subTest(where=where):
                holder = arch.xpath(
                    "//span[@class='o_lead_score_grade_badge']"
                    "[.//field[contains(@name, 'lead_score_grade')]]"
                )
                self.assertEqual(len(holder), 1)
                self.assertEqual(holder[0].get("title"), GRADE_TITLE)
        lists = {
            "contacts": self.arch("res.partner", "list"),
            "opportunities": self.arch(
                "crm.lead", "list", view="crm.crm_case_tree_view_oppor"
            ),
            "leads": self.arch("crm.lead", "list", view="crm.crm_case_tree_view_leads"),
        }
        for where, arch in lists.items():
            with self.subTest(where=where):
                column = arch.xpath("//field[contains(@name, 'lead_score_grade')]")
                self.assertTrue(column)
        # A list's column header shows its field's help as a tooltip.
        for model, name in (
            ("res.partner", "lead_score_grade"),
            ("crm.lead", "partner_lead_score_grade"),
        ):
            help_text = (
                self.env[model]
                .with_user(self.salesman)
                .fields_get([name])[name]["help"]
            )
            self.assertIn("fit group (A: its highest tier)", help_text)

    # A contact never scored --------------------------------------------

    def test_a_contact_never_scored_shows_no_tier_or_grade(self):
        new = self.env["res.partner"].create({"name": "Brand New"})
        # Stored, the lowest tier and grade stand for "no points" in the
        # filters and groups; the screens hide them.
        self.assertEqual(new.lead_score_tier_id, self.cold)
        self.assertTrue(new.lead_score_grade)
        self.assertFalse(new.lead_score_last_date)
        form = self.arch("res.partner", "form")
        page = form.find(".//page[@name='lead_scoring']")
        self.assertIn(
            "not lead_score_operation_ids",
            page.find(".//field[@name='lead_score_tier_id']").get("invisible"),
        )
        self.assertIn(
            "not lead_score_operation_ids",
            page.find(".//span[@class='o_lead_score_grade_badge']").get("invisible"),
        )
        button = form.find(".//button[@name='action_view_lead_score_operations']")
        tier = button.find(".//field[@name='lead_score_tier_id']/..")
        self.assertIn("not lead_score_operation_ids", tier.get("invisible"))
        for model, name, view in (
            ("res.partner", "lead_score", None),
            ("crm.lead", "partner_lead_score", "crm.crm_case_tree_view_oppor"),
            ("crm.lead", "partner_lead_score", "crm.crm_case_tree_view_leads"),
        ):
            arch = self.arch(model, "list", view=view)
            for suffix in ("_tier_id", "_grade"):
                with self.subTest(model=model, view=view, field=suffix):
                    column = arch.find(f".//field[@name='{name}{suffix}']")
                    self.assertEqual(column.get("invisible"), f"not {name}_last_date")
        for model, name, view in (
            ("res.partner", "lead_score", None),
            ("crm.lead", "partner_lead_score", "crm.crm_case_kanban_view_leads"),
        ):
            arch = self.arch(model, "kanban", view=view)
            self.assertEqual(
                arch.find(f".//field[@name='{name}_tier_id']").get("invisible"),
                f"not {name}_last_date",
            )
            self.assertIn(
                f"record.{name}_last_date.raw_value",
                arch.find(".//span[@class='o_lead_score_grade_badge']").get("t-if"),
            )

    # Ours beside Odoo's predictive lead scoring -------------------------

    def test_the_lead_s_contact_score_is_told_apart_from_the_probability(self):
        field = self.env["crm.lead"]._fields["partner_lead_score"]
        self.assertEqual(field.string, "Contact's lead score")
        self.assertIn("Probability", field.help)
        settings = self.arch("res.config.settings", "form", user=self.env.user)
        ours = settings.find(".//block[@name='lead_scoring']")
        self.assertEqual(ours.get("title"), "Lead Scoring (points)")
        self.assertTrue(ours.get("help"))
        predictive = settings.find(
            ".//setting[@name='predictive_lead_setting_container']"
        )
        self.assertIn("Probability", predictive.get("help"))

    # Hottest first --------------------------------------------------------

    def test_the_pipeline_hottest_first_sorts_by_the_contact_s_score(self):
        action = self.env.ref("lead_scoring.crm_lead_action_hottest_first")
        kanban = action.view_ids.filtered(lambda v: v.view_mode == "kanban").view_id
        arch = self.arch("crm.lead", "kanban", view=kanban.get_external_id()[kanban.id])
        order = arch.get("default_order")
        self.assertTrue(order.startswith("partner_lead_score desc"))
        self.assertEqual(arch.get("js_class"), "crm_kanban")
        warm, hot, cold = self.env["res.partner"].create(
            [{"name": name} for name in ("Warm", "Hot", "Cold")]
        )
        self.add(warm, "add", 20)
        self.add(hot, "add", 80)
        leads = self.env["crm.lead"].create(
            [
                {"name": partner.name, "partner_id": partner.id, "type": "opportunity"}
                for partner in (warm, hot, cold)
            ]
        )
        # As the kanban reads a column.
        found = (
            self.env["crm.lead"]
            .with_user(self.salesman)
            .web_search_read([("id", "in", leads.ids)], {"name": {}}, order=order)
        )
        self.assertEqual(
            [record["name"] for record in found["records"]], ["Hot", "Warm", "Cold"]
        )
        menu = self.env.ref("lead_scoring.menu_lead_scoring_crm_hottest_first")
        self.assertEqual(menu.action, action)
        self.assertEqual(menu.parent_id, self.env.ref("crm.crm_menu_sales"))

    # Last scored ----------------------------------------------------------

    def test_last_scored_is_the_date_of_the_newest_line_and_searchable(self):
        old, recent, never = self.env["res.partner"].create(
            [{"name": name} for name in ("Old", "Recent", "Never")]
        )
        self.add(old, "add", 5, days_ago=40)
        self.add(recent, "add", 5, days_ago=40)
        line = self.add(recent, "add", 5, days_ago=2)
        partners = (old | recent | never).with_user(self.salesman)
        self.assertEqual(recent.lead_score_last_date, line.date)
        self.assertFalse(never.lead_score_last_date)
        Partner = self.env["res.partner"].with_user(self.salesman)
        since = fields.Datetime.now() - timedelta(days=10)
        scope = [("id", "in", partners.ids)]
        self.assertEqual(
            Partner.search(scope + [("lead_score_last_date", ">=", since)]), recent
        )
        self.assertEqual(
            Partner.search(scope + [("lead_score_last_date", "<", since)]), old
        )
        self.assertEqual(
            Partner.search(scope + [("lead_score_last_date", "=", False)]), never
        )
        self.assertEqual(
            Partner.search(scope + [("lead_score_last_date", "!=", False)]),
            old | recent,
        )
        lead = self.env["crm.lead"].create({"name": "Deal", "partner_id": recent.id})
        self.assertEqual(lead.partner_lead_score_last_date, line.date)
        # A new line shows at once.
        newer = self.add(recent, "add", 1)
        self.assertEqual(recent.lead_score_last_date, newer.date)
        search = self.arch("res.partner", "search")
        never_filter = search.find(".//filter[@name='lead_score_never_scored']")
        self.assertEqual(
            never_filter.get("domain"), "[('lead_score_last_date', '=', False)]"
        )
        self.assertIsNotNone(
            self.arch("res.partner", "list").find(
                ".//field[@name='lead_score_last_date']"
            )
        )

    # A group's tier in the filters ---------------------------------------

    def test_contacts_are_found_by_their_tier_in_a_group(self):
        fit, not_fit = self.env["res.partner"].create(
            [{"name": "Fits"}, {"name": "Does not fit"}]
        )
        self.add(fit, "add", 40, group_id=self.fit.id)
        self.add(not_fit, "add", 10, group_id=self.fit.id)
        self.assertIn(self.ideal, fit.lead_score_group_tier_ids)
        Partner = self.env["res.partner"].with_user(self.salesman)
        self.assertEqual(
            Partner.search(
                [
                    ("lead_score_group_tier_ids", "in", self.ideal.ids),
                    ("id", "in", (fit | not_fit).ids),
                ]
            ),
            fit,
        )
        search = self.arch("res.partner", "search")
        self.assertIsNotNone(search.find(".//field[@name='lead_score_group_tier_ids']"))
        # The suggestions name each tier's group, as the field's context asks.
        context = Partner.fields_get(["lead_score_group_tier_ids"])[
            "lead_score_group_tier_ids"
        ]["context"]
        names = [
            name
            for _id, name in self.env["lead.score.tier"]
            .with_user(self.salesman)
            .with_context(**context)
            .name_search("Ideal")
        ]
        self.assertEqual(names, ["Fit: Ideal"])
        # Elsewhere, a tier is its name alone.
        self.assertEqual(self.ideal.display_name, "Ideal")

    # Tier names in the reader's language --------------------------------

    def test_tier_changes_read_in_the_reader_s_language(self):
        self.env["res.lang"]._activate_lang("fr_FR")
        self.hot.with_context(lang="fr_FR").name = "Chaud"
        self.cold.with_context(lang="fr_FR").name = "Froid"
        # The scheduled job moves the tier, in English.
        env = self.env(context={"lang": "en_US"})
        env["lead.score.operation"].create(
            {"partner_id": self.partner.id, "operation": "add", "value": 60}
        )
        env.flush_all()
        self.env.cr.precommit.run()
        tracking = self.partner.message_ids.tracking_value_ids.filtered(
            lambda value: value.field_id.name == "lead_score_tier_id"
        )
        self.assertEqual(tracking.new_value_char, "Hot")
        french = tracking.with_context(lang="fr_FR")._tracking_value_format()
        self.assertEqual(
            (french[0]["oldValue"]["value"], french[0]["newValue"]["value"]),
            ("Froid", "Chaud"),
        )
        english = tracking.with_context(lang="en_US")._tracking_value_format()
        self.assertEqual(english[0]["newValue"]["value"], "Hot")
        # A tier deleted since keeps the name the message recorded.
        self.hot.unlink()
        french = tracking.with_context(lang="fr_FR")._tracking_value_format()
        self.assertEqual(french[0]["newValue"]["value"], "Hot")

    # A preset per group's tier in the filters ---------------------------

    def test_the_presets_follow_translations_and_the_total_group(self):
        self.env["res.lang"]._activate_lang("fr_FR")
        french = (
            self.env["res.partner"].with_user(self.salesman).with_context(lang="fr_FR")
        )

        def french_arch():
            views = french.get_views([(False, "search")])
            return etree.fromstring(views["views"]["search"]["arch"])

        self.assertTrue(french_arch().xpath("//filter[contains(@string, ': Ideal')]"))
        # Translated with the translate button (which ends in write()).
        self.ideal.update_field_translations("name", {"fr_FR": "Idéal"})
        self.fit.update_field_translations("name", {"fr_FR": "Adéquation"})
        self.assertTrue(
            french_arch().xpath("//filter[@string='Adéquation ≥ 35: Idéal']")
        )
        # Fit becomes the total: its tiers rank the total score.
        self.assertTrue(
            self.arch("res.partner", "search").xpath(
                "//filter[@string='Fit ≥ 35: Ideal']"
            )
        )
        self.env["res.config.settings"].create(
            {"lead_score_total_group_id": self.fit.id}
        ).execute()
        ideal = self.arch("res.partner", "search").xpath(
            "//filter[contains(@string, ': Ideal')]"
        )
        self.assertEqual(safe_eval(ideal[0].get("domain")), [("lead_score", ">=", 35)])

    def test_the_filters_offer_a_preset_per_group_tier(self):
        strong, weak = self.env["res.partner"].create(
            [{"name": "Strong fit"}, {"name": "Weak fit"}]
        )
        for partner, points in ((strong, 40), (weak, 25)):
            self.add(partner, "add", points, group_id=self.fit.id)
        arch = self.arch("res.partner", "search")
        fit_35 = arch.xpath("//filter[@string='Fit ≥ 35: Ideal']")
        self.assertEqual(len(fit_35), 1)
        domain = [
            *safe_eval(fit_35[0].get("domain")),
            ("id", "in", (strong | weak).ids),
        ]
        self.assertEqual(self.env["res.partner"].search(domain), strong)
        # The total's tiers rank the total score; a tier from zero filters nothing.
        hot = arch.xpath("//filter[@string='Lead Score ≥ 50: Hot']")
        self.assertEqual(safe_eval(hot[0].get("domain")), [("lead_score", ">=", 50)])
        self.assertFalse(arch.xpath("//filter[contains(@string, ': Cold')]"))
        # The views follow the tiers.
        self.ideal.name = "Perfect fit"
        arch = self.arch("res.partner", "search")
        self.assertTrue(arch.xpath("//filter[@string='Fit ≥ 35: Perfect fit']"))
        for view in (
            "crm.view_crm_case_opportunities_filter",
            "crm.view_crm_case_leads_filter",
        ):
            with self.subTest(view=view):
                arch = self.arch("crm.lead", "search", view=view)
                fit_35 = arch.xpath("//filter[@string='Fit ≥ 35: Perfect fit']")
                self.assertEqual(len(fit_35), 1)
                self.assertIn(
                    "partner_id.lead_score_value_ids", fit_35[0].get("domain")
                )
        # Not for a salesperson outside Lead Scoring.
        seller = new_test_user(
            self.env, "ls_words_seller", groups="sales_team.group_sale_salesman"
        )
        arch = self.arch("res.partner", "search", user=seller)
        self.assertFalse(arch.xpath("//filter[contains(@string, '≥ 35')]"))
