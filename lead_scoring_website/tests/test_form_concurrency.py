# Copyright 2026 Lead Scoring contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import threading
import time

from odoo import SUPERUSER_ID, api
from odoo.service.model import retrying
from odoo.sql_db import db_connect
from odoo.tests import tagged
from odoo.tests.common import BaseCase, get_db_name
from odoo.tools import mute_logger

EMAIL = "race.condition@example.com"


@tagged("post_install", "-at_install")
class TestSimultaneousSubmissions(BaseCase):
    """Two submissions with the same new email, each in its own transaction
    on its own database connection, as two HTTP workers would run them."""

    def setUp(self):
        super().setUp()
        self.addCleanup(self._delete_contacts)
        self._delete_contacts()

    def cursor(self):
        return db_connect(get_db_name()).cursor()

    def _delete_contacts(self):
        with self.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            env["res.partner"].with_context(active_test=False).search(
                [("email", "=ilike", EMAIL)]
            ).unlink()
            env["lead.score.form.email"].search([]).unlink()

    def find_or_create(self, env):
        """The contact of a lead form submitted with EMAIL, as the controller
        looks it up."""
        website = env["website"].search([], limit=1, order="id")
        setting = env["lead.score.form.setting"].new(
            {
                "name": "Race",
                "website_id": website.id,
                "model_id": env["ir.model"]._get("crm.lead").id,
            }
        )
        lead = env["crm.lead"].new({"name": "Race"})
        submitted = {"email_from": EMAIL, "contact_name": "Racer"}
        partner, __ = setting._find_or_create_partner(lead, submitted, None)
        env.flush_all()
        return partner.id

    def count_contacts(self):
        with self.cursor() as cr:
            cr.execute(
                "SELECT count(*) FROM res_partner WHERE email_normalized = %s", [EMAIL]
            )
            return cr.fetchone()[0]

    def a_transaction_waits(self):
        with self.cursor() as cr:
            cr.execute(
                "SELECT count(*) FROM pg_stat_activity"
                " WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
            return cr.fetchone()[0] > 0

    def test_same_new_email_at_once_makes_one_contact(self):
        results, errors = {}, []
        first_created, second_done = threading.Event(), threading.Event()

        def first():
            try:
                with self.cursor() as cr:
                    env = api.Environment(cr, SUPERUSER_ID, {})
                    results["first"] = self.find_or_create(env)
                    first_created.set()
                    # Keep this transaction open while the second one runs,
                    # until it waits for this one (or has finished).
                    deadline = time.monotonic() + 20
                    while not second_done.is_set() and time.monotonic() < deadline:
                        if self.a_transaction_waits():
                            break
                        time.sleep(0.05)
                    results["second_waited"] = not second_done.is_set()
            except Exception as error:  # noqa: BLE001 - reported by the test
                errors.append(error)
            finally:
                first_created.set()

        def second():
            try:
                first_created.wait(20)
                with self.cursor() as cr:
                    env = api.Environment(cr, SUPERUSER_ID, {})
                    # As Odoo serves a request: a concurrency error is retried.
                    with mute_logger("odoo.service.model"):
                        results["second"] = retrying(
                            lambda: self.find_or_create(env), env
                        )
            except Exception as error:  # noqa: BLE001 - reported by the test
                errors.append(error)
            finally:
                second_done.set()

        threads = [threading.Thread(target=first), threading.Thread(target=second)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        self.assertFalse(errors)
        self.assertEqual(self.count_contacts(), 1)
        self.assertEqual(results["first"], results["second"])
        self.assertTrue(results["second_waited"], "the second one waited")

    def test_contact_committed_after_a_submission_began_is_found(self):
        # The second submission's transaction began (it sees the database as
        # it was then) before the first one created the contact and committed.
        with self.cursor() as second_cr:
            second_cr.execute("SELECT count(*) FROM res_partner")
            with self.cursor() as first_cr:
                first_id = self.find_or_create(
                    api.Environment(first_cr, SUPERUSER_ID, {})
                )
            env = api.Environment(second_cr, SUPERUSER_ID, {})
            with mute_logger("odoo.service.model"):
                second_id = retrying(lambda: self.find_or_create(env), env)
        self.assertEqual(self.count_contacts(), 1)
        self.assertEqual(first_id, second_id)
