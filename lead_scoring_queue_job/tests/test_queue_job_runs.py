from unittest.mock import patch

import psycopg2

from odoo.tests import tagged

from odoo.addons.lead_scoring.tests.common import (
    LeadScoringCase,
    LiveCursorCase,
    patch_engine,
)
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
        patch_engine(
            self,
            FIRST_SPAN=10,
            MIN_SPAN=10,
            CHUNK_SECONDS=0,
            MAX_CHUNKS=10**9,
            REFRESH_CHUNK_REPLAY=10,  # refresh jobs of 10 contacts
        )

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
        self.env["lead.score.run"]._cron_apply_rules()
        # Nothing scored yet: the scheduled job only queued the chunks.
        self.assertEqual(set(self.contacts.mapped("lead_score")), {0})
        self.assertEqual(len(self.pending_jobs()), 2)
        # Run again meanwhile, it queues nothing more.
        self.env["lead.score.run"]._cron_apply_rules()
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
        self.env["lead.score.run"]._cron_apply_rules()
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
        # With their velocity, written with the scores (no daily job).
        self.assertEqual(
            set(self.contacts.mapped("lead_score_change_7d")), {7}, "velocity"
        )

    def test_a_run_whose_last_chains_ended_together_is_refreshed_all_the_same(self):
        """The last two chains end at the same moment, each seeing the
        other's rule still running: neither ends the run. The scheduled job
        does, with the refresh jobs."""
        self.env["lead.score.run"]._cron_apply_rules()
        with patch.object(type(self.Rule), "search_count", return_value=1):
            self.run_queued_jobs("_job_run_chunk")
        self.assertTrue(self.rules.filtered("refresh_date"))
        self.assertFalse(self.pending_jobs())
        self.env["lead.score.run"]._cron_apply_rules()
        self.run_queued_jobs("_job_refresh_scores")
        self.assertEqual(set(self.contacts.mapped("lead_score")), {7})

    def test_queued_runs_score_as_the_scheduler_does(self):
        self.env["lead.score.run"]._cron_apply_rules()
        self.run_queued_jobs()
        queued = {c.id: c.lead_score for c in self.contacts}
        self.env.cr.execute(
            "DELETE FROM lead_score_operation WHERE rule_id = ANY(%s)", [self.rules.ids]
        )
        self.rules.write({"last_full_run_date": False})
        self.env["lead.score.ledger"]._refresh_scores(self.contacts.ids)
        self.env["lead.score.run"]._run_rules(self.rules)
        self.assertEqual(queued, {c.id: c.lead_score for c in self.contacts})


@tagged("post_install", "-at_install")
class TestQueueJobRunsLive(LiveCursorCase):
    """Jobs as queue_job's workers run them: each in a transaction of its
    own, committed."""

    def setUp(self):
        super().setUp()
        # Chunks of 10 contacts, so that a run is a chain of several jobs.
        patch_engine(
            self, FIRST_SPAN=10, MIN_SPAN=10, CHUNK_SECONDS=0, MAX_CHUNKS=10**9
        )
        with self.env_cursor() as env:
            env.cr.execute("SELECT COALESCE(MAX(id), 0) FROM queue_job")
            self.last_job_id = env.cr.fetchone()[0]
            env.cr.execute("SELECT id FROM lead_score_rule WHERE active")
            self.active_rule_ids = [row[0] for row in env.cr.fetchall()]
            env["lead.score.rule"].browse(self.active_rule_ids).write({"active": False})
            tag = env["res.partner.category"].create({"name": "Queued live"})
            self.tag_id = tag.id
            self.partner_ids = (
                env["res.partner"]
                .create(
                    [
                        {"name": f"Queued live {i}", "category_id": [(4, tag.id)]}
                        for i in range(25)
                    ]
                )
                .ids
            )
            self.rule_id = (
                env["lead.score.rule"]
                .create(
                    {
                        "name": "Queued live",
                        "value": 3,
                        "domain": f"[('category_id', 'in', [{tag.id}])]",
                    }
                )
                .id
            )
        self.addCleanup(self.clean_up)

    def clean_up(self):
        with self.env_cursor() as env:
            env.cr.execute("DELETE FROM queue_job WHERE id > %s", [self.last_job_id])
            env.cr.execute(
                "DELETE FROM lead_score_operation"
                " WHERE rule_id = %s OR partner_id = ANY(%s)",
                [self.rule_id, self.partner_ids],
            )
            env.cr.execute("DELETE FROM lead_score_rule WHERE id = %s", [self.rule_id])
            env["res.partner"].browse(self.partner_ids).unlink()
            env["res.partner.category"].browse(self.tag_id).unlink()
            env["lead.score.rule"].browse(self.active_rule_ids).write({"active": True})

    def lines_and_jobs(self, env):
        """The rule's lines and chunk jobs that this transaction sees."""
        env.cr.execute(
            "SELECT count(*) FROM lead_score_operation WHERE rule_id = %s",
            [self.rule_id],
        )
        lines = env.cr.fetchone()[0]
        env.cr.execute(
            "SELECT count(*) FROM queue_job WHERE id > %s"
            " AND method_name = '_job_run_chunk'",
            [self.last_job_id],
        )
        return lines, env.cr.fetchone()[0]

    def test_a_second_chain_for_the_same_rule_does_nothing(self):
        """Two jobs of the same rule at once: the second meets the first's
        lock, records nothing, queues nothing; once the first has committed,
        the next job goes on."""
        with self.env_cursor() as env:
            env["lead.score.run"]._cron_apply_rules()
            self.assertEqual(self.lines_and_jobs(env), (0, 1))
            job = env["queue.job"].search([("id", ">", self.last_job_id)])
            # A worker takes the job: started, committed, then performed.
            job = Job.load(env, job.uuid)
            job.set_started()
            job.store()
        with self.env_cursor() as first:
            self.assertTrue(Job.load(first, job.uuid).perform())
            chunk = self.lines_and_jobs(first)
            self.assertEqual(chunk[1], 2, "the first job queued the next chunk")
            self.assertGreater(chunk[0], 0)
            # The first job has not committed yet.
            with self.env_cursor() as second:
                # Should the lock not stop it, it would wait for the first's
                # rows: not for long.
                second.cr.execute("SET LOCAL lock_timeout = '5s'")
                rule = second["lead.score.rule"].browse(self.rule_id)
                try:
                    ran = rule._job_run_chunk()
                except psycopg2.errors.LockNotAvailable:
                    ran = "it ran the chunk, until it waited for the first's lines"
                self.assertFalse(ran, "the second job did not stop at the lock")
                self.assertEqual(self.lines_and_jobs(second), (0, 1))
        with self.env_cursor() as env:
            self.assertEqual(self.lines_and_jobs(env), chunk)
            self.assertTrue(
                env["lead.score.rule"].browse(self.rule_id)._job_run_chunk()
            )
            lines, _jobs = self.lines_and_jobs(env)
            self.assertGreater(lines, chunk[0])
