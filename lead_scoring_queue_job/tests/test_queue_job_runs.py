from unittest.mock import patch

from odoo.tests import tagged

from odoo.addons.lead_scoring.models import lead_score_rule
from odoo.addons.lead_scoring.tests.common import LeadScoringCase
from odoo.addons.queue_job.job import Job

CHANNEL = "root.lead_scoring"


@tagged("post_install", "-at_install")
class TestQueueJobRuns(LeadScoringCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        tag = cls.env["res.partner.category"].create({"name": "Queued"})
        cls.contacts = cls.env["res.partner"].create(
            [{"name": f"Queued {i}", "category_id": [(4, tag.id)]} for i in range(25)]
        )
        domain = f"[('category_id', 'in', [{tag.id}])]"
        cls.rules = cls.Rule.create(
            [
                {"name": "Queued A", "value": 3, "domain": domain},
                {"name": "Queued B", "value": 4, "domain": domain},
            ]
        )

    def setUp(self):
        super().setUp()
        # Chunks of 10 contacts, so that a run is a chain of several jobs.
        for name, value in (
            ("FIRST_SPAN", 10),
            ("MIN_SPAN", 10),
            ("CHUNK_SECONDS", 0),
            ("MAX_CHUNKS", 10**9),
        ):
            patcher = patch.object(lead_score_rule, name, value)
            patcher.start()
            self.addCleanup(patcher.stop)

    def pending_jobs(self):
        return self.env["queue.job"].search(
            [("channel", "=", CHANNEL), ("state", "=", "pending")]
        )

    def run_queued_jobs(self):
        """What queue_job's workers do, one job after the other."""
        done = 0
        while pending := self.pending_jobs():
            for record in pending:
                job = Job.load(self.env, record.uuid)
                job.set_started()
                job.store()
                job.perform()
                job.set_done()
                job.store()
                done += 1
        return done

    def test_the_job_queues_each_rule_s_chunks(self):
        self.Rule._cron_apply_rules()
        # Nothing scored yet: the scheduled job only queued the chunks.
        self.assertEqual(set(self.contacts.mapped("lead_score")), {0})
        self.assertEqual(len(self.pending_jobs()), 2)
        # Run again meanwhile, it queues nothing more.
        self.Rule._cron_apply_rules()
        self.assertEqual(len(self.pending_jobs()), 2)
        self.assertGreater(self.run_queued_jobs(), 4)
        self.assertEqual(set(self.contacts.mapped("lead_score")), {7})
        self.assertFalse(self.rules.filtered("pass_date"))
        self.assertEqual(set(self.rules.mapped("last_run_count")), {25})
        # The run is over: the next one only looks at what changed.
        self.assertEqual(
            self.contacts.mapped("lead_score_date"), self.contacts.mapped("write_date")
        )

    def test_scores_are_refreshed_by_jobs_of_their_own(self):
        """A chunk's job records lines only: the contacts are locked by small
        jobs of their own, which queue_job retries apart when one is busy."""
        self.Rule._cron_apply_rules()
        chunk = self.pending_jobs()[0]
        job = Job.load(self.env, chunk.uuid)
        job.perform()
        refresh = self.pending_jobs().filtered(
            lambda job: job.method_name == "_job_refresh_scores"
        )
        self.assertEqual(len(refresh), 1)
        scored = self.Operation.search([("rule_id", "in", self.rules.ids)]).partner_id
        self.assertEqual(len(scored), 10)
        self.assertEqual(set(scored.mapped("lead_score")), {0})
        Job.load(self.env, refresh.uuid).perform()
        self.assertEqual(set(scored.mapped("lead_score")), {job.recordset.value})

    def test_a_second_chain_for_the_same_rule_does_nothing(self):
        self.Rule._cron_apply_rules()
        rule = self.rules[0]
        # Another job of the same rule meets the lock and stops.
        with patch.object(type(rule), "_rule_lock", return_value=False):
            self.assertFalse(rule._job_run_chunk())
        self.assertEqual(set(self.contacts.mapped("lead_score")), {0})

    def test_queued_runs_score_as_the_scheduler_does(self):
        self.Rule._cron_apply_rules()
        self.run_queued_jobs()
        queued = {c.id: c.lead_score for c in self.contacts}
        self.env.cr.execute(
            "DELETE FROM lead_score_operation WHERE rule_id = ANY(%s)", [self.rules.ids]
        )
        self.rules.write({"last_full_run_date": False})
        self.Operation._refresh_scores(self.contacts.ids)
        self.rules._run_rules()
        self.assertEqual(queued, {c.id: c.lead_score for c in self.contacts})
