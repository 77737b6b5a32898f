"""Decay, the compaction and the configuration recompute are services of
their own, each with its scheduled job: the jobs run on them, for the people
who may start them, and an upgrade from 18.0.1.4.0 moves the jobs there."""

from odoo.tests import tagged
from odoo.tools import SQL

from odoo.addons.lead_scoring.engine.recompute import RECOMPUTE_PARAM
from odoo.addons.lead_scoring.models.res_config_settings import COMPACT_DAYS_PARAM

from .common import LeadScoringCase, load_migration
from .test_security import ApiCase

# {job: (its service, its code)}
JOBS = {
    "ir_cron_decay_scores": ("lead.score.decay", "model._cron_decay_scores()"),
    "ir_cron_compact_ledger": ("lead.score.retention", "model._cron_compact_ledger()"),
    "ir_cron_recompute_scores": (
        "lead.score.recompute",
        "model._cron_recompute_scores()",
    ),
}
# The jobs as 18.0.1.4.0 left them: on the record models.
PREVIOUS_MODELS = {
    "ir_cron_decay_scores": "lead.score.operation",
    "ir_cron_compact_ledger": "lead.score.operation",
    "ir_cron_recompute_scores": "lead.score.value",
}


@tagged("post_install", "-at_install")
class TestJobs(LeadScoringCase):
    def job(self, name):
        return self.env.ref(f"lead_scoring.{name}")

    def test_each_job_runs_on_its_service(self):
        for name, (service, code) in JOBS.items():
            with self.subTest(job=name):
                job = self.job(name)
                self.assertEqual((job.model_id.model, job.code), (service, code))
                self.assertIn(service, self.env)
                self.assertTrue(self.env[service]._abstract)

    def test_upgrade_moves_each_job_onto_its_service(self):
        migration = load_migration("lead_scoring", "18.0.1.5.0", "post-jobs.py")
        # Back to the previous version: the jobs on the record models, and a
        # recompute that its rules job was to go on with.
        for name, model in PREVIOUS_MODELS.items():
            self.job(name).write(
                {
                    "model_id": self.env["ir.model"]._get_id(model),
                    "code": JOBS[name][1],
                }
            )
        # Left so, a job would call a method its model no longer has.
        with self.assertRaisesRegex(Exception, "_cron_decay_scores"):
            self.job("ir_cron_decay_scores").method_direct_trigger()
        recompute_job = self.job("ir_cron_recompute_scores")
        Trigger = self.env["ir.cron.trigger"]
        triggers = Trigger.search([("cron_id", "=", recompute_job.id)])
        self.env["lead.score.engine"]._save_position(RECOMPUTE_PARAM, "0")
        migration.migrate(self.env.cr, "18.0.1.4.0")
        for name, (service, code) in JOBS.items():
            job = self.job(name)
            self.assertEqual((job.model_id.model, job.code), (service, code))
        self.assertTrue(Trigger.search([("cron_id", "=", recompute_job.id)]) - triggers)

        # Each job does its work where it now is, as its cron user.
        grace = self.env["res.partner"].create({"name": "Grace Hopper"})
        self.add(grace, "add", 40, days_ago=80)
        self.add(grace, "add", 2, days_ago=70)
        self.add(grace, "add", 1, days_ago=1)
        self.env["ir.config_parameter"].set_param(COMPACT_DAYS_PARAM, 30)
        self.job("ir_cron_compact_ledger").method_direct_trigger()
        self.assertEqual(
            grace.lead_score_operation_ids.sorted("date").mapped("source"),
            ["carried", "api"],
        )
        self.assertEqual(grace.lead_score, 43)

        self.add(self.partner, "add", 100, days_ago=5)
        self.env["lead.score.group"]._default_group().write(
            {"decay": "linear", "decay_points": 5, "decay_period_days": 1}
        )
        self.job("ir_cron_decay_scores").method_direct_trigger()
        self.env.invalidate_all()
        decay = self.partner.lead_score_operation_ids.filtered(
            lambda line: line.source == "decay"
        )
        self.assertEqual((decay.operation, decay.value), ("remove", 5))
        self.assertEqual(self.partner.lead_score, 95)

        # A cap set behind the ORM's back, which only a recompute applies.
        self.env.flush_all()
        self.env.cr.execute(
            "UPDATE lead_score_group SET use_cap = TRUE, score_min = 0,"
            " score_max = 20 WHERE id = %s",
            [self.env["lead.score.group"]._default_group().id],
        )
        self.env.invalidate_all()
        self.env["lead.score.engine"]._save_position(RECOMPUTE_PARAM, "0")
        recompute_job.method_direct_trigger()
        self.env.invalidate_all()
        self.assertEqual((self.partner | grace).mapped("lead_score"), [20, 20])
        self.assertIsNone(
            self.env["lead.score.engine"]._saved_position(RECOMPUTE_PARAM)
        )


