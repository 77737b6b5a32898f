import threading
import time

from odoo import api
from odoo.modules.registry import Registry
from odoo.service.model import retrying
from odoo.tests import tagged
from odoo.tests.common import BaseCase, get_db_name
from odoo.tools import mute_logger

from .common import LeadScoringCase


@tagged("post_install", "-at_install")
class TestReliability(LeadScoringCase):
    def merge(self, sources, destination):
        wizard = self.env["base.partner.merge.automatic.wizard"]
        wizard._merge((sources | destination).ids, destination, extra_checks=False)

    def test_merge_keeps_every_operation_and_counts_a_once_rule_once(self):
        rule = self.Rule.create(
            {
                "name": "Everyone named Ada",
                "value": 10,
                "domain": "[('name', 'ilike', 'Ada')]",
            }
        )
        duplicate = self.env["res.partner"].create(
            {"name": "Ada L.", "email": "ada@example.com"}
        )
        self.add(self.partner, "add", 5, days_ago=3, note="fair")
        self.add(duplicate, "add", 7, days_ago=2, note="webinar")
        self.run_rules()
        self.assertEqual((self.partner.lead_score, duplicate.lead_score), (15, 17))
        self.merge(duplicate, self.partner)
        self.assertFalse(duplicate.exists())
        history = self.partner.lead_score_operation_ids
        self.assertEqual(len(history), 4)
        neutralised = history.filtered("expired")
        self.assertEqual(len(neutralised), 1)
        self.assertIn("merged duplicate", neutralised.note)
        self.assertEqual(self.partner.lead_score, 22)
        self.assertEqual(
            len(history.filtered(lambda op: op.rule_id == rule and not op.expired)), 1
        )
        self.assertTrue(
            any(
                "Score history merged" in body
                for body in self.partner.message_ids.mapped("body")
            )
        )
        # The rule is still earned: a new run gives nothing more.
        self.assertEqual(self.run_rules(), set())
        self.assertEqual(self.partner.lead_score, 22)

    def test_deleting_a_contact_removes_its_ledger(self):
        contact = self.env["res.partner"].create({"name": "Forget me"})
        self.add(contact, "add", 3)
        operations = contact.lead_score_operation_ids
        contact.unlink()
        self.assertFalse(operations.exists())

    def test_hostile_text_is_stored_as_text(self):
        hostile = "'); DROP TABLE lead_score_operation; --"
        note = "x" * (1024 * 1024) + hostile
        operation = self.add(self.partner, "add", 1, note=note)
        rule = self.Rule.create(
            {"name": hostile, "value": 2, "domain": f"[('id', '=', {self.partner.id})]"}
        )
        self.run_rules()
        self.assertEqual(operation.note, note)
        self.assertEqual(self.partner.lead_score_operation_ids[:1].rule_name, rule.name)
        self.assertEqual(self.partner.lead_score, 3)


class TestConcurrency(BaseCase):
    """Separate transactions touching one contact at the same moment.

    Odoo's transactions are REPEATABLE READ: the ones that lose the race on the
    contact fail with a serialization error and are retried, as Odoo retries
    every request, and then see the others' operations.
    """

    def setUp(self):
        super().setUp()
        self.registry = Registry(get_db_name())
        with self.registry.cursor() as cr:
            env = api.Environment(cr, api.SUPERUSER_ID, {})
            self.partner_id = (
                env["res.partner"]
                .create({"name": "Contended", "email": "c@example.com"})
                .id
            )
            self.rule_id = (
                env["lead.score.rule"]
                .create(
                    {
                        "name": "Contended rule",
                        "value": 100,
                        "domain": f"[('id', '=', {self.partner_id})]",
                    }
                )
                .id
            )

    def tearDown(self):
        with self.registry.cursor() as cr:
            env = api.Environment(cr, api.SUPERUSER_ID, {})
            env["res.partner"].browse(self.partner_id).unlink()
            env["lead.score.rule"].browse(self.rule_id).write({"active": False})
            cr.execute("DELETE FROM lead_score_rule WHERE id = %s", [self.rule_id])
        super().tearDown()

    def _in_transaction(self, work, barrier, errors):
        try:
            with self.registry.cursor() as cr:
                env = api.Environment(cr, api.SUPERUSER_ID, {})
                barrier.wait(timeout=20)  # all three start together

                def attempt():
                    work(env)
                    env.flush_all()
                    time.sleep(0.3)  # and keep their transaction open a while

                # As Odoo runs every request: a serialization failure is retried.
                with mute_logger("odoo.sql_db", "odoo.service.model"):
                    retrying(attempt, env)
        except Exception as error:  # noqa: BLE001 - reported by the test
            errors.append(error)

    def test_manual_form_and_scheduler_at_once_agree(self):
        partner_id, rule_id = self.partner_id, self.rule_id

        def manual(env):
            env["lead.score.operation"].create(
                {
                    "partner_id": partner_id,
                    "operation": "add",
                    "value": 1,
                    "source": "manual",
                    "note": "call",
                }
            )

        def website(env):
            env["lead.score.operation"]._engine().create(
                {
                    "partner_id": partner_id,
                    "operation": "add",
                    "value": 10,
                    "source": "website",
                }
            )

        def scheduler(env):
            env["lead.score.run"]._run_rules(env["lead.score.rule"].browse(rule_id))

        barrier = threading.Barrier(3)
        errors = []
        threads = [
            threading.Thread(target=self._in_transaction, args=(work, barrier, errors))
            for work in (manual, website, scheduler)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        self.assertFalse(errors)
        with self.registry.cursor() as cr:
            cr.execute("SELECT lead_score FROM res_partner WHERE id = %s", [partner_id])
            score = cr.fetchone()[0]
            cr.execute(
                "SELECT count(*), sum(value) FROM lead_score_operation WHERE partner_id = %s",
                [partner_id],
            )
            count, total = cr.fetchone()
        self.assertEqual((count, total), (3, 111))
        self.assertEqual(score, 111)

    def test_a_second_scheduler_does_nothing_harmful(self):
        with self.registry.cursor() as first, self.registry.cursor() as second:
            env_first = api.Environment(first, api.SUPERUSER_ID, {})
            env_second = api.Environment(second, api.SUPERUSER_ID, {})
            self.assertTrue(
                env_first["lead.score.run"]._run_rules(
                    env_first["lead.score.rule"].browse(self.rule_id)
                )
            )
            self.assertIs(
                env_second["lead.score.run"]._run_rules(
                    env_second["lead.score.rule"].browse(self.rule_id)
                ),
                False,
            )
        with self.registry.cursor() as cr:
            cr.execute(
                "SELECT count(*) FROM lead_score_operation WHERE partner_id = %s",
                [self.partner_id],
            )
            self.assertEqual(cr.fetchone()[0], 1)
