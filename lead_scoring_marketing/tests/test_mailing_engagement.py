# Copyright 2026 Lead Scoring contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from contextlib import contextmanager
from datetime import timedelta
from unittest.mock import patch

from odoo import fields, sql_db
from odoo.exceptions import AccessError, ValidationError
from odoo.tests import Form, HttpCase, tagged

from odoo.addons.lead_scoring.engine.control import ENGINE_LOCK
from odoo.addons.lead_scoring.tests.common import load_migration

from .common import MarketingCase

POINTS = {"open": 2, "click": 3, "reply": 5, "bounce": 7, "unsubscribe": 11}


class EngagementCase(MarketingCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        params = cls.env["ir.config_parameter"].sudo()
        for kind, points in POINTS.items():
            params.set_param(f"lead_scoring_marketing.mailing_{kind}_points", points)
        cls.Trace = cls.env["mailing.trace"]
        cls.mailing = cls.new_mailing("Spring news")
        cls.grace = cls.env["res.partner"].create(
            {"name": "Grace Hopper", "email": "grace@example.com"}
        )

    @classmethod
    def new_mailing(cls, subject, **vals):
        return cls.env["mailing.mailing"].create(
            {
                "subject": subject,
                "mailing_model_id": cls.model_partner.id,
                "mailing_domain": "[]",
                **vals,
            }
        )

    def trace(self, record, mailing=None, days_ago=1, email=None):
        return self.Trace.create(
            {
                "model": record._name,
                "res_id": record.id,
                "email": email or record.email,
                "mass_mailing_id": (mailing or self.mailing).id,
                "trace_status": "sent",
                "sent_datetime": fields.Datetime.now() - timedelta(days=days_ago),
            }
        )

    @contextmanager
    def clock(self, when):
        """This transaction's clock at when: the traces' write_date and the
        job's watermark follow it, as if the test ran then."""
        with patch.object(self.env.cr, "now", lambda: when):
            yield

    def scheduler_run(self, when, lastcall):
        """The job run by the scheduler at when, which passes its lastcall."""
        with self.clock(when):
            return self.Trace.with_context(
                lastcall=lastcall
            )._cron_lead_score_engagement()

    def watermark(self):
        return self.env["lead.score.mailing.watermark"].search([]).scored_until


@tagged("post_install", "-at_install")
class TestMailingEngagement(EngagementCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # What the database already holds (demo data) is scored beforehand.
        cls.Trace._lead_score_engagement()

    def score_engagement(self):
        """The job, run twice as the scheduler would."""
        first = self.Trace._lead_score_engagement()
        self.assertEqual(self.Trace._lead_score_engagement(), set())
        return first

    def test_engagement_counts_in_the_group_of_the_settings(self):
        engagement = self.env["lead.score.group"].create({"name": "Engagement"})
        self.env["res.config.settings"].create(
            {"lead_score_mailing_group_id": engagement.id}
        ).execute()
        # A new mailing's group; those created before keep theirs.
        self.trace(self.partner, mailing=self.new_mailing("Engaging")).set_opened()
        self.score_engagement()
        self.assertEqual(self.partner.lead_score_operation_ids.group_id, engagement)
        self.assertEqual(
            [(v.group_id, v.score) for v in self.partner.lead_score_value_ids],
            [(engagement, 2)],
        )

    def test_each_mailing_scores_in_its_own_group(self):
        Group = self.env["lead.score.group"]
        product = Group.create({"name": "Product A"})
        engagement = Group.create({"name": "Engagement"})
        self.env["res.config.settings"].create(
            {"lead_score_mailing_group_id": engagement.id}
        ).execute()
        launch = self.new_mailing("Product A launch", lead_score_group_id=product.id)
        news = self.new_mailing("Newsletter")
        self.assertEqual(news.lead_score_group_id, engagement)
        # A mailing of no group (before groups): the Settings' group.
        older = self.new_mailing("Older news", lead_score_group_id=False)
        self.trace(self.partner, mailing=launch).set_opened().set_clicked()
        self.trace(self.partner, mailing=news).set_opened()
        self.trace(self.grace, mailing=older).set_clicked()
        self.score_engagement()
        self.assertEqual(
            {
                (v.partner_id, v.group_id): v.score
                for v in (self.partner | self.grace).lead_score_value_ids
            },
            {
                (self.partner, product): 2 + 3,
                (self.partner, engagement): 2,
                (self.grace, engagement): 3,
            },
        )

    def test_open_click_and_reply_score_once_per_trace(self):
        trace = self.trace(self.partner)
        trace.set_opened()
        trace.set_clicked()
        trace.set_replied()
        self.assertEqual(self.score_engagement(), {self.partner.id})
        self.assertEqual(self.partner.lead_score, 2 + 3 + 5)
        operations = self.partner.lead_score_operation_ids
        self.assertEqual(set(operations.mapped("source")), {"mailing"})
        self.assertEqual(set(operations.mapped("res_model")), {"mailing.trace"})
        self.assertEqual(set(operations.mapped("res_id")), {trace.id})
        self.assertEqual(
            set(operations.mapped("idempotency_key")),
            {
                f"mailing-trace:mailing-{self.mailing.id}:{kind}"
                for kind in ("open", "click", "reply")
            },
        )
        self.assertIn("Spring news", operations[0].note)
        # A second click on the same trace is not a new engagement.
        trace.set_clicked()
        self.score_engagement()
        self.assertEqual(self.partner.lead_score, 10)

    def test_each_trace_scores_for_its_own_mailing(self):
        self.trace(self.partner).set_opened()
        self.trace(self.partner, mailing=self.new_mailing("Summer news")).set_opened()
        self.score_engagement()
        self.assertEqual(self.partner.lead_score, 4)

    def test_engagement_counts_once_per_contact_mailing_and_kind(self):
        first = self.trace(self.partner)
        second = self.trace(self.partner)
        first.set_bounced()
        second.set_bounced()
        first.set_opened()
        self.score_engagement()
        self.assertEqual(self.partner.lead_score, -7 + 2)
        # The other trace's engagement, in a later run, is the same one.
        second.set_opened()
        self.score_engagement()
        self.assertEqual(self.partner.lead_score, -7 + 2)
        self.assertEqual(len(self.partner.lead_score_operation_ids), 2)

    def test_lines_keyed_per_trace_still_count_for_their_mailing(self):
        """Lines recorded when the key was the trace's own."""
        first = self.trace(self.partner)
        first.set_bounced()
        self.env["lead.score.operation"]._engine().create(
            {
                "partner_id": self.partner.id,
                "operation": "remove",
                "value": 7,
                "source": "mailing",
                "res_model": "mailing.trace",
                "res_id": first.id,
                "idempotency_key": f"mailing-trace:{first.id}:bounce",
            }
        )
        self.trace(self.partner).set_bounced()
        self.score_engagement()
        self.assertEqual(self.partner.lead_score, -7)

    def test_bounce_removes_points_once(self):
        self.trace(self.partner).set_bounced()
        self.score_engagement()
        self.assertEqual(self.partner.lead_score, -7)
        self.assertEqual(self.partner.lead_score_operation_ids.operation, "remove")

    def test_unsubscription_from_a_list_removes_points_once(self):
        mailing_list = self.env["mailing.list"].create({"name": "Newsletter"})
        contact = self.env["mailing.contact"].create(
            {
                "name": "Ada",
                "email": "Ada@Example.com",
                "subscription_ids": [(0, 0, {"list_id": mailing_list.id})],
            }
        )
        mailing = self.new_mailing(
            "List news",
            mailing_model_id=self.env.ref("mass_mailing.model_mailing_list").id,
            contact_list_ids=[(4, mailing_list.id)],
        )
        trace = self.trace(contact, mailing=mailing, email="ada@example.com")
        trace.set_opened()
        mailing_list._update_subscription_from_email("ada@example.com", opt_out=True)
        self.score_engagement()
        self.assertEqual(self.partner.lead_score, 2 - 11)
        self.assertEqual(
            sorted(self.partner.lead_score_operation_ids.mapped("idempotency_key")),
            [
                f"mailing-trace:mailing-{mailing.id}:open",
                f"mailing-trace:mailing-{mailing.id}:unsubscribe",
            ],
        )

    def test_blacklisting_counts_against_the_last_mailing_only(self):
        older = self.trace(self.partner, days_ago=10)
        last = self.trace(self.partner, mailing=self.new_mailing("Last"), days_ago=2)
        self.env["mail.blacklist"]._add("ada@example.com")
        self.score_engagement()
        self.assertEqual(self.partner.lead_score, -11)
        operation = self.partner.lead_score_operation_ids
        self.assertEqual(operation.res_id, last.id)
        self.assertNotEqual(operation.res_id, older.id)

    def test_mailing_points_override_the_settings(self):
        special = self.new_mailing(
            "Launch", lead_score_custom_points=True, lead_score_open_points=20
        )
        self.trace(self.partner, mailing=special).set_opened()
        # Its own points: 0 per click scores nothing.
        self.trace(self.grace, mailing=special).set_clicked()
        # Points typed without "Own points" are not used.
        unticked = self.new_mailing("News", lead_score_click_points=30)
        self.trace(self.partner, mailing=unticked).set_clicked()
        self.score_engagement()
        self.assertEqual(self.partner.lead_score, 20 + 3)
        self.assertFalse(self.grace.lead_score_operation_ids)

    def test_mailing_shows_the_settings_points_and_starts_own_points_from_them(self):
        mailing = Form(self.new_mailing("Launch"))
        self.assertEqual(
            mailing.lead_score_settings_points,
            "open +2, click +3, reply +5, bounce -7, unsubscription -11",
        )
        mailing.lead_score_custom_points = True
        self.assertEqual(
            [mailing[f"lead_score_{kind}_points"] for kind in POINTS],
            list(POINTS.values()),
        )
        mailing.lead_score_click_points = 0
        self.assertEqual(mailing.save().lead_score_click_points, 0)

    def test_upgrade_keeps_what_each_mailing_scored(self):
        migration = load_migration("lead_scoring_marketing", "18.0.1.1.0")
        # Before: 0 meant "the Settings' points".
        special = self.new_mailing("Launch", lead_score_open_points=20)
        self.env.flush_all()
        migration.migrate(self.env.cr, "18.0.1.0.0")
        (special | self.mailing).invalidate_recordset()
        self.assertTrue(special.lead_score_custom_points)
        self.assertEqual(
            [special[f"lead_score_{kind}_points"] for kind in POINTS],
            [20, 3, 5, 7, 11],
        )
        self.assertFalse(self.mailing.lead_score_custom_points)

    def test_mailing_can_opt_out_of_scoring(self):
        ignored = self.new_mailing("Legal notice", lead_score_ignore=True)
        self.trace(self.partner, mailing=ignored).set_opened()
        self.score_engagement()
        self.assertEqual(self.partner.lead_score, 0)

    def test_zero_points_in_settings_scores_nothing(self):
        self.env["ir.config_parameter"].sudo().set_param(
            "lead_scoring_marketing.mailing_open_points", 0
        )
        self.trace(self.partner).set_opened()
        self.score_engagement()
        self.assertFalse(self.partner.lead_score_operation_ids)

    def test_trace_on_a_lead_scores_the_lead_contact(self):
        lead = self.env["crm.lead"].create(
            {
                "name": "Lead",
                "partner_id": self.grace.id,
                "email_from": "someone.else@example.com",
            }
        )
        self.trace(lead, email="someone.else@example.com").set_opened()
        self.score_engagement()
        self.assertEqual(self.grace.lead_score, 2)

    def test_unknown_or_archived_recipients_are_not_scored(self):
        contact = self.env["mailing.contact"].create(
            {"name": "Nobody", "email": "nobody@example.com"}
        )
        unknown = self.trace(contact)
        unknown.set_opened()
        self.grace.active = False
        archived = self.trace(self.grace)
        archived.set_opened()
        self.assertEqual(self.Trace._lead_score_engagement(), set())
        self.assertFalse(
            self.Operation.search(
                [
                    ("res_model", "=", "mailing.trace"),
                    ("res_id", "in", (unknown | archived).ids),
                ]
            )
        )

    def test_scheduled_action_runs_the_job(self):
        cron = self.env.ref("lead_scoring_marketing.ir_cron_score_mailing_engagement")
        self.assertEqual((cron.interval_number, cron.interval_type), (5, "minutes"))
        self.trace(self.partner).set_opened()
        cron.method_direct_trigger()
        self.assertEqual(self.partner.lead_score, 2)

    def test_failed_runs_lose_no_engagement(self):
        """Runs that fail after recording their lines roll back with them;
        the scheduler's lastcall moves on, the watermark does not."""
        # The class's first run scored at the transaction's time.
        start = self.env.cr.now()
        trace = self.trace(self.partner)
        with self.clock(start + timedelta(minutes=10)):
            trace.set_opened()
        Ledger = type(self.env["lead.score.ledger"])
        crash = RuntimeError("worker killed after the insert")
        lastcall = start
        for minutes in range(15, 125, 5):
            with self.subTest(failing_run=minutes):
                with (
                    self.assertRaises(RuntimeError),
                    patch.object(Ledger, "_refresh_scores", side_effect=crash),
                    self.env.cr.savepoint(),
                ):
                    self.scheduler_run(start + timedelta(minutes=minutes), lastcall)
                lastcall = start + timedelta(minutes=minutes)
        self.assertFalse(self.partner.lead_score_operation_ids)
        # Two hours later, a run that completes scores the open, once.
        later = start + timedelta(minutes=125)
        self.scheduler_run(later, lastcall)
        self.assertEqual(self.partner.lead_score, 2)
        self.assertEqual(self.watermark(), later)
        again = later + timedelta(minutes=5)
        self.assertEqual(self.scheduler_run(again, later), set())
        self.assertEqual(len(self.partner.lead_score_operation_ids), 1)

    def test_a_trace_committed_after_a_run_with_an_earlier_write_date_scores(self):
        """A transaction that wrote a trace before a run and committed after
        it: the run did not see the trace, whose write_date is before the
        run's watermark. The next run looks back far enough to score it."""
        start = self.env.cr.now()
        trace = self.trace(self.partner)
        run = start + timedelta(minutes=20)
        self.scheduler_run(run, start)
        self.assertEqual(self.watermark(), run)
        # Written (and dated) 10 minutes before that run, seen after it.
        with self.clock(run - timedelta(minutes=10)):
            trace.set_opened()
        self.env.flush_all()
        self.assertLess(trace.write_date, self.watermark())
        self.scheduler_run(run + timedelta(minutes=5), run)
        self.assertEqual(self.partner.lead_score, 2)
        self.assertEqual(len(self.partner.lead_score_operation_ids), 1)

    def test_job_ignores_the_schedulers_lastcall(self):
        self.trace(self.partner).set_opened()
        now = self.env.cr.now()
        self.scheduler_run(now, now + timedelta(hours=2))
        self.assertEqual(self.partner.lead_score, 2)

    def test_user_cannot_claim_an_engagement_key(self):
        """A Lead Scoring User recording a line as over RPC cannot pre-claim
        a trace's engagement (the contact would never be scored for it) nor
        pass a line for an email marketing one."""
        trace = self.trace(self.partner)
        trace.set_opened()
        operations = self.env["lead.score.operation"].with_user(self.user)
        for vals in (
            {"idempotency_key": f"mailing-trace:{trace.id}:open"},
            {"idempotency_key": f"mailing-trace:{trace.id}:unsubscribe", "value": 0},
            {"source": "mailing"},
        ):
            with self.subTest(vals=vals):
                with self.assertRaises(AccessError):
                    operations.create(
                        {"partner_id": self.partner.id, "value": 1, **vals}
                    )
        self.assertFalse(self.partner.lead_score_operation_ids)
        self.score_engagement()
        self.assertEqual(self.partner.lead_score, 2)

    def test_points_out_of_range_are_refused(self):
        with self.assertRaises(ValidationError):
            self.new_mailing("Too much", lead_score_click_points=2_000_000)
        with self.assertRaises(ValidationError):
            self.env["res.config.settings"].create(
                {"lead_score_mailing_bounce_points": -1}
            )

    def test_mailing_form_shows_the_points(self):
        arch = self.env["mailing.mailing"].get_view(
            self.env.ref("mass_mailing.view_mail_mass_mailing_form").id
        )["arch"]
        self.assertIn('name="lead_score_click_points"', arch)
        self.assertIn('name="lead_score_settings_points"', arch)
        self.assertIn('name="lead_score_ignore"', arch)
        self.assertIn('name="lead_score_group_id"', arch)

    def test_zero_points_saved_in_the_settings_stay_zero(self):
        Settings = self.env["res.config.settings"]
        Settings.create({"lead_score_mailing_click_points": 0}).execute()
        # Saving the Settings for something else keeps the 0.
        Settings.create({"lead_score_compact_days": 45}).execute()
        self.assertEqual(Settings.create({}).lead_score_mailing_click_points, 0)
        self.assertEqual(
            self.env["ir.config_parameter"]
            .sudo()
            .get_param("lead_scoring_marketing.mailing_click_points"),
            "0",
        )
        self.trace(self.partner).set_opened().set_clicked()
        self.score_engagement()
        # The click scores nothing; the open does.
        self.assertEqual(
            self.partner.lead_score_operation_ids.mapped("idempotency_key"),
            [f"mailing-trace:mailing-{self.mailing.id}:open"],
        )
        self.assertEqual(self.partner.lead_score, POINTS["open"])

    def test_points_never_saved_are_the_defaults(self):
        self.env["ir.config_parameter"].sudo().search(
            [("key", "=like", "lead_scoring_marketing.mailing_%_points")]
        ).unlink()
        defaults = {"open": 1, "click": 3, "reply": 5, "bounce": 5, "unsubscribe": 10}
        self.assertEqual(self.Trace._lead_score_default_points(), defaults)
        settings = self.env["res.config.settings"].create({})
        self.assertEqual(
            {kind: settings[f"lead_score_mailing_{kind}_points"] for kind in POINTS},
            defaults,
        )

    def test_settings_store_the_points(self):
        settings = self.env["res.config.settings"].create(
            {"lead_score_mailing_reply_points": 40}
        )
        settings.execute()
        self.assertEqual(self.Trace._lead_score_default_points()["reply"], 40)


@tagged("post_install", "-at_install")
class TestMailingEngagementEngineBusy(EngagementCase):
    """Runs skipped because the scoring engine is busy. Nothing runs the job
    before in this transaction: it would hold the engine's lock itself."""

    @contextmanager
    def engine_busy(self):
        """The engine's lock held by another transaction (this test's cursor
        would be given its own lock again)."""
        with sql_db.db_connect(self.env.cr.dbname).cursor() as other:
            other.execute("SELECT pg_try_advisory_xact_lock(%s)", [ENGINE_LOCK])
            self.assertTrue(other.fetchone()[0], "the test's transaction has the lock")
            yield

    def test_runs_skipped_while_the_engine_is_busy_lose_no_engagement(self):
        start = self.env.cr.now()
        Watermark = self.env["lead.score.mailing.watermark"]
        Watermark.search([]).unlink()
        Watermark.create({"scored_until": start})
        with self.clock(start + timedelta(minutes=10)):
            self.trace(self.partner).set_opened()
        lastcall = start
        with self.engine_busy():
            for minutes in range(15, 125, 5):
                when = start + timedelta(minutes=minutes)
                self.assertFalse(self.scheduler_run(when, lastcall))
                lastcall = when
        self.assertFalse(self.partner.lead_score_operation_ids)
        self.assertEqual(self.watermark(), start)
        # Two hours later the engine is free: the open scores, once.
        later = start + timedelta(minutes=125)
        self.scheduler_run(later, lastcall)
        self.assertEqual(self.partner.lead_score, 2)
        self.assertEqual(self.watermark(), later)
        again = later + timedelta(minutes=5)
        self.assertEqual(self.scheduler_run(again, later), set())
        self.assertEqual(len(self.partner.lead_score_operation_ids), 1)


@tagged("post_install", "-at_install")
class TestMailingEngagementHttp(HttpCase):
    """The recipient's own requests: the tracking pixel and a tracked link."""

    def test_opening_and_clicking_through_the_website_score(self):
        params = self.env["ir.config_parameter"].sudo()
        for kind, points in POINTS.items():
            params.set_param(f"lead_scoring_marketing.mailing_{kind}_points", points)
        Trace = self.env["mailing.trace"]
        Trace._lead_score_engagement()
        partner = self.env["res.partner"].create(
            {"name": "Katherine Johnson", "email": "katherine@example.com"}
        )
        mailing = self.env["mailing.mailing"].create(
            {
                "subject": "Orbit",
                "mailing_model_id": self.env.ref("base.model_res_partner").id,
                "mailing_domain": f"[('id', '=', {partner.id})]",
            }
        )
        mail_id = 987_654_321
        trace = Trace.create(
            {
                "model": "res.partner",
                "res_id": partner.id,
                "email": partner.email,
                "mass_mailing_id": mailing.id,
                "mail_mail_id_int": mail_id,
                "trace_status": "sent",
            }
        )
        token = self.env["mail.mail"]._generate_mail_recipient_token(mail_id)
        self.assertEqual(
            self.url_open(f"/mail/track/{mail_id}/{token}/blank.gif").status_code, 200
        )
        link = self.env["link.tracker"].create({"url": "https://example.com/orbit"})
        response = self.url_open(f"/r/{link.code}/m/{trace.id}", allow_redirects=False)
        self.assertEqual(response.status_code, 301)
        Trace._lead_score_engagement()
        self.assertEqual(partner.lead_score, POINTS["open"] + POINTS["click"])
