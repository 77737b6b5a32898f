from odoo.tests import tagged

from .common import LeadScoringCase, load_migration

JOB = "lead_scoring.ir_cron_apply_rules"


@tagged("post_install", "-at_install")
class TestRunJob(LeadScoringCase):
    def migration(self):
        migration = load_migration("lead_scoring", "18.0.1.5.0", "post-run-job.py")
        return migration

    def test_the_rules_job_is_the_run_service_s(self):
        cron = self.env.ref(JOB)
        self.assertEqual(cron.model_id.model, "lead.score.run")
        self.rule()
        cron.method_direct_trigger()
        self.assertEqual(self.partner.lead_score, 10)

    def test_upgrade_gives_the_job_to_the_run_service(self):
        cron = self.env.ref(JOB)
        # Back to the previous version's job (its record is noupdate: the
        # update leaves it so), as someone had set it: every 10 minutes.
        cron.write(
            {
                "model_id": self.env["ir.model"]._get_id("lead.score.rule"),
                "code": "model._cron_apply_rules()",
                "interval_number": 10,
            }
        )
        self.rule()
        # As it was, the job no longer finds its method.
        with self.assertRaisesRegex(Exception, "_cron_apply_rules"):
            cron.method_direct_trigger()
        self.assertEqual(self.partner.lead_score, 0)
        self.migration().migrate(self.env.cr, "18.0.1.4.0")
        self.env.invalidate_all()
        self.assertEqual(
            (cron.model_id.model, cron.model_name, cron.code),
            ("lead.score.run", "lead.score.run", "model._cron_apply_rules()"),
        )
        self.assertEqual(cron.interval_number, 10)
        cron.method_direct_trigger()
        self.assertEqual(self.partner.lead_score, 10)

    def test_a_fresh_install_has_nothing_to_migrate(self):
        self.migration().migrate(self.env.cr, None)
        self.assertEqual(self.env.ref(JOB).model_id.model, "lead.score.run")
