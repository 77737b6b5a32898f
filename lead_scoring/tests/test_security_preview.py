"""Attacks on a rule's preview, count and summary, on the condition's
evaluation, on the erase wizard's count and on the reads of the score views:
made as an attacker would, through the external API where it can be."""

import importlib
import time
from unittest.mock import patch

from odoo.exceptions import UserError
from odoo.tests import tagged
from odoo.tools import SQL

from .. import condition
from ..wizards import lead_score_quality as quality_module
from .common import LeadScoringCase
from .test_security import ApiCase

PREVIEW_SPEC = {
    "match_count": {},
    "preview_contacts": {},
    "preview_points": {},
    "preview_tier_moves": {},
    "condition_summary": {},
}


class PreviewCase(ApiCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.admin = cls.env.ref("base.user_admin")
        cls.Operation.create(
            {"partner_id": cls.partner.id, "operation": "set", "value": 737}
        )
        cls.other_company = cls.env["res.company"].create({"name": "Company B"})
        cls.foreign = cls.env["res.partner"].create(
            {"name": "B's contact", "company_id": cls.other_company.id}
        )
        cls.Operation.create(
            {"partner_id": cls.foreign.id, "operation": "set", "value": 500}
        )

    def onchange(self, user, model, values, spec, changed=()):
        return self.call(user, model, "onchange", [], values, list(changed), spec)[
            "value"
        ]

    def preview(self, user, domain, spec=None, changed=(), **values):
        vals = {
            "name": "x",
            "condition_type": "contact",
            "operation": "set",
            "value": 0,
            "domain": domain,
            **values,
        }
        return self.onchange(
            user, "lead.score.rule", vals, spec or PREVIEW_SPEC, changed
        )


@tagged("post_install", "-at_install")
class TestRulePreviewIsForManagers(PreviewCase):
    def test_a_non_manager_learns_no_score_from_a_preview(self):
        """The reported attack: a plain employee names an admin as the new
        rule's author and reads a contact's score in its preview."""
        domain = f"[('id', '=', {self.partner.id})]"
        # No tier: the preview's tier moves read no tier either.
        self.env["lead.score.tier"].search([]).unlink()
        spec = {"preview_points": {}, "preview_contacts": {}, "match_count": {}}
        for user in (self.internal, self.user):
            with self.subTest(user=user.login):
                value = self.preview(user, domain, spec, user_id=self.admin.id)
                self.assertEqual(value["preview_points"], 0)
                value = self.preview(user, domain, user_id=self.admin.id)
                self.assertEqual(value["preview_points"], 0)
                self.assertEqual(value["preview_contacts"], 0)
                self.assertEqual(value["match_count"], 0)
                self.assertFalse(value["preview_tier_moves"])
                self.assertFalse(value["condition_summary"])
        # What a manager sees.
        value = self.preview(self.manager, domain, user_id=self.admin.id)
        self.assertEqual(value["preview_points"], -737)
        self.assertEqual(value["match_count"], 1)
        self.assertTrue(value["condition_summary"])

    def test_a_non_manager_s_condition_is_not_even_evaluated(self):
        get_domain, evaluated = type(self.Rule)._get_domain, []

        def spy(rule, *args, **kwargs):
            evaluated.append(rule.domain)
            return get_domain(rule, *args, **kwargs)

        with patch.object(type(self.Rule), "_get_domain", spy):
            value = self.preview(self.internal, "[('id', '=', 1)]")
        self.assertEqual(value["match_count"], 0)
        self.assertFalse(evaluated)

    def test_the_author_of_a_new_rule_is_whoever_edits_it(self):
        """uid in the condition is the editor, never a user_id sent along."""
        self.partner.user_id = self.admin
        domain = f"[('id', '=', {self.partner.id}), ('user_id', '=', uid)]"
        value = self.preview(self.manager, domain, user_id=self.admin.id)
        self.assertEqual(value["match_count"], 0)
        self.assertEqual(value["preview_contacts"], 0)
        value = self.preview(self.admin, domain, user_id=self.manager.id)
        self.assertEqual(value["match_count"], 1)
        # Neither can a creation name another author.
        rule_id = self.call(
            self.manager,
            "lead.score.rule",
            "create",
            {"name": "Mine", "domain": domain, "user_id": self.admin.id},
        )
        self.assertEqual(self.Rule.browse(rule_id).user_id, self.manager)

    def test_a_preview_counts_only_the_contacts_the_user_may_read(self):
        self.manager.groups_id |= self.env.ref(
            "sales_team.group_sale_salesman_all_leads"
        )
        lead = self.env["crm.lead"].create({"name": "Shared lead"})
        self.env.flush_all()
        # Whatever the ORM's company checks, a record may point to a contact
        # of another company (a restored dump, SQL, a module).
        self.env.cr.execute(
            "UPDATE crm_lead SET partner_id = %s, company_id = NULL WHERE id = %s",
            [self.foreign.id, lead.id],
        )
        lead.invalidate_recordset()
        values = {
            "condition_type": "event",
            "model_id": self.env.ref("crm.model_crm_lead").id,
            "partner_field_id": self.env.ref("crm.field_crm_lead__partner_id").id,
        }
        domain = f"[('id', '=', {lead.id})]"
        for user in (self.admin, self.manager):
            with self.subTest(user=user.login):
                # As the form has it: its author by default, the editor.
                draft = (
                    self.env["lead.score.rule"]
                    .with_user(user)
                    .with_context(allowed_company_ids=self.env.company.ids)
                    .new(dict(values, name="x", domain=domain, user_id=user.id))
                )
                self.assertEqual(draft.match_count, 1)
                self.assertEqual(draft.preview_contacts, 0)
                self.assertEqual(draft.preview_points, 0)
        value = self.preview(self.manager, f"[('id', '=', {self.foreign.id})]")
        self.assertEqual(value["match_count"], 0)
        self.assertEqual(value["preview_contacts"], 0)

    def test_whose_tier_changes_is_for_managers_and_readable_contacts(self):
        self.Rule.search([]).unlink()
        tier = self.env["lead.score.tier"].create(
            {"name": "Preview hot", "min_score": 1000}
        )
        rule = self.Rule.create(
            {
                "name": "Both",
                "value": 1000,
                "domain": f"[('id', 'in', {[self.partner.id, self.foreign.id]})]",
            }
        )
        self.assertTrue(tier)
        self.assertRefused(
            self.user,
            "lead.score.rule",
            "action_preview_contacts",
            [rule.id],
            expect="Only Lead Scoring managers",
        )
        action = self.call(
            self.manager, "lead.score.rule", "action_preview_contacts", [rule.id]
        )
        self.assertEqual(action["domain"], [["id", "in", [self.partner.id]]])


@tagged("post_install", "-at_install")
class TestBoundedCondition(PreviewCase):
    def test_a_huge_power_is_refused_at_save_at_once(self):
        started = time.monotonic()
        for domain in ("[('id', '=', 9**9**7)]", "[('id', '=', 1 << 10**7)]"):
            with self.subTest(domain=domain):
                self.assertRefused(
                    self.manager,
                    "lead.score.rule",
                    "create",
                    {"name": "Huge", "domain": domain},
                    expect="a condition may not use",
                )
        self.assertLess(time.monotonic() - started, 5)

    def test_a_huge_condition_previews_a_warning_at_once(self):
        started = time.monotonic()
        value = self.preview(
            self.manager,
            "[('name', '=', 'x' * 50000000)]",
            spec=dict(PREVIEW_SPEC, preview_warning={}),
        )
        self.assertIn("too large a value", value["preview_warning"])
        self.assertEqual(value["match_count"], 0)
        value = self.preview(
            self.manager,
            "[('id', '=', 9**9**7)]",
            spec=dict(PREVIEW_SPEC, preview_warning={}),
        )
        self.assertIn("**", value["preview_warning"])
        self.assertLess(time.monotonic() - started, 5)

    def test_a_stored_huge_condition_fails_its_run_only(self):
        good = self.Rule.create({"name": "Everyone", "value": 5, "match_all": True})
        bad = self.Rule.create({"name": "Tampered", "value": 1, "match_all": True})
        self.env.cr.execute(
            "UPDATE lead_score_rule SET domain = %s WHERE id = %s",
            ["[('name', '=', 'x' * 50000000)]", bad.id],
        )
        bad.invalidate_recordset()
        self.env["lead.score.run"]._cron_apply_rules()
        self.assertIn("too large a value", bad.last_error)
        self.assertFalse(good.last_error)
        self.assertEqual(self.partner.lead_score, 742)

    def test_a_preview_query_has_a_timeout(self):
        self.env["ir.config_parameter"].set_param("lead_scoring.preview_timeout", "0.1")
        build_query = type(self.Rule)._build_query

        def slow(rule, *args, **kwargs):
            return SQL(
                "SELECT * FROM (%s) q WHERE (SELECT TRUE FROM pg_sleep(10))",
                build_query(rule, *args, **kwargs),
            )

        started = time.monotonic()
        with patch.object(type(self.Rule), "_build_query", slow):
            value = self.preview(
                self.manager,
                f"[('id', '=', {self.partner.id})]",
                spec=dict(PREVIEW_SPEC, preview_warning={}),
            )
        # Stopped by the timeout, long before the query's ten seconds.
        self.assertLess(time.monotonic() - started, 10)
        self.assertIn("takes too long", value["preview_warning"])
        self.assertEqual(value["preview_points"], 0)
        # The transaction goes on.
        self.assertEqual(self.partner.lead_score, 737)


@tagged("post_install", "-at_install")
class TestConditionBounds(LeadScoringCase):
    """What a condition may compute, whoever writes it."""

    def evaluate(self, domain):
        rule = self.Rule.new({"name": "x", "domain": domain})
        return rule._get_domain(author=self.manager)

    def test_operations_whose_result_could_explode_are_refused(self):
        for domain in (
            "[('id', '=', 9**9**7)]",
            "[('id', '=', 1 << 100000)]",
            "[('name', '=', 'x' * 50000000)]",
            "[('id', 'in', [0] * 3000000)]",
            "[('name', '=', '%0900000d' % 1)]",
            "[('name', '=', f'{1:>900000}')]",
            "[('name', '=', 'x'.ljust(900000))]",
            "[('id', 'in', [x for x in company_ids])]",
            "[('id', '=', sum(company_ids))]",
            "[('id', '=', time.sleep(2))]",
            "[('id', '=', " + "*".join(["9" * 1000] * 3) + ")]",
            "[('name', 'in', ['" + "x" * condition.MAX_LENGTH + "'])]",
        ):
            with self.subTest(domain=domain[:60]):
                started = time.monotonic()
                with self.assertRaisesRegex(UserError, "A condition holds values only"):
                    self.evaluate(domain)
                # Refused before it computes (computing 9**9**7 alone takes long).
                self.assertLess(time.monotonic() - started, 3)

    def test_the_vocabulary_keeps_working(self):
        domain = self.evaluate(
            "[('create_date', '>=', (context_today() - relativedelta(days=1))"
            ".strftime('%Y-%m-%d')), ('write_date', '<', datetime.datetime.combine("
            "today, datetime.time.max) + timedelta(hours=2) * 3), ('date', '>',"
            " time.strftime('%Y-01-01')), ('user_id', '=', uid),"
            " ('company_id', 'in', company_ids + [False]), ('id', 'in', [1, 2] * 3),"
            " ('ref', '=', 'R-%s' % company_id)]"
        )
        self.assertEqual(domain[-4], ("user_id", "=", self.manager.id))
        self.assertEqual(domain[-2], ("id", "in", [1, 2] * 3))
        self.assertEqual(domain[-1], ("ref", "=", f"R-{self.manager.company_id.id}"))

    def test_a_rule_cannot_be_saved_with_an_exploding_condition(self):
        with self.assertRaisesRegex(UserError, "a condition may not use \\*\\*"):
            self.Rule.with_user(self.manager).create(
                {"name": "Huge", "domain": "[('id', '=', 2**64)]"}
            )


@tagged("post_install", "-at_install")
class TestEraseCount(PreviewCase):
    SPEC = {"operation_count": {}, "partner_ids": {}}

    def count(self, user, partners):
        return self.onchange(
            user,
            "lead.score.erase",
            {"partner_ids": [(6, 0, partners.ids)]},
            self.SPEC,
        )["operation_count"]

    def test_the_count_of_a_contact_s_lines_is_for_managers(self):
        for user in (self.internal, self.user):
            with self.subTest(user=user.login):
                self.assertEqual(self.count(user, self.partner), 0)
        self.assertEqual(self.count(self.manager, self.partner), 1)

    def test_a_manager_counts_the_contacts_they_may_read(self):
        both = self.partner | self.foreign

        def count(user, companies):
            return (
                self.env["lead.score.erase"]
                .with_user(user)
                .with_context(allowed_company_ids=companies.ids)
                .new({"partner_ids": [(6, 0, both.ids)]})
                .operation_count
            )

        self.assertEqual(count(self.manager, self.env.company), 1)
        self.manager.company_ids |= self.other_company
        self.assertEqual(count(self.manager, self.env.company | self.other_company), 2)


@tagged("post_install", "-at_install")
class TestBoundedReads(ApiCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.contacts = cls.env["res.partner"].create(
            [{"name": f"Contact {i}"} for i in range(5)]
        )
        cls.Operation.create(
            [{"partner_id": contact.id, "value": 1} for contact in cls.contacts]
        )

    def setUp(self):
        super().setUp()
        # Imported here: imported with the tests, before Odoo loads the
        # registry, it would be part of it even without its models' import.
        bounded_read_module = importlib.import_module(
            "odoo.addons.lead_scoring.models.lead_score_bounded_read"
        )
        cap = patch.object(bounded_read_module, "MAX_READ_LINES", 3)
        cap.start()
        self.addCleanup(cap.stop)

    def test_an_unbounded_read_of_the_views_is_refused(self):
        domain = [["partner_id", "in", self.contacts.ids]]
        for model in ("lead.score.history", "lead.score.breakdown"):
            with self.subTest(model=model):
                self.assertRefused(
                    self.user,
                    model,
                    "search_read",
                    domain,
                    ["score" if "history" in model else "points"],
                    expect="More than 3 lines",
                )
                self.assertRefused(
                    self.user,
                    model,
                    "search_read",
                    domain,
                    [],
                    limit=1000,
                    expect="More than 3 lines",
                )
                self.assertRefused(
                    self.user,
                    model,
                    "read_group",
                    domain,
                    ["partner_id"],
                    ["partner_id"],
                    expect="More than 3 lines",
                )
                self.assertEqual(
                    len(self.call(self.user, model, "search_read", domain, limit=2)),
                    2,
                )
                page = self.call(self.user, model, "search_read", domain, offset=3)
                self.assertEqual(len(page), 2)

    def test_a_read_of_the_history_has_a_timeout(self):
        self.env["ir.config_parameter"].set_param("lead_scoring.read_timeout", "0.1")
        self.env.cr.execute("SELECT pg_get_viewdef('lead_score_history')")
        definition = self.env.cr.fetchone()[0].rstrip().rstrip(";")
        self.env.cr.execute(
            SQL(
                "CREATE OR REPLACE VIEW lead_score_history AS"
                " SELECT h.* FROM (%s) h, pg_sleep(10)",
                SQL(definition),
            )
        )
        started = time.monotonic()
        self.assertRefused(
            self.user,
            "lead.score.history",
            "search_read",
            [["partner_id", "=", self.contacts[0].id]],
            ["score"],
            limit=1,
            expect="took too long",
        )
        # Stopped by the timeout, long before the view's ten seconds.
        self.assertLess(time.monotonic() - started, 10)


@tagged("post_install", "-at_install")
class TestBoundedQualityReport(LeadScoringCase):
    def test_the_quality_report_is_bounded(self):
        report = self.env["lead.score.quality"].create({})
        self.env["ir.config_parameter"].set_param("lead_scoring.read_timeout", "0.1")
        with (
            patch.object(
                type(report),
                "_historical_rows",
                lambda wizard, *args: wizard.env.execute_query(
                    SQL("SELECT 1 FROM pg_sleep(1)")
                ),
            ),
            self.assertRaisesRegex(UserError, "took too long"),
        ):
            report.action_compute()
        # The lines' bound, now without the read timeout (the demo's
        # opportunities take longer than 0.1 s to replay).
        self.env["ir.config_parameter"].set_param("lead_scoring.read_timeout", False)
        self.env["crm.lead"].create(
            [
                {
                    "name": f"Opportunity {i}",
                    "type": "opportunity",
                    "partner_id": self.partner.id,
                    "stage_id": self.env.ref("crm.stage_lead4").id,
                }
                for i in range(2)
            ]
        )
        with (
            patch.object(quality_module, "MAX_REPORT_LINES", 1),
            self.assertRaisesRegex(UserError, "more than 1 lines"),
        ):
            report.action_compute()
