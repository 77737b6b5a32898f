import json
from datetime import timedelta
from unittest.mock import patch

from freezegun import freeze_time
from psycopg2 import IntegrityError

from odoo import fields
from odoo.exceptions import UserError, ValidationError
from odoo.tests import Form, tagged
from odoo.tools import SQL, config, mute_logger

from .common import LeadScoringCase, spying_set_based_writes


@tagged("post_install", "-at_install")
class TestRules(LeadScoringCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        Partner = cls.env["res.partner"]
        cls.france = cls.env.ref("base.fr")
        cls.tag = cls.env["res.partner.category"].create({"name": "Partner"})
        cls.french = Partner.create(
            [
                {
                    "name": f"French {i}",
                    "country_id": cls.france.id,
                    "category_id": [(4, cls.tag.id)],
                }
                for i in range(3)
            ]
        )
        cls.german = Partner.create(
            {"name": "German", "country_id": cls.env.ref("base.de").id}
        )
        cls.french_domain = f"[('country_id', '=', {cls.france.id}), ('category_id', 'in', [{cls.tag.id}])]"

    def rule(self, **vals):
        return super().rule(
            **{"name": "French partners", "domain": self.french_domain, **vals}
        )

    def run_rules_counting_refreshes(self):
        """Run the rules; the contacts whose scores were written, once per write."""
        refreshed = []
        original = type(self.env["lead.score.ledger"])._refresh_scores

        def refresh_scores(operations, partner_ids, **kwargs):
            refreshed.extend(partner_ids)
            return original(operations, partner_ids, **kwargs)

        with patch.object(
            type(self.env["lead.score.ledger"]), "_refresh_scores", refresh_scores
        ):
            self.run_rules()
        return refreshed

    def test_first_run_is_retroactive_and_scores_every_match(self):
        rule = self.rule()
        changed = self.run_rules()
        self.assertEqual(changed, set(self.french.ids))
        self.assertEqual(set(self.french.mapped("lead_score")), {10})
        self.assertEqual(self.german.lead_score, 0)
        self.assertEqual(rule.last_run_count, 3)
        operation = self.french[0].lead_score_operation_ids
        self.assertEqual(
            (operation.source, operation.rule_id, operation.rule_name),
            ("rule", rule, rule.name),
        )

    def test_once_rule_never_scores_twice_and_deleting_rearms_it(self):
        self.rule()
        self.run_rules()
        self.assertEqual(self.run_rules(), set())
        self.assertEqual(set(self.french.mapped("lead_score")), {10})
        self.french[0].lead_score_operation_ids.with_user(self.manager).unlink()
        self.assertEqual(self.french[0].lead_score, 0)
        self.assertEqual(self.run_rules(), {self.french[0].id})
        self.assertEqual(self.french[0].lead_score, 10)

    def assert_scored_again_after_seven_days(self, start):
        """A weekly rule run at ``start``: two days later nobody is scored
        again, eight days later everyone is."""
        self.rule(repeat="every", repeat_days=7)
        with freeze_time(start):
            self.run_rules()
        with freeze_time(start + timedelta(days=2)):
            self.assertEqual(self.run_rules(), set())
        with freeze_time(start + timedelta(days=8)):
            self.assertEqual(self.run_rules(), set(self.french.ids))
        self.assertEqual(set(self.french.mapped("lead_score")), {20})

    def test_repeating_rule_scores_again_after_its_period(self):
        self.assert_scored_again_after_seven_days(fields.Datetime.now())

    def test_repeating_rule_waits_its_days_across_a_period_boundary(self):
        """Scored on the last day of a period, a contact is not scored again
        the next day for being in a new period: its days must have passed."""
        now = fields.Datetime.now()
        day = int(now.timestamp() // 86400)
        self.assert_scored_again_after_seven_days(
            now + timedelta(days=(6 - day % 7) % 7)
        )

    def test_rule_only_scores_contacts_that_still_match(self):
        self.rule(repeat="every", repeat_days=1)
        start = fields.Datetime.now()
        with freeze_time(start):
            self.run_rules()
        self.french[0].country_id = self.env.ref("base.be")
        with freeze_time(start + timedelta(days=2)):
            self.run_rules()
        self.assertEqual(self.french[0].lead_score, 10)
        self.assertEqual(self.french[1].lead_score, 20)

    def lead_rule(self, **vals):
        return self.Rule.create(
            {
                "name": "Lead created",
                "operation": "add",
                "value": 10,
                "condition_type": "event",
                "model_id": self.env.ref("crm.model_crm_lead").id,
                "partner_field_id": self.env.ref("crm.field_crm_lead__partner_id").id,
                "domain": "[('name', 'ilike', 'Farmed')]",
                **vals,
            }
        )

    def farmed_leads(self, partner, count):
        leads = self.env["crm.lead"].create(
            [{"name": f"Farmed {i}", "partner_id": partner.id} for i in range(count)]
        )
        self.as_if_written_later(leads)
        return leads

    def test_an_event_rule_scores_a_contact_at_most_its_limit(self):
        rule = self.lead_rule(limit_count=2, limit_days=30)
        farmer, other = self.french[0], self.french[1]
        self.farmed_leads(farmer, 20)
        self.farmed_leads(other, 1)
        self.run_rules()
        self.assertEqual(farmer.lead_score, 20, "two records of twenty")
        self.assertEqual(other.lead_score, 10)
        # Later records of the period score no more; nor across chunks.
        self.farmed_leads(farmer, 5)
        self.run_rules()
        self.assertEqual(farmer.lead_score, 20)
        self.assertEqual(
            len(rule.operation_ids.filtered(lambda o: o.partner_id == farmer)), 2
        )
        # Once the period is over, the contact may score again, as limited.
        rule.operation_ids.flush_recordset()
        self.env.cr.execute(
            "UPDATE lead_score_operation SET date = date - interval '31 days'"
            " WHERE rule_id = %s",
            [rule.id],
        )
        self.farmed_leads(farmer, 3)
        self.run_rules()
        self.assertEqual(
            len(rule.operation_ids.filtered(lambda o: o.partner_id == farmer)), 4
        )

    def test_an_event_rule_without_a_limit_scores_every_record(self):
        self.lead_rule()
        self.farmed_leads(self.french[0], 5)
        self.run_rules()
        self.assertEqual(self.french[0].lead_score, 50)

    def test_the_preview_counts_within_the_limit(self):
        self.farmed_leads(self.french[0], 6)
        # As an administrator: choosing a model reads Odoo's model list.
        form = Form(self.Rule.with_user(self.env.ref("base.user_admin")))
        form.name = "Lead created"
        form.condition_type = "event"
        form.model_id = self.env.ref("crm.model_crm_lead")
        form.domain = "[('name', 'ilike', 'Farmed')]"
        form.value = 10
        self.assertEqual(form.preview_points, 60)
        form.limit_count = 2
        self.assertEqual(form.preview_points, 20)

    def test_the_rules_list_says_what_each_rule_scores(self):
        self.assertEqual(self.rule().scoring_summary, "Once per contact")
        self.assertEqual(
            self.rule(repeat="every", repeat_days=30).scoring_summary, "Every 30 days"
        )
        self.assertEqual(self.lead_rule().scoring_summary, "Each record")
        self.assertEqual(
            self.lead_rule(limit_count=2, limit_days=30).scoring_summary,
            "Each record, at most 2 per contact in 30 days",
        )
        self.assertEqual(
            self.lead_rule(limit_count=1, limit_days=0).scoring_summary,
            "Each record, at most 1 per contact",
        )
        arch = self.Rule.get_view(
            self.env.ref("lead_scoring.lead_score_rule_view_list").id, "list"
        )["arch"]
        self.assertIn('name="scoring_summary"', arch)
        self.assertNotIn('name="repeat"', arch)

    def test_a_limit_is_validated(self):
        with self.assertRaises(ValidationError):
            self.lead_rule(limit_count=-1)
        with self.assertRaises(ValidationError):
            self.lead_rule(limit_count=2, limit_days=99999)

    def test_event_rule_scores_once_per_record(self):
        Lead = self.env["crm.lead"]
        won_stage = self.env["crm.stage"].search([("is_won", "=", True)], limit=1)
        partner = self.french[0]
        leads = Lead.create(
            [
                {
                    "name": f"Deal {i}",
                    "partner_id": partner.id,
                    "stage_id": won_stage.id,
                }
                for i in range(2)
            ]
        )
        Lead.create({"name": "Open deal", "partner_id": partner.id})
        self.Rule.create(
            {
                "name": "Won deal",
                "operation": "add",
                "value": 25,
                "condition_type": "event",
                "model_id": self.env.ref("crm.model_crm_lead").id,
                "partner_field_id": self.env.ref("crm.field_crm_lead__partner_id").id,
                "domain": "[('stage_id.is_won', '=', True)]",
            }
        )
        self.run_rules()
        self.assertEqual(partner.lead_score, 50)
        self.assertEqual(
            set(partner.lead_score_operation_ids.mapped("res_id")), set(leads.ids)
        )
        self.assertEqual(
            set(partner.lead_score_operation_ids.mapped("res_model")), {"crm.lead"}
        )
        self.run_rules()
        self.assertEqual(partner.lead_score, 50)
        Lead.create(
            {"name": "Deal 3", "partner_id": partner.id, "stage_id": won_stage.id}
        )
        self.run_rules()
        self.assertEqual(partner.lead_score, 75)

    def test_points_from_a_rule_expire(self):
        self.rule(expiry_days=30)
        start = fields.Datetime.now()
        with freeze_time(start):
            self.run_rules()
        operation = self.french[0].lead_score_operation_ids
        self.assertEqual(operation.expiry_date, start + timedelta(days=30))
        with freeze_time(start + timedelta(days=31)):
            self.run_rules()
        self.assertTrue(operation.expired)
        self.assertEqual(self.french[0].lead_score, 0)

    def test_rules_apply_in_sequence_order(self):
        self.add(self.french[0], "add", 500, days_ago=1)
        self.rule(name="Then add", operation="add", value=5, sequence=20)
        self.rule(name="Reset first", operation="set", value=100, sequence=10)
        self.run_rules()
        self.assertEqual(self.french[0].lead_score, 105)
        self.assertEqual(
            [
                op.rule_name
                for op in self.french[0].lead_score_operation_ids.sorted("id")
            ][1:],
            ["Reset first", "Then add"],
        )

    def test_domain_can_use_dates_like_automation_rules(self):
        self.french[0].write({"comment": "recent"})
        rule = self.rule(
            domain="[('create_date', '>=', (context_today() - relativedelta(days=30)).strftime('%Y-%m-%d')),"
            f" ('id', 'in', {self.french.ids}), ('create_uid', '=', uid)]"
        )
        self.run_rules()
        self.assertEqual(rule.last_run_count, 3)

    def test_a_broken_rule_is_isolated(self):
        broken = self.rule(name="Broken", sequence=1)
        good = self.rule(name="Good", value=7, sequence=2)
        # As if a field used by the rule had since disappeared.
        self.env.cr.execute(
            "UPDATE lead_score_rule SET domain = %s WHERE id = %s",
            ["[('no_such_field', '=', 1)]", broken.id],
        )
        broken.invalidate_recordset()
        with mute_logger("odoo.addons.lead_scoring.engine.rule_run"):
            self.run_rules()
        self.assertIn("no_such_field", broken.last_error)
        self.assertTrue(broken.last_error_date)
        self.assertFalse(good.last_error)
        self.assertEqual(set(self.french.mapped("lead_score")), {7})

    def test_a_database_error_in_one_rule_does_not_stop_the_others(self):
        failing = self.rule(name="Fails", sequence=1)
        good = self.rule(name="Good", value=3, sequence=2)
        original = type(self.Rule)._apply

        def apply(rule, *args, **kwargs):
            if rule == failing:
                rule.env.cr.execute("SELECT 1/0")
            return original(rule, *args, **kwargs)

        with (
            patch.object(type(self.Rule), "_apply", apply),
            mute_logger("odoo.addons.lead_scoring.engine.rule_run"),
        ):
            self.run_rules()
        self.assertIn("division by zero", failing.last_error)
        self.assertEqual(good.last_run_count, 3)
        self.assertEqual(set(self.french.mapped("lead_score")), {3})

    def assert_a_slow_rule_is_stopped(self):
        """A rule whose query sleeps 3 s fails on its statement timeout; the
        next rule still scores."""
        slow = self.rule(name="Slow", sequence=1)
        self.rule(name="Fast", value=2, sequence=2)
        original = type(self.Rule)._apply

        def apply(rule, *args, **kwargs):
            if rule == slow:
                rule.env.cr.execute("SELECT pg_sleep(3)")
            return original(rule, *args, **kwargs)

        with (
            patch.object(type(self.Rule), "_apply", apply),
            mute_logger("odoo.addons.lead_scoring.engine.rule_run"),
        ):
            self.run_rules()
        self.assertIn("statement timeout", slow.last_error)
        self.assertEqual(set(self.french.mapped("lead_score")), {2})

    def test_statement_timeout_stops_a_slow_rule(self):
        self.env["ir.config_parameter"].set_param("lead_scoring.rule_timeout", 1)
        self.assert_a_slow_rule_is_stopped()

    def test_a_statement_stops_before_the_worker_time_limit(self):
        """Half the worker's time limit at most: Odoo would otherwise kill
        the worker, and every rule's chunk with it."""
        with patch.dict(config.options, {"limit_time_real_cron": 2}):
            self.assert_a_slow_rule_is_stopped()

    def test_rerun_after_a_crash_scores_nobody_twice(self):
        rule = self.rule()
        now = fields.Datetime.now()
        rule._apply(now)  # a run that crashed before updating scores
        self.assertEqual(self.run_rules(), set())
        self.env["lead.score.ledger"]._refresh_scores(self.french.ids)
        self.assertEqual(set(self.french.mapped("lead_score")), {10})
        self.assertEqual(len(self.Operation.search([("rule_id", "=", rule.id)])), 3)

    def test_database_refuses_a_second_operation_for_the_same_rule_key(self):
        rule = self.rule()
        self.run_rules()
        with mute_logger("odoo.sql_db"), self.assertRaises(IntegrityError):
            with self.env.cr.savepoint():
                self.env.cr.execute(
                    "INSERT INTO lead_score_operation (partner_id, date, operation, value,"
                    " source, rule_id, rule_key, expired) VALUES (%s, now(), 'add', 10,"
                    " 'rule', %s, 'once', false)",
                    [self.french[0].id, rule.id],
                )

    def test_validation_names_the_problem(self):
        with self.assertRaisesRegex(ValidationError, "not valid"):
            self.rule(domain="[('country_id', '=', ")
        with self.assertRaisesRegex(ValidationError, "no_such_field"):
            self.rule(domain="[('no_such_field', '=', 1)]")
        with self.assertRaisesRegex(
            ValidationError, "linking its records to a contact"
        ):
            self.Rule.create(
                {
                    "name": "Currencies",
                    "value": 1,
                    "condition_type": "event",
                    "model_id": self.env.ref("base.model_res_currency").id,
                    "domain": "[]",
                }
            )
        with self.assertRaises(ValidationError):
            self.rule(value=-4)
        with self.assertRaises(ValidationError):
            self.rule(repeat="every", repeat_days=0)

    def test_points_out_of_range_give_the_range_of_the_operation(self):
        adds = "add or remove from 0 to 1,000,000 points"
        sets = "set a score between -1,000,000 and 1,000,000"
        cases = [
            ({"operation": "add", "value": 2_000_000}, adds),
            ({"operation": "add", "value": -2_000_000}, adds),
            ({"operation": "remove", "value": -4}, adds),
            ({"value": -4}, adds),
            ({"operation": "set", "value": 2_000_000}, sets),
            ({"operation": "set", "value": -2_000_000}, sets),
        ]
        for vals, message in cases:
            with self.subTest(**vals):
                with (
                    self.assertRaisesRegex(ValidationError, message),
                    self.env.cr.savepoint(),
                ):
                    self.rule(**vals)
                rule = self.rule(operation=vals.get("operation", "add"), value=5)
                with (
                    self.assertRaisesRegex(ValidationError, message),
                    self.env.cr.savepoint(),
                ):
                    rule.write(vals)
        self.assertEqual(self.rule(operation="set", value=-1_000_000).value, -1_000_000)
        self.assertEqual(self.rule(operation="add", value=1_000_000).value, 1_000_000)

    def test_rule_with_history_is_archived_not_deleted(self):
        rule = self.rule()
        self.run_rules()
        with self.assertRaises(UserError):
            rule.unlink()
        rule.write({"active": False, "name": "Renamed"})
        operation = self.french[0].lead_score_operation_ids
        self.assertEqual(operation.rule_name, "French partners")
        self.assertEqual(self.french[0].lead_score, 10)

    def test_history_keeps_the_rule_title_in_each_language(self):
        self.env["res.lang"]._activate_lang("fr_FR")
        rule = self.rule()
        rule.with_context(lang="fr_FR").name = "Partenaires français"
        # Whoever runs it, in whatever language, the ledger reads in the reader's.
        self.env["lead.score.run"]._run_rules(
            self.Rule.with_context(lang="fr_FR").browse(rule.ids)
        )
        rule.with_context(lang="fr_FR").name = "Renommée"
        operation = self.french[0].lead_score_operation_ids
        self.assertEqual(
            operation.with_context(lang="en_US").rule_name, "French partners"
        )
        self.assertEqual(
            operation.with_context(lang="fr_FR").rule_name, "Partenaires français"
        )
        manual = self.Operation._engine().create(
            {
                "partner_id": self.french[1].id,
                "operation": "add",
                "value": 1,
                "source": "rule",
                "rule_id": rule.id,
            }
        )
        self.assertEqual(manual.with_context(lang="fr_FR").rule_name, "Renommée")
        self.assertEqual(manual.with_context(lang="en_US").rule_name, "French partners")

    def test_lines_recorded_before_a_language_take_its_titles_when_loaded(self):
        rule = self.env.ref("lead_scoring.rule_sales_area", raise_if_not_found=False)
        if not rule:
            self.skipTest("needs the demo data")
        renamed = self.rule()
        self.env.flush_all()
        # As if French had never been loaded: English titles only.
        self.env.cr.execute(
            "UPDATE lead_score_rule SET name = name - 'fr_FR' WHERE id = %s",
            [rule.id],
        )
        self.env.cr.execute(
            'UPDATE lead_score_rule SET name = name || \'{"fr_FR": "Autre"}\''
            " WHERE id = %s",
            [renamed.id],
        )
        rule.invalidate_recordset()
        lines = self.Operation._engine().create(
            [
                {
                    "partner_id": self.german.id,
                    "operation": "add",
                    "value": 1,
                    "source": "rule",
                    "rule_id": rule.id,
                },
                {
                    "partner_id": self.german.id,
                    "operation": "add",
                    "value": 1,
                    "source": "rule",
                    "rule_id": renamed.id,
                },
            ]
        )
        self.env.flush_all()
        self.env.cr.execute(
            "UPDATE lead_score_operation SET rule_name = rule_name - 'fr_FR'"
            " WHERE id = ANY(%s)",
            [lines.ids],
        )
        renamed.name = "Renamed since"
        self.env["res.lang"]._activate_lang("fr_FR")
        self.env["ir.module.module"]._load_module_terms(["lead_scoring"], ["fr_FR"])
        self.assertEqual(
            lines.with_context(lang="fr_FR").mapped("rule_name"),
            # A line of a renamed rule keeps the title it recorded.
            ["Contact dans notre zone de vente", "French partners"],
        )

    def test_run_now_is_for_managers(self):
        self.rule()
        with self.assertRaises(UserError):
            self.Rule.with_user(self.user).search([]).action_run_now()
        cron = self.env.ref("lead_scoring.ir_cron_apply_rules")
        triggers = self.env["ir.cron.trigger"].search([("cron_id", "=", cron.id)])
        result = self.Rule.with_user(self.manager).search([]).action_run_now()
        # The run goes on in the background: the request does not wait for it.
        self.assertEqual(result["params"]["type"], "info")
        self.assertEqual(set(self.french.mapped("lead_score")), {0})
        self.assertTrue(
            self.env["ir.cron.trigger"].search([("cron_id", "=", cron.id)]) - triggers
        )
        cron.method_direct_trigger()
        self.assertEqual(set(self.french.mapped("lead_score")), {10})

    def test_cron_applies_active_rules(self):
        self.rule()
        self.env.ref("lead_scoring.ir_cron_apply_rules").method_direct_trigger()
        self.assertEqual(set(self.french.mapped("lead_score")), {10})

    def test_a_company_rule_scores_that_company_and_shared_contacts(self):
        other_company = self.env["res.company"].create({"name": "Other Co"})
        foreign = self.env["res.partner"].create(
            {
                "name": "Foreign French",
                "country_id": self.france.id,
                "category_id": [(4, self.tag.id)],
                "company_id": other_company.id,
            }
        )
        self.rule(company_id=self.env.company.id)
        self.run_rules()
        self.assertEqual(set(self.french.mapped("lead_score")), {10})
        self.assertEqual(foreign.lead_score, 0)

    def test_a_run_moves_tiers_and_the_scores_shown_on_leads(self):
        warm = self.Tier.create({"name": "Warm", "min_score": 5})
        lead = self.env["crm.lead"].create(
            {"name": "Deal", "partner_id": self.french[0].id}
        )
        self.rule()
        self.run_rules()
        self.assertEqual(self.french[0].lead_score_tier_id, warm)
        self.assertEqual(lead.partner_lead_score, 10)
        self.assertEqual(lead.partner_lead_score_tier_id, warm)
        self.env.cr.execute(
            "SELECT partner_lead_score FROM crm_lead WHERE id = %s", lead.ids
        )
        self.assertEqual(self.env.cr.fetchone()[0], 10)

    def test_leads_copies_of_the_scores_are_written_in_one_update(self):
        warm = self.Tier.create({"name": "Warm", "min_score": 5})
        leads = self.env["crm.lead"].create(
            [
                {"name": f"Deal {i}", "partner_id": p.id}
                for i, p in enumerate(self.french)
            ]
        )
        self.rule()
        Writer = type(self.env["lead.score.writer"])
        write_scores = Writer._write_lead_scores
        left_to_the_orm = []

        def write_and_look(writer, *args):
            write_scores(writer, *args)
            for name in ("partner_lead_score", "partner_lead_score_tier_id"):
                field = self.env["crm.lead"]._fields[name]
                left_to_the_orm.extend(self.env.records_to_compute(field).ids)

        with patch.object(Writer, "_write_lead_scores", write_and_look):
            self.run_rules()
        self.assertEqual(left_to_the_orm, [])
        self.env.cr.execute(
            """SELECT DISTINCT partner_lead_score, partner_lead_score_tier_id
                 FROM crm_lead WHERE id = ANY(%s)""",
            [leads.ids],
        )
        self.assertEqual(self.env.cr.fetchall(), [(10, warm.id)])
        self.assertEqual(leads.partner_lead_score_tier_id, warm)

    def test_scores_are_written_in_one_update_with_their_copies(self):
        lead = self.env["crm.lead"].create(
            {"name": "Deal", "partner_id": self.french[0].id}
        )
        self.rule()
        with spying_set_based_writes(self.env) as quiet:
            self.run_rules()
        self.assertEqual(set(quiet.call_args.args[1]), set(self.french.ids))
        self.env.flush_all()
        self.env.cr.execute(
            """SELECT p.lead_score, p.write_date = p.lead_score_date, l.partner_lead_score
                 FROM res_partner p JOIN crm_lead l ON l.partner_id = p.id
                WHERE l.id = %s""",
            lead.ids,
        )
        self.assertEqual(self.env.cr.fetchone(), (10, True, 10))
        self.assertEqual(lead.partner_lead_score, 10)

    def test_balances_written_by_a_run_equal_a_full_replay(self):
        partner = self.french[0]
        self.add(partner, "add", 7, days_ago=3)
        self.add(partner, "set", 40, days_ago=2)
        won = self.env["crm.stage"].search([("is_won", "=", True)], limit=1)
        self.env["crm.lead"].create(
            [
                {"name": f"Won {i}", "partner_id": partner.id, "stage_id": won.id}
                for i in range(3)
            ]
        )
        self.rule(name="Add", value=5, sequence=1)
        self.rule(name="Remove", operation="remove", value=2, sequence=2)
        self.Rule.create(
            {
                "name": "Each won deal",
                "value": 11,
                "sequence": 3,
                "condition_type": "event",
                "model_id": self.env.ref("crm.model_crm_lead").id,
                "partner_field_id": self.env.ref("crm.field_crm_lead__partner_id").id,
                "domain": "[('stage_id.is_won', '=', True)]",
            }
        )
        self.run_rules()
        written = self.balances(partner)
        self.assertEqual(partner.lead_score, 40 + 5 - 2 + 33)
        self.env["lead.score.ledger"]._replay_ledger(partner.ids)
        self.assertEqual(self.balances(partner), written)

    def test_a_line_dated_after_the_run_makes_the_run_replay(self):
        partner = self.french[0]
        later = self.add(partner, "set", 1, days_ago=-2)  # dated in two days
        self.rule(value=10)
        self.run_rules()
        # Folded in date order: the later set still decides the score.
        self.assertEqual(partner.lead_score, 1)
        self.assertEqual(self.balances(partner)[-1], ("set", 1, 1))
        self.assertEqual(later.balance, 1)

    def test_rules_on_contacts_run_in_step_and_refresh_each_contact_once(self):
        """Consecutive rules on contacts go through the contacts together,
        the three lines in sequence order (a set then adds); a contact that
        the three score gets its score written once."""
        self.rule(name="Reset", operation="set", value=1, sequence=1)
        self.rule(name="Plus ten", value=10, sequence=2)
        self.rule(name="Plus five", value=5, sequence=3)
        refreshed = self.run_rules_counting_refreshes()
        self.assertEqual(set(self.french.mapped("lead_score")), {16})
        self.assertEqual(sorted(refreshed), sorted(self.french.ids))

    def test_rules_between_two_set_rules_run_in_step_whatever_their_order(self):
        """Rules on won deals between rules on contacts do not break the
        step (adds give the same score in any order), but a set rule on
        deals still comes before the rules that follow it; each contact's
        score is written once, when the run's lines are all recorded."""
        won = self.env["crm.stage"].search([("is_won", "=", True)], limit=1)
        with_deal, without = self.french[:2]
        self.env["crm.lead"].create(
            {"name": "Won", "partner_id": with_deal.id, "stage_id": won.id}
        )

        def deal_rule(**vals):
            return self.rule(
                condition_type="event",
                model_id=self.env.ref("crm.model_crm_lead").id,
                partner_field_id=self.env.ref("crm.field_crm_lead__partner_id").id,
                domain="[('stage_id.is_won', '=', True)]",
                **vals,
            )

        self.rule(name="Plus ten", value=10, sequence=1)
        deal_rule(name="Won deal", value=11, sequence=2)
        self.rule(name="Plus five", value=5, sequence=3)
        deal_rule(name="Won deal resets", operation="set", value=100, sequence=4)
        self.rule(name="Plus one", value=1, sequence=5)
        refreshed = self.run_rules_counting_refreshes()
        self.assertEqual((with_deal.lead_score, without.lead_score), (101, 16))
        # With the contacts of the database's other won deals.
        self.assertLessEqual(set(self.french.ids), set(refreshed))
        self.assertEqual(len(refreshed), len(set(refreshed)))

    def test_rules_on_the_same_records_run_in_step(self):
        """Two rules on won deals go through the deals together: a contact
        with a won deal has its score rows written once for both, not once
        per rule."""
        won = self.env["crm.stage"].search([("is_won", "=", True)], limit=1)
        partner = self.french[0]
        self.env["crm.lead"].create(
            {"name": "Won", "partner_id": partner.id, "stage_id": won.id}
        )
        for sequence, value in ((1, 11), (2, 4)):
            self.rule(
                name=f"Won deal {value}",
                value=value,
                sequence=sequence,
                condition_type="event",
                model_id=self.env.ref("crm.model_crm_lead").id,
                partner_field_id=self.env.ref("crm.field_crm_lead__partner_id").id,
                domain="[('stage_id.is_won', '=', True)]",
            )
        Value = type(self.env["lead.score.value"])
        original, written = Value._refresh, []

        def refresh(values, partner_ids, *args, **kwargs):
            written.extend(partner_ids)
            return original(values, partner_ids, *args, **kwargs)

        with patch.object(Value, "_refresh", refresh):
            self.run_rules()
        self.assertEqual(partner.lead_score, 15)
        self.assertEqual(written.count(partner.id), 1)

    def test_runs_between_full_sweeps_look_at_what_changed(self):
        rule = self.rule()
        self.run_rules()
        self.assertTrue(rule.last_full_run_date)
        newcomer = self.env["res.partner"].create(
            {
                "name": "Newcomer",
                "country_id": self.france.id,
                "category_id": [(4, self.tag.id)],
            }
        )
        # Written through the ORM: its write_date brings it into the next run.
        self.as_if_written_later(newcomer)
        self.assertEqual(self.run_rules(), {newcomer.id})
        # Changed behind the ORM's back, as an old import would: only the
        # next full sweep sees it.
        self.german.category_id = [(4, self.tag.id)]
        self.env.flush_all()
        self.env.cr.execute(
            "UPDATE res_partner SET country_id = %s, write_date = '2000-01-01' WHERE id = %s",
            [self.france.id, self.german.id],
        )
        self.german.invalidate_recordset()
        self.assertEqual(self.run_rules(), set())
        self.env["ir.config_parameter"].set_param("lead_scoring.full_sweep_hours", 0)
        self.assertEqual(self.run_rules(), {self.german.id})

    def test_editing_a_rule_makes_its_next_run_a_full_sweep(self):
        rule = self.rule(value=5)
        self.run_rules()
        rule.domain = "[('country_id', '=', %s)]" % self.env.ref("base.de").id
        self.assertFalse(rule.last_full_run_date)
        self.assertEqual(self.run_rules(), {self.german.id})

    def test_scores_written_by_a_run_are_not_changes_for_the_next(self):
        rule = self.rule()
        self.run_rules()
        now = fields.Datetime.now()
        incremental = rule._incremental_filter(now)
        self.assertTrue(incremental)
        query = self.env["res.partner"]._search([("id", "in", self.french.ids)])
        query.add_where(incremental(query.table))
        self.assertFalse(
            list(query), "the contacts this run scored would be looked at again"
        )
        self.french[0].write({"comment": "edited by a person"})
        self.as_if_written_later(self.french[0])
        query = self.env["res.partner"]._search([("id", "in", self.french.ids)])
        query.add_where(incremental(query.table))
        self.assertEqual(list(query), self.french[:1].ids)

    def test_a_contact_saved_during_a_run_stays_a_change_for_the_next(self):
        """Someone saves a contact after a run started, and the run then
        writes its score: the rules did not look at that person's change,
        so the next run must (a contact only the engine wrote need not)."""
        rule = self.rule()
        self.run_rules()
        edited, untouched = self.french[:2]
        # That run was an earlier transaction (a test is one), which saw what
        # was written until a minute ago.
        self.env.cr.execute(
            """UPDATE res_partner SET write_date = write_date - interval '1 minute',
                                      lead_score_date = write_date - interval '1 minute'
                WHERE id = ANY(%s)
            RETURNING write_date""",
            [self.french.ids],
        )
        rule.last_horizon = str(self.env.cr.fetchone()[0])
        self.french.invalidate_recordset()
        self.env.cr.execute("SELECT clock_timestamp() AT TIME ZONE 'UTC'")
        run_started = str(self.env.cr.fetchone()[0])
        edited.write({"comment": "edited by a person"})
        self.as_if_written_later(edited)
        # A rule of that run gives both a line, then their scores are written.
        ledger = self.Operation._engine().env["lead.score.ledger"]
        ledger._record_lines(
            SQL("SELECT unnest(%s::int[]) AS partner_id", (edited | untouched).ids),
            value=3,
            source="rule",
        )
        ledger._refresh_scores(
            (edited | untouched).ids, flush=True, engine_since=run_started
        )
        self.assertEqual((edited.lead_score, untouched.lead_score), (13, 13))
        incremental = rule._incremental_filter(fields.Datetime.now())
        query = self.env["res.partner"]._search([("id", "in", self.french.ids)])
        query.add_where(incremental(query.table))
        self.assertEqual(list(query), edited.ids)

    def test_only_a_tier_move_is_tracked_in_a_run(self):
        self.Tier.create({"name": "Warm", "min_score": 15})
        self.rule(value=10)
        self.run_rules()
        self.rule(name="More", value=10)
        self.rule(name="Even more", value=1)
        moved, stayed = self.french[0], self.german
        self.add(stayed, "add", 100)
        stayed.message_ids.unlink()
        self.rule(name="German", value=7, domain=f"[('id', '=', {stayed.id})]")
        messages = (moved | stayed).message_ids
        env = self.env(context={})  # tracking on
        env["lead.score.run"]._run_rules(env["lead.score.rule"].search([]))
        env.flush_all()
        self.env.cr.precommit.run()
        self.assertEqual((moved.lead_score, stayed.lead_score), (21, 107))
        logged = (moved | stayed).message_ids - messages
        self.assertEqual(logged.mapped("model"), ["res.partner"])
        self.assertEqual(logged.res_id, moved.id)
        # With the rules of the run that moved it (see test_chatter_runs).
        self.assertEqual(
            sorted(logged.tracking_value_ids.mapped("field_id.name")),
            ["lead_score", "lead_score_operation_ids", "lead_score_tier_id"],
        )

    def test_a_run_logs_tier_moves_in_sql_as_odoo_s_tracking_does(self):
        warm = self.Tier.create({"name": "Warm", "min_score": 5})
        Writer = type(self.env["lead.score.writer"])
        Message = type(self.env["mail.message"])
        env = self.env(context={})  # tracking on

        def logged_by_a_run(contact, watched):
            self.rule(name=f"{contact.id}", domain=f"[('id', '=', {contact.id})]")
            before = contact.message_ids
            with patch.object(Writer, "_lead_score_watched", return_value=watched):
                env["lead.score.run"]._run_rules(env["lead.score.rule"].search([]))
                env.flush_all()
                self.env.cr.precommit.run()
            self.assertEqual(contact.lead_score_tier_id, warm)
            return contact.message_ids - before

        def as_json(text, contact_id):
            # The run's rules (see lead.score.chatter._lead_score_run_lines), each
            # contact's rule named after it.
            if not text.startswith("[["):
                return text
            return json.dumps(
                [
                    ["its rule" if name == {"en_US": str(contact_id)} else name, *rest]
                    for name, *rest in json.loads(text)
                ]
            )

        def shown(message):
            return (
                message.model,
                message.message_type,
                message.subtype_id,
                message.author_id,
                message.email_from,
                message.reply_to,
                str(message.body),
                message.is_internal,
                sorted(
                    (t.field_id.name, t.old_value_integer, t.new_value_integer)
                    + (
                        t.old_value_char or "",
                        as_json(t.new_value_char or "", message.res_id),
                    )
                    for t in message.tracking_value_ids
                ),
            )

        # Without an automation rule on contacts, no message goes through
        # the ORM: the run writes them in SQL.
        with patch.object(Message, "create", side_effect=AssertionError("ORM")):
            in_sql = logged_by_a_run(self.french[0], watched=False)
        through_the_orm = logged_by_a_run(self.french[1], watched=True)
        self.assertEqual(len(in_sql), 1)
        self.assertEqual(shown(in_sql), shown(through_the_orm))
        self.assertEqual(
            shown(in_sql)[-1],
            [
                ("lead_score", 0, 10, "", ""),
                (
                    "lead_score_operation_ids",
                    0,
                    0,
                    "",
                    json.dumps([["its rule", "rule", 10, 1, False]]),
                ),
                ("lead_score_tier_id", 0, warm.id, "", "Warm"),
            ],
        )
        self.assertEqual(in_sql.author_id, self.env.user.partner_id)
        self.assertIn("message-notify", in_sql.message_id)
        self.assertEqual(self.french[0].message_ids[:1], in_sql)


@tagged("post_install", "-at_install")
class TestRuleForm(LeadScoringCase):
    def test_a_rule_without_condition_needs_a_confirmation(self):
        rule = Form(self.Rule.with_user(self.manager))
        rule.name = "Everyone"
        self.assertEqual(
            rule.match_count,
            self.env["res.partner"].with_user(self.manager).search_count([]),
        )
        with self.assertRaisesRegex(ValidationError, "Score every contact"):
            rule.save()
        rule.match_all = True
        self.assertTrue(rule.save().match_all)

    def test_the_form_counts_what_the_condition_matches(self):
        rule = Form(self.Rule.with_user(self.manager))
        rule.name = "Ada"
        rule.domain = f"[('id', '=', {self.partner.id})]"
        self.assertEqual(rule.match_count, 1)
        rule.domain = "[('name', '=', 'Nobody by this name')]"
        self.assertEqual(rule.match_count, 0)
        self.assertFalse(rule.save().match_all)


@tagged("post_install", "-at_install")
class TestConditionSummary(LeadScoringCase):
    def summary(self, domain, **vals):
        rule = self.Rule.create(
            {"name": "Summary", "domain": domain, "active": False, **vals}
        )
        return rule.with_user(self.manager).condition_summary

    def test_many2one_in_names_the_records(self):
        be, fr = self.env.ref("base.be"), self.env.ref("base.fr")
        self.assertEqual(
            self.summary(f"[('country_id', 'in', [{be.id}, {fr.id}])]"),
            "Country is in Belgium, France",
        )

    def test_ilike_reads_contains(self):
        self.assertEqual(
            self.summary("[('email', 'ilike', 'example.com')]"),
            'Email contains "example.com"',
        )

    def test_and_or_not_set(self):
        be = self.env.ref("base.be")
        self.assertEqual(
            self.summary(
                f"['|', ('email', '=', False), ('country_id', '=', {be.id}),"
                " ('is_company', '=', True)]"
            ),
            "(Email is not set or Country is Belgium) and Is a Company is set",
        )
        self.assertEqual(
            self.summary(
                f"['|', ('phone', '!=', False), '&', ('country_id', '=', {be.id}),"
                " ('lead_score', '>=', 50)]"
            ),
            "Phone is set or (Country is Belgium and Lead Score >= 50)",
        )

    def test_a_record_the_user_cannot_read_shows_its_id(self):
        other = self.env["res.company"].create({"name": "Elsewhere"})
        hidden = self.env["res.partner"].create(
            {"name": "Hidden Co", "is_company": True, "company_id": other.id}
        )
        self.assertEqual(
            self.summary(f"[('parent_id', 'in', [{hidden.id}])]"),
            f"Related Company is in {hidden.id}",
        )

    def test_an_event_rule_uses_the_labels_of_its_model(self):
        summary = self.summary(
            "[('stage_id', 'in', [%d])]" % self.env.ref("crm.stage_lead4").id,
            condition_type="event",
            model_id=self.env.ref("crm.model_crm_lead").id,
            partner_field_id=self.env.ref("crm.field_crm_lead__partner_id").id,
        )
        self.assertEqual(summary, "Stage is in Won")

    def test_the_rules_list_and_form_show_the_summary(self):
        views = self.Rule.with_user(self.manager).get_views(
            [(False, "list"), (False, "form")]
        )["views"]
        for view in ("list", "form"):
            self.assertIn('name="condition_summary"', views[view]["arch"])

    def test_a_broken_condition_shows_a_placeholder(self):
        rule = self.Rule.create({"name": "Broken", "domain": "[]", "active": False})
        self.env.flush_all()
        self.env.cr.execute(
            "UPDATE lead_score_rule SET domain = '[(' WHERE id = %s", [rule.id]
        )
        rule.invalidate_recordset()
        self.assertEqual(rule.condition_summary, "(condition not valid: open the rule)")
