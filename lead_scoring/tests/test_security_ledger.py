"""Attacks on the ledger's entry points and on who may do what, made as an
attacker would: through the external API (XML-RPC)."""

from unittest.mock import patch

from odoo import Command
from odoo.tests import new_test_user, tagged

from ..models import lead_score_operation as operation_module
from .test_security import ApiCase


@tagged("post_install", "-at_install")
class TestOperationCreateTellsOutsidersNothing(ApiCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.portal = new_test_user(
            cls.env,
            "ls_sec_portal",
            password="ls_sec_portal",
            groups="base.group_portal",
        )
        cls.archived = cls.env["res.partner"].create(
            {"name": "Archived Alice", "active": False}
        )
        cls.objector = cls.env["res.partner"].create(
            {"name": "Objecting Oscar", "lead_score_objection": True}
        )

    def test_a_caller_without_the_group_learns_nothing_about_contacts(self):
        missing = self.env["res.partner"].search([], order="id desc", limit=1).id + 1000
        for user in (self.portal, self.internal):
            answers = set()
            for partner_id in (
                missing,
                self.archived.id,
                self.objector.id,
                self.partner.id,
            ):
                with self.subTest(user=user.login, partner_id=partner_id):
                    answer = self.assertRefused(
                        user,
                        "lead.score.operation",
                        "create",
                        {"partner_id": partner_id, "value": 1},
                    )
                    self.assertNotIn("Alice", answer)
                    self.assertNotIn("Oscar", answer)
                    self.assertNotIn("exist", answer)
                    self.assertNotIn("archived", answer)
                    self.assertNotIn("GDPR", answer)
                    # One answer whatever the contact.
                    answers.add(answer)
            self.assertEqual(len(answers), 1, answers)
        self.assertFalse(self.partner.lead_score_operation_ids)

    def test_another_company_s_key_is_no_answer(self):
        company_b = self.env["res.company"].create({"name": "Company B"})
        theirs = self.env["res.partner"].create(
            {"name": "B's", "company_id": company_b.id}
        )
        their_line = self.Operation.create(
            {"partner_id": theirs.id, "value": 4, "idempotency_key": "sync-b-7"}
        )
        answer = self.assertRefused(
            self.user,
            "lead.score.operation",
            "create",
            {"partner_id": theirs.id, "value": 1, "idempotency_key": "sync-b-7"},
        )
        self.assertNotIn(str(their_line.id), answer)
        self.assertEqual(
            self.Operation.search([("partner_id", "=", theirs.id)]), their_line
        )
        # Nor does a contact of theirs that was never scored answer otherwise.
        fresh = self.env["res.partner"].create(
            {"name": "B's other", "company_id": company_b.id}
        )
        other_answer = self.assertRefused(
            self.user,
            "lead.score.operation",
            "create",
            {"partner_id": fresh.id, "value": 1, "idempotency_key": "sync-b-7"},
        )
        self.assertEqual(answer, other_answer)
        # Their own key still answers with their line.
        self.assertEqual(
            self.call(
                self.user,
                "lead.score.operation",
                "create",
                {"partner_id": self.partner.id, "value": 2, "idempotency_key": "k1"},
            ),
            self.call(
                self.user,
                "lead.score.operation",
                "create",
                {"partner_id": self.partner.id, "value": 2, "idempotency_key": "k1"},
            ),
        )
        self.assertEqual(self.partner.lead_score, 2)

    def test_a_call_records_a_bounded_number_of_lines(self):
        partners = self.env["res.partner"].create(
            [{"name": f"Listed {i}"} for i in range(4)]
        )
        vals_list = [{"partner_id": p.id, "value": 1} for p in partners]
        with patch.object(operation_module, "MAX_CREATE_LINES", 3):
            self.assertRefused(
                self.user,
                "lead.score.operation",
                "create",
                vals_list,
                expect="at most 3 score operations",
            )
            self.assertFalse(
                self.Operation.search([("partner_id", "in", partners.ids)])
            )
            self.call(self.user, "lead.score.operation", "create", vals_list[:3])
        self.assertEqual(partners.mapped("lead_score"), [1, 1, 1, 0])

    def test_the_adjustment_wizard_stays_within_the_bound(self):
        from ..wizards import lead_score_adjust

        self.assertLessEqual(
            lead_score_adjust.MAX_CONTACTS, operation_module.MAX_CREATE_LINES
        )


@tagged("post_install", "-at_install")
class TestLeadCopiesAreTheEngines(ApiCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.salesman = cls.new_user(
            "ls_sec_salesman",
            "sales_team.group_sale_salesman_all_leads,"
            "lead_scoring.group_lead_scoring_user",
        )
        cls.Operation.create({"partner_id": cls.partner.id, "value": 7})
        cls.lead = cls.env["crm.lead"].create(
            {"name": "Deal", "partner_id": cls.partner.id, "type": "opportunity"}
        )

    def test_a_salesman_cannot_write_a_lead_s_score(self):
        tier = self.env["lead.score.tier"].create({"name": "Forged", "min_score": 5})
        for field, value in (
            ("partner_lead_score", 1_000_000),
            ("partner_company_score", 1_000_000),
            ("partner_lead_score_grade", "A1"),
            ("partner_lead_score_tier_id", tier.id),
        ):
            with self.subTest(field=field):
                for context in ({}, {"lead_scoring_lead_edit": True}):
                    self.assertRefused(
                        self.salesman,
                        "crm.lead",
                        "write",
                        [self.lead.id],
                        {field: value, "description": "x"},
                        context=context,
                        expect="cannot be written",
                    )
                    self.assertRefused(
                        self.salesman,
                        "crm.lead",
                        "create",
                        {"name": "Forged", "partner_id": self.partner.id, field: value},
                        context=context,
                        expect="cannot be written",
                    )
        self.lead.invalidate_recordset()
        self.assertEqual(self.lead.partner_lead_score, 7)
        self.assertFalse(self.env["crm.lead"].search([("name", "=", "Forged")]))

    def test_nor_through_defaults(self):
        # A new lead's copies are computed from its contact, defaults or not.
        lead_id = self.call(
            self.salesman,
            "crm.lead",
            "create",
            {"name": "Defaulted", "partner_id": self.partner.id},
            context={"default_partner_lead_score": 1_000_000},
        )
        self.assertEqual(self.env["crm.lead"].browse(lead_id).partner_lead_score, 7)
        top = self.call(
            self.salesman,
            "crm.lead",
            "search",
            [("partner_lead_score", ">", 100)],
        )
        self.assertNotIn(lead_id, top)

    def test_leads_still_follow_their_contact(self):
        other = self.env["res.partner"].create({"name": "Other"})
        self.Operation.create({"partner_id": other.id, "value": 30})
        lead_id = self.call(
            self.salesman,
            "crm.lead",
            "create",
            {"name": "New", "partner_id": self.partner.id},
        )
        lead = self.env["crm.lead"].browse(lead_id)
        self.assertEqual(lead.partner_lead_score, 7)
        self.call(
            self.salesman, "crm.lead", "write", [lead_id], {"partner_id": other.id}
        )
        lead.invalidate_recordset()
        self.assertEqual(lead.partner_lead_score, 30)
        self.Operation.create({"partner_id": other.id, "value": 5})
        lead.invalidate_recordset()
        self.assertEqual(lead.partner_lead_score, 35)


@tagged("post_install", "-at_install")
class TestDeletedAuthorsRuleStops(ApiCase):
    def test_a_rule_whose_author_was_deleted_stops_and_others_run(self):
        author = self.new_user(
            "ls_sec_leaving", "lead_scoring.group_lead_scoring_manager"
        )
        orphan_id = self.call(
            author,
            "lead.score.rule",
            "create",
            {"name": "Orphan", "value": 50, "match_all": True},
        )
        other = self.Rule.create({"name": "Kept", "value": 3, "match_all": True})
        orphan = self.Rule.browse(orphan_id)
        # A first scheduled run makes the scheduler its last writer.
        self.env["lead.score.run"]._cron_apply_rules()
        self.assertEqual(self.partner.lead_score, 53)
        author.unlink()
        orphan.invalidate_recordset()
        self.assertFalse(orphan.user_id)
        newcomer = self.env["res.partner"].create({"name": "Newcomer"})
        self.env["lead.score.run"]._cron_apply_rules()
        orphan.invalidate_recordset()
        self.assertIn("was deleted", orphan.last_error)
        self.assertFalse(other.last_error)
        self.assertEqual(newcomer.lead_score, 3)
        self.assertFalse(
            self.Operation.search(
                [("rule_id", "=", orphan.id), ("partner_id", "=", newcomer.id)]
            )
        )


@tagged("post_install", "-at_install")
class TestWizardsAreTheirAuthors(ApiCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        sales = "sales_team.group_sale_salesman_all_leads,"
        cls.analyst = cls.new_user(
            "ls_sec_analyst", sales + "lead_scoring.group_lead_scoring_user"
        )
        cls.colleague = cls.new_user(
            "ls_sec_colleague", sales + "lead_scoring.group_lead_scoring_user"
        )
        cls.Operation.create({"partner_id": cls.partner.id, "value": 60})
        cls.env["crm.lead"].create(
            {
                "name": "Won deal",
                "type": "opportunity",
                "partner_id": cls.partner.id,
                "probability": 100,
                "expected_revenue": 123456,
            }
        )
        cls.other_manager = cls.new_user(
            "ls_sec_manager2", "lead_scoring.group_lead_scoring_manager"
        )

    def test_a_quality_report_is_its_author_s(self):
        report_id = self.call(self.analyst, "lead.score.quality", "create", {})
        self.call(self.analyst, "lead.score.quality", "action_compute", [report_id])
        line_ids = self.call(
            self.analyst,
            "lead.score.quality.line",
            "search",
            [("report_id", "=", report_id)],
        )
        for intruder in (self.colleague, self.manager):
            with self.subTest(intruder=intruder.login):
                self.assertRefused(
                    intruder, "lead.score.quality", "read", [report_id], ["won_count"]
                )
                self.assertRefused(
                    intruder,
                    "lead.score.quality",
                    "write",
                    [report_id],
                    {"band_width": 1},
                )
                self.assertRefused(
                    intruder, "lead.score.quality", "unlink", [report_id]
                )
                self.assertRefused(
                    intruder, "lead.score.quality", "action_compute", [report_id]
                )
                self.assertFalse(
                    self.call(
                        intruder,
                        "lead.score.quality",
                        "search",
                        [("id", "=", report_id)],
                    )
                )
                self.assertFalse(
                    self.call(
                        intruder,
                        "lead.score.quality.line",
                        "search_read",
                        [("report_id", "=", report_id)],
                        ["expected_revenue"],
                    )
                )
                self.assertRefused(
                    intruder,
                    "lead.score.quality.line",
                    "read",
                    line_ids,
                    ["expected_revenue"],
                )
        self.assertTrue(line_ids)
        self.assertGreater(
            self.call(
                self.analyst, "lead.score.quality", "read", [report_id], ["won_count"]
            )[0]["won_count"],
            0,
        )

    def test_an_adjustment_is_its_author_s(self):
        wizard_id = self.call(
            self.user,
            "lead.score.adjust",
            "create",
            {
                "partner_ids": [(6, 0, self.partner.ids)],
                "value": 5,
                "note": "Mine",
            },
        )
        for intruder in (self.colleague, self.manager):
            with self.subTest(intruder=intruder.login):
                self.assertRefused(
                    intruder, "lead.score.adjust", "read", [wizard_id], ["partner_ids"]
                )
                self.assertRefused(
                    intruder,
                    "lead.score.adjust",
                    "write",
                    [wizard_id],
                    {"value": 1_000_000, "note": "Hijacked"},
                )
                self.assertRefused(
                    intruder, "lead.score.adjust", "action_apply", [wizard_id]
                )
        self.assertEqual(self.partner.lead_score, 60)
        self.call(self.user, "lead.score.adjust", "action_apply", [wizard_id])
        self.assertEqual(self.partner.lead_score, 65)
        self.assertEqual(self.partner.lead_score_operation_ids[0].note, "Mine")

    def test_an_erasure_is_its_author_s(self):
        self.Operation.create({"partner_id": self.partner.id, "value": 5})
        wizard_id = self.call(
            self.manager,
            "lead.score.erase",
            "create",
            {"partner_ids": [(6, 0, self.partner.ids)]},
        )
        self.assertRefused(
            self.other_manager, "lead.score.erase", "read", [wizard_id], ["partner_ids"]
        )
        self.assertRefused(
            self.other_manager,
            "lead.score.erase",
            "write",
            [wizard_id],
            {"confirm": True},
        )
        self.assertRefused(
            self.other_manager, "lead.score.erase", "action_erase", [wizard_id]
        )
        self.assertEqual(self.partner.lead_score, 65)


@tagged("post_install", "-at_install")
class TestWithdrawingAnObjection(ApiCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Operation.create({"partner_id": cls.partner.id, "value": 9})
        cls.editor = cls.new_user(
            "ls_sec_editor",
            "base.group_partner_manager,lead_scoring.group_lead_scoring_user",
        )

    def setUp(self):
        super().setUp()
        self.call(
            self.user, "res.partner", "action_lead_score_object", [self.partner.id]
        )
        self.assertEqual(self.partner.lead_score, 0)

    def test_only_a_manager_withdraws_it(self):
        for user in (self.user, self.editor):
            with self.subTest(user=user.login):
                self.assertRefused(
                    user,
                    "res.partner",
                    "action_lead_score_withdraw_objection",
                    [self.partner.id],
                    expect="Only Lead Scoring managers",
                )
        self.assertRefused(
            self.editor,
            "res.partner",
            "write",
            [self.partner.id],
            {"lead_score_objection": False},
            expect="Only Lead Scoring managers",
        )
        self.partner.invalidate_recordset()
        self.assertTrue(self.partner.lead_score_objection)
        self.assertEqual(self.partner.lead_score, 0)

    def test_a_withdrawal_is_logged_with_its_author(self):
        self.call(
            self.manager,
            "res.partner",
            "action_lead_score_withdraw_objection",
            [self.partner.id],
            context={"tracking_disable": True, "mail_notrack": True},
        )
        self.partner.invalidate_recordset()
        self.assertFalse(self.partner.lead_score_objection)
        self.assertEqual(self.partner.lead_score, 9)
        message = self.partner.message_ids.filtered(
            lambda m: "Objection to scoring withdrawn" in (m.body or "")
        )
        self.assertEqual(len(message), 1)
        self.assertIn(self.manager.name, message.body)
        self.assertEqual(message.author_id, self.manager.partner_id)


@tagged("post_install", "-at_install")
class TestGroupsAndTiersAreShared(ApiCase):
    """Score groups and tiers count for every company: a manager of company A
    reads them, but cannot change (or break) company B's scoring through
    them."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company_a = cls.env.company
        cls.company_b = cls.env["res.company"].create({"name": "Company B"})
        cls.manager_a = cls.new_user(
            "ls_sec_manager_a",
            "lead_scoring.group_lead_scoring_manager",
            company_id=cls.company_a.id,
            company_ids=[Command.set(cls.company_a.ids)],
        )
        cls.manager_ab = cls.new_user(
            "ls_sec_manager_ab",
            "lead_scoring.group_lead_scoring_manager",
            company_id=cls.company_a.id,
            company_ids=[Command.set((cls.company_a | cls.company_b).ids)],
        )
        cls.group = cls.env["lead.score.group"].create({"name": "Fit"})
        cls.tier = cls.env["lead.score.tier"].create(
            {"name": "Warm", "min_score": 10, "group_id": cls.group.id}
        )
        cls.b_contact = cls.env["res.partner"].create(
            {"name": "B's contact", "company_id": cls.company_b.id}
        )
        cls.Operation.create(
            {"partner_id": cls.b_contact.id, "value": 40, "group_id": cls.group.id}
        )

    def test_a_company_a_manager_reads_but_cannot_change_them(self):
        self.assertTrue(
            self.call(
                self.manager_a, "lead.score.group", "read", [self.group.id], ["name"]
            )
        )
        self.assertTrue(
            self.call(
                self.manager_a, "lead.score.tier", "read", [self.tier.id], ["name"]
            )
        )
        expect = "shared by every company"
        for model, method, args in (
            (
                "lead.score.group",
                "write",
                ([self.group.id], {"use_cap": True, "score_max": 1}),
            ),
            ("lead.score.group", "write", ([self.group.id], {"active": False})),
            ("lead.score.group", "unlink", ([self.group.id],)),
            ("lead.score.group", "create", ({"name": "Mine"},)),
            ("lead.score.tier", "write", ([self.tier.id], {"min_score": 1000})),
            ("lead.score.tier", "unlink", ([self.tier.id],)),
            ("lead.score.tier", "create", ({"name": "Hot", "min_score": 30},)),
        ):
            with self.subTest(model=model, method=method, args=args):
                self.assertRefused(self.manager_a, model, method, *args, expect=expect)
        self.group.invalidate_recordset()
        self.assertTrue(self.group.active)
        self.assertFalse(self.group.use_cap)
        self.assertEqual(self.tier.min_score, 10)
        self.assertEqual(self.b_contact.lead_score, 40)

    def test_a_manager_of_every_company_changes_them(self):
        self.call(
            self.manager_ab,
            "lead.score.group",
            "write",
            [self.group.id],
            {"use_cap": True, "score_max": 30},
        )
        self.call(
            self.manager_ab,
            "lead.score.tier",
            "write",
            [self.tier.id],
            {"min_score": 20},
        )
        self.b_contact.invalidate_recordset()
        self.assertEqual(self.b_contact.lead_score, 30)
        self.assertEqual(self.tier.min_score, 20)
