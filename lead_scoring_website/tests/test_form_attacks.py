# Copyright 2026 Lead Scoring contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The attacks of issue #12, each made through HTTP as a visitor would."""

from datetime import timedelta
from unittest.mock import patch

from odoo import fields
from odoo.tests import tagged
from odoo.tools import mute_logger

from odoo.addons.lead_scoring.tests.common import load_migration
from odoo.addons.lead_scoring_website.models.lead_score_form_ip import (
    LeadScoreFormEmail,
)

from .common import FormScoringCase

IP_LIMIT_PARAM = "lead_scoring_website.max_scored_submissions_per_ip"


@tagged("post_install", "-at_install")
class TestFormAttacks(FormScoringCase):
    def setUp(self):
        super().setUp()
        self.authenticate(None, None)

    def website_lines(self, partner):
        return self.operations(partner).filtered(lambda op: not op.expired)

    # ------------------------------------------------------------------
    # Replay of a captured submission
    # ------------------------------------------------------------------
    def test_replayed_submission_scores_once(self):
        # The IP limit is not what stops this replay.
        self.env["ir.config_parameter"].set_param(IP_LIMIT_PARAM, "1000")
        for mode in ("once", "every"):
            with self.subTest(mode=mode):
                self.setting.repeat = mode
                email = f"ada.{mode}@example.com"
                leads = [self.submit(email_from=email) for __ in range(50)]
                self.assertEqual(len(set(leads)), 50, "every submission is kept")
                partner = self.env["res.partner"].search([("email", "=", email)])
                self.assertEqual(len(partner), 1)
                self.assertEqual(len(self.website_lines(partner)), 1)
                self.assertEqual(partner.lead_score, 10)

    def test_every_mode_scores_again_after_its_window(self):
        self.setting.write({"repeat": "every", "repeat_hours": 24})
        self.submit()
        partner = self.env["res.partner"].search([("email", "=", "ada@example.com")])
        later = fields.Datetime.now() + timedelta(hours=25)
        with patch.object(fields.Datetime, "now", return_value=later):
            self.submit()
            self.submit()
        self.assertEqual(len(self.website_lines(partner)), 2)
        self.assertEqual(partner.lead_score, 20)
        # The setting still finds its own lines.
        self.assertEqual(self.setting.operation_count, 2)
        self.assertEqual(
            self.Operation.search(self.setting.action_view_operations()["domain"]),
            self.website_lines(partner),
        )

    def test_every_mode_follows_the_form_s_own_period(self):
        """The period is the form's, not a day: a 2-hour form scores again 3
        hours later (not 1 hour later), a 48-hour form not 25 hours later."""
        self.env["ir.config_parameter"].set_param(IP_LIMIT_PARAM, "1000")
        start = fields.Datetime.now()
        for hours, email, submissions in (
            (2, "ada.two@example.com", [(0, 1), (1, 1), (3, 2), (4, 2), (5.5, 3)]),
            (48, "ada.two.days@example.com", [(0, 1), (25, 1), (47, 1), (49, 2)]),
        ):
            with self.subTest(hours=hours):
                self.setting.write({"repeat": "every", "repeat_hours": hours})
                for after, lines in submissions:
                    moment = start + timedelta(hours=after)
                    with patch.object(fields.Datetime, "now", return_value=moment):
                        self.submit(email_from=email)
                    partner = self.env["res.partner"].search([("email", "=", email)])
                    self.assertEqual(
                        len(self.website_lines(partner)), lines, f"{after} h later"
                    )
                partner.invalidate_recordset()
                self.assertEqual(partner.lead_score, 10 * lines)

    def test_every_mode_replay_across_a_day_boundary_scores_once(self):
        # A replay straddling midnight (UTC) must not make two "days".
        self.setting.write({"repeat": "every", "repeat_hours": 24})
        midnight = fields.Datetime.now().replace(
            hour=0, minute=0, second=0, microsecond=0
        ) + timedelta(days=1)
        for moment in (
            midnight - timedelta(minutes=1),
            midnight + timedelta(minutes=1),
            midnight + timedelta(hours=23, minutes=58),
        ):
            with patch.object(fields.Datetime, "now", return_value=moment):
                self.submit()
        partner = self.env["res.partner"].search([("email", "=", "ada@example.com")])
        self.assertEqual(len(self.website_lines(partner)), 1)
        # A full period after the line that scored, the form scores again,
        # and then not again within the next period.
        for moment in (
            midnight + timedelta(hours=23, minutes=59, seconds=1),
            midnight + timedelta(hours=24),
        ):
            with patch.object(fields.Datetime, "now", return_value=moment):
                self.submit()
        self.assertEqual(len(self.website_lines(partner)), 2)
        self.assertEqual(partner.lead_score, 20)

    def test_new_settings_score_once_per_contact(self):
        self.assertEqual(self.setting.repeat, "once")
        self.setting.repeat_hours = 1
        self.submit()
        later = fields.Datetime.now() + timedelta(days=30)
        with patch.object(fields.Datetime, "now", return_value=later):
            self.submit()
        partner = self.env["res.partner"].search([("email", "=", "ada@example.com")])
        self.assertEqual(partner.lead_score, 10)

    def test_anonymous_scoring_is_limited_per_ip(self):
        self.env["ir.config_parameter"].set_param(IP_LIMIT_PARAM, "3")
        other = self.Setting.create(
            {
                "name": "Quote request",
                "website_id": self.website.id,
                "model_id": self.lead_model.id,
                "value": 50,
            }
        )
        # Across forms: five visitors' emails from one address, two forms.
        for index in range(5):
            setting = (self.setting, other)[index % 2]
            self.submit(
                token=self.token(setting), email_from=f"visitor{index}@example.com"
            )
        leads = self.env["crm.lead"].search([("email_from", "like", "visitor%")])
        self.assertEqual(len(leads), 5, "a submission beyond the limit is kept")
        scored = self.operations().partner_id
        self.assertEqual(
            sorted(scored.mapped("email")),
            [f"visitor{index}@example.com" for index in range(3)],
        )
        # Beyond the limit nobody is created or scored.
        self.assertFalse(
            self.env["res.partner"].search([("email", "=", "visitor4@example.com")])
        )
        # Only a keyed hash of the address is stored.
        hits = self.env["lead.score.form.ip"].search([])
        self.assertTrue(hits)
        self.assertFalse(hits.filtered(lambda hit: "127.0.0.1" in hit.ip_hash))

    def test_ip_limit_rows_are_cleaned_up(self):
        hits = self.env["lead.score.form.ip"]
        claims = self.env["lead.score.form.email"]
        an_hour_ago = fields.Datetime.now() - timedelta(minutes=61)
        old = hits.create({"ip_hash": "old", "date": an_hour_ago})
        old_claim = claims.create({"email_hash": "old", "date": an_hour_ago})
        self.submit()
        # Odoo's daily autovacuum forgets them.
        hits._gc_past()
        claims._gc_past()
        self.assertFalse(old.exists() or old_claim.exists())
        self.assertEqual(len(hits.search([])), 1)
        # The contact made for the submission was claimed, under a hash.
        self.assertEqual(len(claims.search([])), 1)
        # (A hex digest may spell "ada" by chance, never an address.)
        self.assertNotIn("ada@example.com", claims.search([]).email_hash)
        self.assertRegex(claims.search([]).email_hash, "^[0-9a-f]+$")

    # ------------------------------------------------------------------
    # Malformed tokens
    # ------------------------------------------------------------------
    def test_malformed_tokens_keep_the_submission(self):
        setting_id = self.setting.id
        signature = self.token().split(":", 1)[1]
        for token in [
            "²:x",
            "1:é",
            f"{setting_id}:é",
            f"{setting_id}:{signature[:-1]}é",
            "²",
            "é",
            "١٢:abc",
            "１:abc",
            f"{setting_id}:{signature}\x00",
            f"{setting_id}:{signature}:{signature}",
            f" {setting_id}:{signature}",
            f"-{setting_id}:{signature}",
            "9" * 40 + ":abc",
            ":",
            "::",
            "x" * 5000,
        ]:
            with self.subTest(token=token):
                lead = self.submit(token=token, email_from="probe@example.com")
                self.assertTrue(lead.exists())
        self.assertFalse(self.operations())

    def test_a_submission_that_lost_the_race_is_retried_whole(self):
        # What a submission does when another one created the same contact
        # meanwhile: Odoo retries the request, which keeps one lead and
        # scores once.
        calls = []
        claim = LeadScoreFormEmail._claim

        def claim_too_late(emails, normalized):
            calls.append(normalized)
            if len(calls) == 1:
                emails.env.cr.execute(
                    "DO $$ BEGIN RAISE EXCEPTION 'too late'"
                    " USING ERRCODE = 'serialization_failure'; END $$",
                    log_exceptions=False,
                )
            return claim(emails, normalized)

        with (
            patch.object(LeadScoreFormEmail, "_claim", claim_too_late),
            mute_logger("odoo.service.model"),
        ):
            lead = self.submit(email_from="retry@example.com")
        self.assertEqual(calls, ["retry@example.com"] * 2)
        leads = self.env["crm.lead"].search([("email_from", "=", "retry@example.com")])
        self.assertEqual(leads, lead)
        self.assertEqual(self.operations().partner_id.email, "retry@example.com")
        self.assertEqual(self.operations().res_id, lead.id)

    # ------------------------------------------------------------------
    # Merged contacts
    # ------------------------------------------------------------------
    def test_merged_contact_keeps_a_once_form_once(self):
        self.setting.repeat = "once"
        self.submit(email_from="ada@example.com")
        self.submit(email_from="ada.lovelace@example.com")
        partners = self.env["res.partner"].search(
            [("email", "in", ["ada@example.com", "ada.lovelace@example.com"])],
            order="id",
        )
        self.assertEqual(partners.mapped("lead_score"), [10, 10])
        survivor, duplicate = partners
        self.env["base.partner.merge.automatic.wizard"]._merge(
            partners.ids, survivor, extra_checks=False
        )
        self.assertFalse(duplicate.exists())
        self.assertEqual(survivor.lead_score, 10, "the form counts once")
        self.submit(email_from="ada@example.com")
        self.assertEqual(len(self.website_lines(survivor)), 1)
        self.assertEqual(len(self.operations(survivor)), 2, "history is kept")
        self.assertEqual(survivor.lead_score, 10)

    # ------------------------------------------------------------------
    # Upgrade from the keys that named the contact
    # ------------------------------------------------------------------
    def test_upgrade_keeps_old_once_keys(self):
        migration = load_migration("lead_scoring_website", "18.0.1.1.0")
        self.setting.repeat = "once"
        ada, twin = self.env["res.partner"].create(
            [
                {"name": "Ada", "email": "ada@example.com"},
                {"name": "Ada twin", "email": "ada.twin@example.com"},
            ]
        )
        prefix = f"website-form:{self.setting.id}:"
        old_lines = self.Operation._engine().create(
            [
                {
                    "partner_id": partner.id,
                    "value": 10,
                    "source": "website",
                    "idempotency_key": f"{prefix}{key_id}",
                }
                # The twin's line came with a merge: it names another contact.
                for partner, key_id in ((ada, ada.id), (ada, twin.id), (twin, twin.id))
            ]
        )
        self.Operation._engine().create(
            {
                "partner_id": twin.id,
                "value": 10,
                "source": "website",
                "idempotency_key": f"{prefix}crm.lead:1",
            }
        )
        self.env.flush_all()
        migration.migrate(self.env.cr, "18.0.1.0.0")
        old_lines.invalidate_recordset()
        self.assertEqual(
            old_lines.mapped("idempotency_key"),
            [f"{prefix}once", f"{prefix}{twin.id}", f"{prefix}once"],
        )
        self.submit(email_from="ada@example.com")
        self.assertEqual(len(self.operations(ada)), 2, "ada scored before")
        self.assertEqual(self.setting.operation_count, 4)
