# Copyright 2026 Lead Scoring contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The address limit of the website forms loses nothing: only submissions
that would create a contact or add points count, and those past the limit
are held, then scored from the lead or once the address is quiet."""

import inspect
import xmlrpc.client
from datetime import timedelta
from unittest.mock import patch

from odoo import fields, http
from odoo.tests import Form, new_test_user, tagged
from odoo.tools.misc import hmac

from odoo.addons.base.models.ir_autovacuum import is_autovacuum

from .common import FormScoringCase
from .test_form_security import ApiMixin

IP_LIMIT_PARAM = "lead_scoring_website.max_scored_submissions_per_ip"
HELD_MESSAGE = "Scoring held: too many submissions from one address"


@tagged("post_install", "-at_install")
class TestHeldSubmissions(ApiMixin, FormScoringCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Held = cls.env["lead.score.form.held"]
        cls.salesperson = new_test_user(
            cls.env,
            "lsw_salesperson",
            password="lsw_salesperson",
            groups="base.group_user,sales_team.group_sale_salesman_all_leads",
        )
        cls.manager = new_test_user(
            cls.env,
            "lsw_manager",
            password="lsw_manager",
            groups="base.group_user,sales_team.group_sale_salesman_all_leads,"
            "lead_scoring.group_lead_scoring_manager",
        )
        cls.portal = new_test_user(
            cls.env, "lsw_portal", password="lsw_portal", groups="base.group_portal"
        )

    def setUp(self):
        super().setUp()
        self.authenticate(None, None)

    def set_limit(self, limit):
        self.env["ir.config_parameter"].set_param(IP_LIMIT_PARAM, str(limit))

    def partner(self, email):
        return self.env["res.partner"].search([("email", "=", email)])

    def submit_many(self, count, start=0):
        return [
            self.submit(email_from=f"visitor{index}@example.com")
            for index in range(start, start + count)
        ]

    def read_lead(self, user, lead, *names):
        return self.call(user, "crm.lead", "read", [lead.id], list(names))[0]

    # ------------------------------------------------------------------
    # What counts
    # ------------------------------------------------------------------
    def test_only_submissions_that_score_count(self):
        self.set_limit(3)
        # A replayed submission of a once-per-contact form, submissions
        # without an email: nothing to create or score, nothing counted.
        for __ in range(10):
            self.submit(email_from="ada@example.com")
            self.submit(email_from="")
        # The address still has two submissions that score.
        leads = self.submit_many(2)
        for lead, email in zip(
            leads, ("visitor0@example.com", "visitor1@example.com"), strict=True
        ):
            self.assertEqual(self.partner(email).lead_score, 10)
            self.assertEqual(lead.partner_id, self.partner(email))
        self.assertFalse(self.Held.search([]))
        # The replays were still linked to their contact.
        ada = self.partner("ada@example.com")
        replays = self.env["crm.lead"].search([("email_from", "=", "ada@example.com")])
        self.assertEqual(len(replays), 10)
        self.assertEqual(replays.partner_id, ada)
        self.assertEqual(ada.lead_score, 10)

    # ------------------------------------------------------------------
    # Held, then scored by a salesperson
    # ------------------------------------------------------------------
    def test_submissions_past_the_limit_are_held_not_lost(self):
        self.set_limit(2)
        leads = self.submit_many(4)
        scored, held = leads[:2], leads[2:]
        for lead in scored:
            self.assertTrue(lead.partner_id.lead_score)
        for index, lead in enumerate(held, start=2):
            self.assertTrue(lead.exists())
            self.assertFalse(lead.partner_id)
            self.assertFalse(self.partner(f"visitor{index}@example.com"))
        # The salesperson sees it on the lead and can find such leads ...
        self.assertEqual(
            [
                self.read_lead(self.salesperson, lead, "lead_score_held")
                for lead in leads
            ],
            [{"id": lead.id, "lead_score_held": lead in held} for lead in leads],
        )
        found = self.call(
            self.salesperson, "crm.lead", "search", [("lead_score_held", "=", True)]
        )
        self.assertEqual(sorted(found), sorted(lead.id for lead in held))
        form = self.call(
            self.salesperson,
            "crm.lead",
            "get_views",
            [[False, "form"]],
        )["views"]["form"]["arch"]
        self.assertIn(HELD_MESSAGE, form)
        self.assertIn("action_lead_score_release_held", form)
        # ... and managers count them.
        self.assertEqual(
            self.call(
                self.manager,
                "lead.score.form.setting",
                "read",
                [self.setting.id],
                ["held_count"],
            )[0]["held_count"],
            2,
        )
        self.assertEqual(
            self.call(self.manager, "lead.score.form.held", "search_count", []), 2
        )
        self.assertEqual(
            self.env["res.config.settings"].create({}).lead_score_form_held_count, 2
        )

        # One click scores it as the form would have: the contact is made,
        # scored and linked to the lead, once.
        lead = held[0]
        for __ in range(2):
            self.call(
                self.salesperson,
                "crm.lead",
                "action_lead_score_release_held",
                [lead.id],
            )
        self.env.invalidate_all()
        partner = self.partner("visitor2@example.com")
        self.assertEqual(lead.partner_id, partner)
        self.assertEqual(partner.lead_score, 10)
        self.assertEqual(len(self.operations(partner)), 1)
        self.assertEqual(
            (self.operations(partner).res_model, self.operations(partner).res_id),
            ("crm.lead", lead.id),
        )
        self.assertFalse(
            self.read_lead(self.salesperson, lead, "lead_score_held")["lead_score_held"]
        )
        self.assertEqual(self.setting.held_count, 1)

    def test_the_lead_form_shows_it_while_editing(self):
        self.set_limit(0)
        lead = self.submit(email_from="held@example.com")
        with Form(lead.with_user(self.salesperson)) as form:
            self.assertTrue(form.lead_score_held)
            form.description = "Called back"
        with Form(self.env["crm.lead"].with_user(self.salesperson)) as form:
            form.name = "New"
            self.assertFalse(form.lead_score_held)

    def test_only_who_may_change_the_lead_scores_it(self):
        self.set_limit(0)
        lead = self.submit(email_from="held@example.com")
        self.assertTrue(lead.lead_score_held)
        with self.assertRaises(xmlrpc.client.Fault):
            self.call(
                self.portal, "crm.lead", "action_lead_score_release_held", [lead.id]
            )
        # The held rows themselves are for managers only.
        self.assertRefused(self.salesperson, "lead.score.form.held", "search", [])
        self.assertRefused(self.portal, "lead.score.form.held", "search", [])
        lead.invalidate_recordset()
        self.assertTrue(lead.lead_score_held)
        self.assertFalse(self.partner("held@example.com"))

    def test_a_manager_scores_held_submissions_from_their_list(self):
        self.set_limit(1)
        self.submit_many(3)
        held_ids = self.call(self.manager, "lead.score.form.held", "search", [])
        self.assertEqual(len(held_ids), 2)
        self.call(self.manager, "lead.score.form.held", "action_release", held_ids)
        self.env.invalidate_all()
        self.assertEqual(
            [
                self.partner(f"visitor{index}@example.com").lead_score
                for index in range(3)
            ],
            [10, 10, 10],
        )
        self.assertFalse(self.Held.search([]))

    # ------------------------------------------------------------------
    # Scored once the address is quiet
    # ------------------------------------------------------------------
    def test_held_submissions_are_scored_once_the_address_is_quiet(self):
        self.set_limit(2)
        leads = self.submit_many(5)
        self.assertEqual(len(self.Held.search([])), 3)
        # The address is still at its limit.
        self.Held._cron_release()
        self.assertEqual(len(self.Held.search([])), 3)
        # An hour later, as many as the address may send.
        now = fields.Datetime.now()
        with patch.object(
            fields.Datetime, "now", return_value=now + timedelta(minutes=61)
        ):
            self.Held._cron_release()
            # A submission meanwhile finds the address at its limit again.
            self.submit(email_from="late@example.com")
        self.assertEqual(
            [bool(lead.partner_id) for lead in leads], [True, True, True, True, False]
        )
        self.assertEqual(len(self.Held.search([])), 2)
        with patch.object(
            fields.Datetime, "now", return_value=now + timedelta(minutes=122)
        ):
            self.Held._cron_release()
        self.assertFalse(self.Held.search([]))
        self.assertEqual(self.partner("visitor4@example.com").lead_score, 10)
        self.assertEqual(self.partner("late@example.com").lead_score, 10)
        self.assertEqual(leads[4].partner_id, self.partner("visitor4@example.com"))

    def test_held_scoring_of_an_archived_form_waits_for_a_person(self):
        self.set_limit(0)
        lead = self.submit(email_from="held@example.com")
        self.setting.active = False
        later = fields.Datetime.now() + timedelta(hours=2)
        with patch.object(fields.Datetime, "now", return_value=later):
            self.Held._cron_release()
        self.assertTrue(lead.lead_score_held)
        lead.with_user(self.salesperson).action_lead_score_release_held()
        self.assertEqual(self.partner("held@example.com").lead_score, 10)

    def test_a_held_email_form_is_scored_after_its_email_is_gone(self):
        mail_setting = self.Setting.create(
            {
                "name": "Contact us (email)",
                "website_id": self.website.id,
                "model_id": self.env["ir.model"]._get("mail.mail").id,
                "value": 7,
            }
        )
        self.set_limit(0)
        self.submit(
            "mail.mail",
            token=self.token(mail_setting, "mail.mail"),
            contact_name="",
            name="Alan Turing",
            email_from="alan@example.com",
            email_to="info@example.com",
            website_form_signature=hmac(
                self.env(su=True), "website_form_signature", "info@example.com"
            ),
        )
        held = self.Held.search([])
        mail_id = held.res_id
        self.env["mail.mail"].browse(mail_id).unlink()
        held._release()
        operation = self.operations(self.partner("alan@example.com"))
        self.assertEqual(operation.value, 7)
        self.assertEqual(
            (operation.res_model, operation.res_id), ("mail.mail", mail_id)
        )

    def test_a_deleted_lead_takes_its_held_submission_along(self):
        self.set_limit(0)
        lead = self.submit(email_from="spam@example.com")
        self.assertEqual(len(self.Held.search([])), 1)
        lead.unlink()
        self.assertFalse(self.Held.search([]))

    def test_logged_in_visitors_are_never_held(self):
        self.set_limit(0)
        new_test_user(self.env, "lsw_portal_visitor", groups="base.group_portal")
        self.authenticate("lsw_portal_visitor", "lsw_portal_visitor")
        self.submit(csrf_token=http.Request.csrf_token(self))
        self.assertFalse(self.Held.search([]))

    # ------------------------------------------------------------------
    # Housekeeping
    # ------------------------------------------------------------------
    def test_guards_are_forgotten_by_odoos_autovacuum(self):
        hits = self.env["lead.score.form.ip"]
        claims = self.env["lead.score.form.email"]
        an_hour_ago = fields.Datetime.now() - timedelta(minutes=61)
        old = hits.create({"ip_hash": "old", "date": an_hour_ago})
        old_claim = claims.create({"email_hash": "old", "date": an_hour_ago})
        recent = hits.create({"ip_hash": "recent", "date": fields.Datetime.now()})
        # Not the scoring job's business any more.
        self.env["lead.score.run"]._cron_apply_rules()
        self.assertTrue(old.exists() and old_claim.exists())
        # Odoo's autovacuum calls every method marked so (see ir.autovacuum).
        for model in (hits, claims):
            vacuums = inspect.getmembers(type(model), is_autovacuum)
            self.assertTrue(vacuums, f"{model._name} has no autovacuum")
            for __, func in vacuums:
                func(model)
        self.assertFalse(old.exists() or old_claim.exists())
        self.assertTrue(recent.exists())
