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
            ("REFRESH_CHUNK_REPLAY", 10),  # refresh jobs of 10 contacts
        ):
            patcher = patch.object(lead_score_rule, name, value)
            patcher.start()
            self.addCleanup(patcher.stop)

    def pending_jobs(self):
        return self.env["queue.job"].search(
            [("channel", "=", CHANNEL), ("state", "=", "pending")]
        )

    def run_queued_jobs(self, method=None):
        """What queue_job's workers do, one job after the other (those of
        ``method`` only, when given)."""
        done = 0
        while pending := self.pending_jobs().filtered(
            lambda job: not method or job.method_name == method
        ):
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
        """The chunks' jobs record lines only; once every rule's chain has
        ended, jobs of a batch of contacts each refresh the scores (locking
        those contacts alone, retried apart by queue_job), every contact
        once whatever the rules that scored it."""
        self.Rule._cron_apply_rules()
        self.run_queued_jobs("_job_run_chunk")
        self.assertEqual(set(self.contacts.mapped("lead_score")), {0})
        self.assertFalse(self.rules.filtered("refresh_date"), "the run is not over")
        refresh = self.pending_jobs()
        self.assertEqual(set(refresh.mapped("method_name")), {"_job_refresh_scores"})
        batches = [Job.load(self.env, job.uuid).args[0] for job in refresh]
        refreshed = sorted(pid for batch in batches for pid in batch)
        self.assertLessEqual(set(self.contacts.ids), set(refreshed))
        self.assertEqual(len(refreshed), len(set(refreshed)))
        self.assertTrue(all(len(batch) <= 10 for batch in batches))
        self.run_queued_jobs()
        self.assertEqual(set(self.contacts.mapped("lead_score")), {7})

    def test_a_run_whose_last_chains_ended_together_is_refreshed_all_the_same(self):
        """The last two chains end at the same moment, each seeing the
        other's rule still running: neither ends the run. The scheduled job
        does, with the refresh jobs."""
        self.Rule._cron_apply_rules()
        with patch.object(type(self.Rule), "search_count", return_value=1):
            self.run_queued_jobs("_job_run_chunk")
        self.assertTrue(self.rules.filtered("refresh_date"))
        self.assertFalse(self.pending_jobs())
        self.Rule._cron_apply_rules()
        self.run_queued_jobs("_job_refresh_scores")
        self.assertEqual(set(self.contacts.mapped("lead_score")), {7})

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