@tagged("post_install", "-at_install")
class TestJobsAccess(ApiCase):
    def test_a_manager_s_change_of_configuration_still_recomputes_scores(self):
        """The recompute is a service with no access rights of its own: a
        Lead Scoring manager's change of a cap or a tier, through the
        external API, still recomputes every contact with their rights."""
        # No demo tier in the way.
        self.env["lead.score.tier"].search([]).unlink()
        self.env["lead.score.operation"].create(
            {"partner_id": self.partner.id, "value": 30}
        )
        self.assertEqual(self.partner.lead_score, 30)
        group = self.env["lead.score.group"]._default_group()
        self.call(
            self.manager,
            "lead.score.group",
            "write",
            [group.id],
            {"use_cap": True, "score_min": 0, "score_max": 25},
        )
        tier = self.call(
            self.manager,
            "lead.score.tier",
            "create",
            {"name": "Warm", "min_score": 20, "group_id": group.id},
        )
        self.env.invalidate_all()
        self.assertEqual(self.partner.lead_score, 25)
        self.assertEqual(self.partner.lead_score_tier_id.id, tier)
        # Its methods are private: nobody calls the service from outside.
        self.assertRefused(
            self.manager,
            "lead.score.recompute",
            "_recompute_all",
            expect="cannot be called remotely",
        )


@tagged("post_install", "-at_install")
class TestSnippets(LeadScoringCase):
    def test_the_newest_line_of_a_contact_s_group(self):
        from ..engine.snippets import newest_line

        first = self.add(self.partner, "add", 10, days_ago=3)
        # Recorded after, dated before: not the newest.
        self.add(self.partner, "add", 5, days_ago=4)
        # The same moment as the first, recorded after it: the newest.
        last = self.Operation.create(
            {
                "partner_id": self.partner.id,
                "value": 1,
                "date": first.date,
                "source": "api",
            }
        )
        group = self.env["lead.score.group"]._default_group()
        self.env.flush_all()
        rows = self.env.execute_query(
            newest_line(self.partner.id, group.id, columns=("id", "balance"))
        )
        self.assertEqual(rows, [(last.id, last.balance)])
        other = self.env["lead.score.group"].create({"name": "Other"})
        self.assertEqual(
            self.env.execute_query(newest_line(self.partner.id, other.id)), []
        )

    def test_the_tier_a_score_reaches(self):
        from ..engine.snippets import tier_of

        group = self.env["lead.score.group"]._default_group()
        warm = self.Tier.create({"name": "Warm", "min_score": 10})
        hot = self.Tier.create({"name": "Hot", "min_score": 50})
        self.Tier.create({"name": "Archived", "min_score": 30, "active": False})
        other = self.env["lead.score.group"].create({"name": "Other"})
        self.Tier.create({"name": "Elsewhere", "min_score": 20, "group_id": other.id})
        self.env.flush_all()

        def tier(score, condition=None):
            rows = self.env.execute_query(tier_of(score, group.id, condition))
            return rows[0][0] if rows else None

        self.assertEqual(
            [tier(score) for score in (-5, 9, 10, 35, 50, 999)],
            [None, None, warm.id, warm.id, hot.id, hot.id],
        )
        self.assertIsNone(tier(60, SQL("FALSE")))
