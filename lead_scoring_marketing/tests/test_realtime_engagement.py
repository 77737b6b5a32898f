# Copyright 2026 Lead Scoring contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""An email click is scored within seconds of its commit: the engagement job
is triggered once per transaction and Odoo's runner scores it. Real
transactions, as in production."""

from odoo import fields, sql_db
from odoo.tests import tagged

from odoo.addons.base.models.ir_cron import ir_cron
from odoo.addons.lead_scoring.tests.common import LiveCursorCase

from ..models.mailing_trace import ENGAGEMENT_JOB

CLICK = 3


@tagged("post_install", "-at_install")
class TestRealtimeEngagement(LiveCursorCase):
    def setUp(self):
        super().setUp()
        with self.env_cursor() as env:
            self.cron_id = env.ref(ENGAGEMENT_JOB).id
            params = env["ir.config_parameter"]
            self.old_points = {
                kind: params.get_param(f"lead_scoring_marketing.mailing_{kind}_points")
                for kind in ("open", "click")
            }
            params.set_param("lead_scoring_marketing.mailing_open_points", 0)
            params.set_param("lead_scoring_marketing.mailing_click_points", CLICK)
            self.partner_id = (
                env["res.partner"]
                .create({"name": "Clicking Ada", "email": "clicking.ada@example.com"})
                .id
            )
            self.mailing_id = (
                env["mailing.mailing"]
                .create(
                    {
                        "subject": "Realtime news",
                        "mailing_model_id": env.ref("base.model_res_partner").id,
                        "mailing_domain": "[]",
                    }
                )
                .id
            )
            self.trace_id = (
                env["mailing.trace"]
                .create(
                    {
                        "model": "res.partner",
                        "res_id": self.partner_id,
                        "email": "clicking.ada@example.com",
                        "mass_mailing_id": self.mailing_id,
                        "trace_status": "sent",
                        "sent_datetime": fields.Datetime.now(),
                    }
                )
                .id
            )
        self.clear_triggers()

    def tearDown(self):
        with self.env_cursor() as env:
            env.cr.execute(
                "DELETE FROM lead_score_operation WHERE partner_id = %s",
                [self.partner_id],
            )
            env["mailing.trace"].browse(self.trace_id).unlink()
            env["mailing.mailing"].browse(self.mailing_id).unlink()
            env["res.partner"].browse(self.partner_id).unlink()
            for kind, points in self.old_points.items():
                env["ir.config_parameter"].set_param(
                    f"lead_scoring_marketing.mailing_{kind}_points", points or False
                )
        self.clear_triggers()
        super().tearDown()

    def test_an_email_click_is_scored_by_the_triggered_job(self):
        with self.env_cursor() as env:
            # Opened, then clicked: one transaction, one trigger row.
            env["mailing.trace"].browse(self.trace_id).set_opened().set_clicked()
        self.assertEqual(self.triggers(), 1)
        db = self.registry.db_name
        with self.env_cursor() as env:
            env.cr.execute(
                "UPDATE ir_cron SET nextcall = now() AT TIME ZONE 'UTC' + interval '1 hour'"
                " WHERE id = %s",
                [self.cron_id],
            )
        with sql_db.db_connect(db).cursor() as cron_cr:
            job = ir_cron._acquire_one_job(cron_cr, self.cron_id)
            self.assertTrue(job, "no trigger made the job ready")
            self.registry["ir.cron"]._process_job(sql_db.db_connect(db), cron_cr, job)
        with self.env_cursor() as env:
            self.assertEqual(
                env["res.partner"].browse(self.partner_id).lead_score, CLICK
            )
        self.assertEqual(self.triggers(), 0)
