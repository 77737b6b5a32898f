"""Attacks on the core's boundaries, made as an attacker would: through the
external API (XML-RPC) or the web client's own routes."""

import json
import xmlrpc.client
from unittest.mock import patch

from odoo import Command, fields
from odoo.tests import HttpCase, new_test_user, tagged

from ..models import lead_score_operation as operation_module
from .common import LeadScoringCase


class ApiCase(HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Operation = cls.env["lead.score.operation"]
        cls.Rule = cls.env["lead.score.rule"]
        cls.Rule.with_context(active_test=False).search([]).write({"active": False})
        cls.partner = cls.env["res.partner"].create(
            {"name": "Target", "email": "target@example.com"}
        )
        cls.user = cls.new_user("ls_sec_user", "lead_scoring.group_lead_scoring_user")
        cls.manager = cls.new_user(
            "ls_sec_manager", "lead_scoring.group_lead_scoring_manager"
        )
        cls.internal = cls.new_user("ls_sec_internal", "base.group_user")

    @classmethod
    def new_user(cls, login, groups, **vals):
        return new_test_user(
            cls.env, login, password=login, groups=f"base.group_user,{groups}", **vals
        )

    def call(self, user, model, method, *args, **kwargs):
        """A call as the external API makes it, with the user's password."""
        return self.xmlrpc_object.execute_kw(
            self.env.cr.dbname, user.id, user.login, model, method, list(args), kwargs
        )

    def assertRefused(self, user, model, method, *args, expect="", **kwargs):
        with self.assertRaises(xmlrpc.client.Fault) as error:
            self.call(user, model, method, *args, **kwargs)
        self.assertIn(expect, error.exception.faultString)
        return error.exception.faultString


@tagged("post_install", "-at_install")
class TestRuleConditionsAreData(ApiCase):
    def escalation(self, call):
        system = self.env.ref("base.group_system").id
        return f"[('id', '=', {call}({{'groups_id': [(4, {system})]}}) and 0)]"

    def assertNotAdmin(self):
        self.manager.invalidate_recordset()
        self.assertFalse(self.manager.has_group("base.group_system"))

    def test_a_condition_cannot_call_a_method_at_save(self):
        for call in ("user.write", "user.sudo().write", "env.user.write"):
            with self.subTest(call=call):
                self.assertRefused(
                    self.manager,
                    "lead.score.rule",
                    "create",
                    {"name": "Escalate", "domain": self.escalation(call)},
                    expect="A condition holds values only",
                )
                self.assertNotAdmin()

    def test_a_stored_condition_is_refused_at_run_and_others_still_run(self):
        good = self.Rule.create(
            {"name": "Everyone", "value": 5, "domain": "[]", "match_all": True}
        )
        bad = self.Rule.create({"name": "Tampered", "value": 1, "match_all": True})
        # Written behind the ORM's back, as a restored dump or SQL access would.
        self.env.cr.execute(
            "UPDATE lead_score_rule SET domain = %s, user_id = %s WHERE id = %s",
            [self.escalation("user.write"), self.manager.id, bad.id],
        )
        bad.invalidate_recordset()
        self.env["lead.score.run"]._cron_apply_rules()
        self.assertNotAdmin()
        self.assertIn("A condition holds values only", bad.last_error)
        self.assertFalse(good.last_error)
        self.assertEqual(self.partner.lead_score, 5)

    def test_values_keep_working(self):
        rule = self.Rule.create(
            {
                "name": "Mine, recent",
                "value": 3,
                "domain": "[('user_id', '=', uid), ('create_date', '>=',"
                " (context_today() - relativedelta(days=1)).strftime('%Y-%m-%d')),"
                " ('company_id', 'in', company_ids + [False])]",
            }
        )
        self.partner.user_id = self.env.user
        self.env["lead.score.run"]._run_rules(rule)
        self.assertFalse(rule.last_error)
        self.assertEqual(self.partner.lead_score, 3)

    def test_a_rule_runs_with_its_authors_rights(self):
        """A manager who cannot read a lead must not learn, through scores,
        whether its messages mention a salary."""
        lead = self.env["crm.lead"].create({"name": "Confidential"})
        lead.message_post(body="The salary is 90k", author_id=self.partner.id)
        rule_id = self.call(
            self.manager,
            "lead.score.rule",
            "create",
            {
                "name": "Probe",
                "value": 7,
                "condition_type": "event",
                "model_id": self.env.ref("mail.model_mail_message").id,
                "partner_field_id": self.env.ref(
                    "mail.field_mail_message__author_id"
                ).id,
                "domain": "[('body', 'ilike', 'salary')]",
            },
        )
        rule = self.Rule.browse(rule_id)
        self.assertEqual(rule.user_id, self.manager)
        self.env["lead.score.run"]._run_rules(rule)
        self.assertEqual(self.partner.lead_score, 0)
        self.assertFalse(rule.last_error)
        # The same condition set by someone who may read the lead scores.
        rule.with_user(self.env.ref("base.user_admin")).write({"value": 8})
        self.env["lead.score.run"]._run_rules(rule)
        self.assertEqual(self.partner.lead_score, 8)

    def test_the_author_cannot_be_chosen(self):
        admin = self.env.ref("base.user_admin")
        rule_id = self.call(
            self.manager,
            "lead.score.rule",
            "create",
            {"name": "As admin", "user_id": admin.id, "match_all": True},
        )
        self.call(self.manager, "lead.score.rule", "write", [rule_id], {"user_id": 2})
        self.assertEqual(self.Rule.browse(rule_id).user_id, self.manager)

    def test_a_run_s_record_is_the_engine_s(self):
        """Written over the API, a run's position would make the runs skip
        contacts (a cursor past the end, a last seen record far ahead)."""
        rule_id = self.call(
            self.manager,
            "lead.score.rule",
            "create",
            {"name": "Everyone", "value": 5, "match_all": True},
        )
        rule = self.Rule.browse(rule_id)
        self.env["lead.score.run"]._run_rules(rule)
        self.assertEqual(self.partner.lead_score, 5)
        now = fields.Datetime.to_string(fields.Datetime.now())
        for vals in (
            {"last_seen_id": 10**9, "last_full_run_date": now},
            {"pass_date": now, "pass_cursor": 10**9, "pass_max_id": 10**9},
            {"refresh_date": now, "refresh_cursor": 10**9},
            {"last_horizon": "9999-12-31 00:00:00", "name": "Renamed"},
        ):
            with self.subTest(vals=vals):
                self.assertRefused(
                    self.manager,
                    "lead.score.rule",
                    "write",
                    [rule_id],
                    vals,
                    expect="set by the scoring engine only",
                )
                self.assertRefused(
                    self.manager,
                    "lead.score.rule",
                    "create",
                    dict(vals, name="Skipping"),
                    expect="set by the scoring engine only",
                )
        rule.invalidate_recordset()
        self.assertEqual(rule.name, "Everyone")
        self.assertFalse(rule.pass_date or rule.refresh_date)
        newcomer = self.env["res.partner"].create({"name": "Newcomer"})
        self.env["lead.score.run"]._run_rules(rule)
        self.assertEqual(newcomer.lead_score, 5)

    def test_decay_cannot_be_made_to_catch_up_on_years(self):
        group = self.env["lead.score.group"].create(
            {
                "name": "Engagement",
                "decay": "linear",
                "decay_points": 1,
                "decay_period_days": 7,
            }
        )
        for method, args in (
            ("write", ([group.id], {"decay_since": "2000-01-01"})),
            ("create", ({"name": "Old", "decay_since": "2000-01-01"},)),
        ):
            with self.subTest(method=method):
                self.assertRefused(
                    self.manager,
                    "lead.score.group",
                    method,
                    *args,
                    expect="set by the scoring engine only",
                )
        self.assertFalse(group.decay_since)
        self.assertFalse(self.env["lead.score.group"].search([("name", "=", "Old")]))

    def test_a_former_manager_s_rule_stops(self):
        rule = self.Rule.with_user(self.manager).create(
            {"name": "Mine", "value": 2, "match_all": True}
        )
        self.manager.groups_id -= self.env.ref(
            "lead_scoring.group_lead_scoring_manager"
        )
        self.env["lead.score.run"]._run_rules(rule.sudo())
        self.assertIn("no longer a Lead Scoring manager", rule.last_error)
        self.assertEqual(self.partner.lead_score, 0)

    def test_a_global_rule_scores_only_the_authors_companies(self):
        other = self.env["res.company"].create({"name": "Company B"})
        foreign = self.env["res.partner"].create(
            {"name": "B's contact", "company_id": other.id}
        )
        rule = self.Rule.with_user(self.manager).create(
            {"name": "All", "value": 4, "match_all": True}
        )
        self.env["lead.score.run"]._run_rules(rule)
        self.assertEqual(self.partner.lead_score, 4)
        self.assertEqual(foreign.lead_score, 0)

    def test_the_database_timeout_is_kept(self):
        self.env.cr.execute("SET LOCAL statement_timeout = '123s'")
        self.env["lead.score.run"]._run_rules(
            self.Rule.create({"name": "Any", "value": 1, "match_all": True})
        )
        self.env.cr.execute("SHOW statement_timeout")
        self.assertEqual(self.env.cr.fetchone()[0], "123s")


@tagged("post_install", "-at_install")
class TestLedgerCannotBeForged(ApiCase):
    def setUp(self):
        super().setUp()
        self.line = self.Operation.create(
            {"partner_id": self.partner.id, "operation": "add", "value": 10}
        )

    def test_recorded_lines_only_change_their_note(self):
        for vals in (
            {"value": 500},
            {"balance": 500},
            {"expired": True},
            {"rule_key": "once"},
            {"user_id": self.user.id},
            {"company_id": self.env.company.id},
            {"date": fields.Datetime.to_string(fields.Datetime.now())},
        ):
            with self.subTest(vals=vals):
                self.assertRefused(
                    self.manager,
                    "lead.score.operation",
                    "write",
                    [self.line.id],
                    vals,
                    context={"lead_scoring_ledger_write": True},
                    expect="cannot be changed once recorded",
                )
        self.call(
            self.manager,
            "lead.score.operation",
            "write",
            [self.line.id],
            {"note": "ok"},
        )
        self.line.invalidate_recordset()
        self.assertEqual((self.line.value, self.line.note), (10, "ok"))
        self.assertEqual(self.partner.lead_score, 10)

    def test_a_user_cannot_record_engine_lines(self):
        rule = self.Rule.create({"name": "Everyone", "value": 5, "match_all": True})
        base = {"partner_id": self.partner.id, "operation": "add", "value": 1}
        for vals in (
            {"rule_id": rule.id, "rule_key": "once"},
            {"source": "rule"},
            {"source": "website"},
            {"res_model": "crm.lead", "res_id": 1},
            {"balance": 900},
            {"expired": True},
            {"user_id": self.manager.id},
            {"idempotency_key": "website-form:1:once"},
            {"idempotency_key": "mailing-trace:1:click"},
        ):
            with self.subTest(vals=vals):
                self.assertRefused(
                    self.user, "lead.score.operation", "create", dict(base, **vals)
                )
        # Nothing exempted the contact from the rule.
        self.env["lead.score.run"]._run_rules(rule)
        self.assertEqual(self.partner.lead_score, 15)

    def test_only_managers_date_points_later(self):
        later = fields.Datetime.to_string(
            fields.Datetime.add(fields.Datetime.now(), days=30)
        )
        vals = {"partner_id": self.partner.id, "value": 1, "date": later}
        self.assertRefused(
            self.user, "lead.score.operation", "create", vals, expect="managers"
        )
        self.call(self.manager, "lead.score.operation", "create", vals)

    def test_keys_are_each_contact_s_own(self):
        other_company = self.env["res.company"].create({"name": "Company B"})
        outsider = self.new_user(
            "ls_sec_b",
            "lead_scoring.group_lead_scoring_user",
            company_id=other_company.id,
            company_ids=[Command.set(other_company.ids)],
        )
        theirs = self.env["res.partner"].create(
            {"name": "B's", "company_id": other_company.id}
        )
        mine = self.Operation.create(
            {"partner_id": self.partner.id, "value": 3, "idempotency_key": "sync-42"}
        )
        their_line = self.call(
            outsider,
            "lead.score.operation",
            "create",
            {"partner_id": theirs.id, "value": 4, "idempotency_key": "sync-42"},
        )
        self.assertNotEqual(their_line, mine.id)
        self.assertEqual(theirs.lead_score, 4)

    def test_name_search_answers(self):
        self.line.note = "Unique-webinar-7431"
        found = self.call(self.user, "lead.score.operation", "name_search", "Target")
        self.assertIn(self.line.id, [row[0] for row in found])
        found = self.call(
            self.user, "lead.score.operation", "name_search", "Unique-webinar-7431"
        )
        self.assertEqual([row[0] for row in found], [self.line.id])

    def test_deletion_notes_show_values_to_scorers_only(self):
        self.line.note = "Secret-deal-note"
        self.call(self.manager, "lead.score.operation", "unlink", [self.line.id])
        self.assertEqual(self.partner.lead_score, 0)
        seen = {}
        for user in (self.internal, self.user):
            self.authenticate(user.login, user.login)
            seen[user] = json.dumps(
                self.make_jsonrpc_request(
                    "/mail/thread/messages",
                    {"thread_model": "res.partner", "thread_id": self.partner.id},
                )
            )
            self.assertIn("deleted by", seen[user])
        self.assertNotIn("Secret-deal-note", seen[self.internal])
        self.assertIn("Secret-deal-note", seen[self.user])


@tagged("post_install", "-at_install")
class TestBulkAdjustmentOverTheApi(ApiCase):
    """A selection of contacts adjusted in one call takes the set-based path
    (lowered here to 3 contacts): its boundaries are the ORM's."""

    def setUp(self):
        super().setUp()
        self.selection = self.env["res.partner"].create(
            [{"name": f"Selected {i}"} for i in range(3)]
        )
        bulk = patch.object(operation_module, "BULK_CONTACTS", 3)
        bulk.start()
        self.addCleanup(bulk.stop)
        self.created = self.logged()  # "Contact created"

    def adjust(self, partners, value=5, refused=False, **kwargs):
        vals_list = [
            {"partner_id": p.id, "value": value, "source": "manual", "note": "Fair"}
            for p in partners
        ]
        # The set-based path logs without the ORM's message creation.
        with patch.object(
            type(self.env["mail.message"]),
            "create",
            side_effect=AssertionError("a message created by the ORM"),
        ):
            if refused:
                return self.assertRefused(
                    self.user, "lead.score.operation", "create", vals_list, **kwargs
                )
            return self.call(
                self.user, "lead.score.operation", "create", vals_list, **kwargs
            )

    def logged(self):
        return self.env["mail.message"].search(
            [("model", "=", "res.partner"), ("res_id", "in", self.selection.ids)]
        ) - getattr(self, "created", self.env["mail.message"])

    def test_another_company_s_contact_in_the_selection_refuses_it_all(self):
        other_company = self.env["res.company"].create({"name": "Company B"})
        theirs = self.env["res.partner"].create(
            {"name": "B's", "company_id": other_company.id}
        )
        self.adjust(self.selection | theirs, refused=True)
        everyone = self.selection | theirs
        self.assertFalse(self.Operation.search([("partner_id", "in", everyone.ids)]))
        self.assertEqual(everyone.mapped("lead_score"), [0] * 4)
        self.assertFalse(self.logged())

    def test_a_bulk_adjustment_is_logged_by_its_author(self):
        self.adjust(self.selection)
        self.assertEqual(self.selection.mapped("lead_score"), [5] * 3)
        messages = self.logged()
        self.assertEqual(sorted(messages.mapped("res_id")), self.selection.ids)
        self.assertEqual(messages.author_id, self.user.partner_id)
        self.assertEqual(
            set(messages.tracking_value_ids.mapped("new_value_integer")), {5}
        )

    def test_a_caller_may_leave_the_chatter_out_not_the_ledger(self):
        self.adjust(self.selection, value=7, context={"tracking_disable": True})
        self.assertEqual(self.selection.mapped("lead_score"), [7] * 3)
        lines = self.Operation.search([("partner_id", "in", self.selection.ids)])
        self.assertEqual(lines.user_id, self.user)
        self.assertFalse(self.logged())


@tagged("post_install", "-at_install")
class TestSourceRecordName(LeadScoringCase):
    def test_source_records_are_named_to_their_readers_only(self):
        lead = self.env["crm.lead"].create({"name": "Secret merger"})
        line = self.Operation._engine().create(
            {
                "partner_id": self.partner.id,
                "value": 1,
                "source": "automation",
                "res_model": "crm.lead",
                "res_id": lead.id,
            }
        )
        self.assertEqual(line.source_record_name, "Secret merger")
        self.assertFalse(line.with_user(self.user).source_record_name)
