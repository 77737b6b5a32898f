"""Rule runs on a live database: real transactions, committed chunks, Odoo's
own cron runner, and people editing contacts while the run goes on."""

import random
import threading
import time
from datetime import datetime
from unittest.mock import patch

from odoo import api, sql_db
from odoo.service.model import retrying
from odoo.tests import tagged
from odoo.tools import mute_logger

from odoo.addons.base.models.ir_cron import ir_cron

from ..engine import control, recompute
from .common import LiveCursorCase, patch_engine

CONTACTS = 120
POINTS = 7


@tagged("post_install", "-at_install")
class TestLiveRuns(LiveCursorCase):
    def setUp(self):
        super().setUp()
        with self.env_cursor() as env:
            self.cron_id = env.ref("lead_scoring.ir_cron_apply_rules").id
            env.cr.execute("SELECT id FROM lead_score_rule WHERE active")
            self.active_rule_ids = [row[0] for row in env.cr.fetchall()]
            env["lead.score.rule"].browse(self.active_rule_ids).write({"active": False})
            tag = env["res.partner.category"].create({"name": "Live run"})
            self.tag_id = tag.id
            self.partner_ids = (
                env["res.partner"]
                .create(
                    [
                        {"name": f"Live {i}", "category_id": [(4, tag.id)]}
                        for i in range(CONTACTS)
                    ]
                )
                .ids
            )
            self.rule_id = (
                env["lead.score.rule"]
                .create(
                    {
                        "name": "Live rule",
                        "value": POINTS,
                        "domain": f"[('category_id', 'in', [{tag.id}])]",
                    }
                )
                .id
            )
        # Small chunks, so that a small database makes a long run.
        patch_engine(
            self,
            FIRST_SPAN=10,
            MIN_SPAN=10,
            CHUNK_SECONDS=1e-9,
            MAX_CHUNKS=10**9,
            REFRESH_CHUNK=50,
        )

    def tearDown(self):
        with self.env_cursor() as env:
            env.cr.execute(
                "DELETE FROM lead_score_operation WHERE rule_id = %s OR partner_id = ANY(%s)",
                [self.rule_id, self.partner_ids],
            )
            env.cr.execute("DELETE FROM lead_score_rule WHERE id = %s", [self.rule_id])
            env["res.partner"].browse(self.partner_ids).unlink()
            env["res.partner.category"].browse(self.tag_id).unlink()
            env["lead.score.rule"].browse(self.active_rule_ids).write({"active": True})
            env["ir.config_parameter"].set_param("lead_scoring.call_seconds", False)
        super().tearDown()

    def run_cron_once(self, xmlid=None):
        """One pick-up of the job (the rules', or the one named) by a cron
        worker, as Odoo's runner does."""
        db = self.registry.db_name
        with self.env_cursor() as env:
            cron_id = env.ref(xmlid).id if xmlid else self.cron_id
            env.cr.execute(
                "UPDATE ir_cron SET nextcall = now() AT TIME ZONE 'UTC' - interval '1 minute'"
                " WHERE id = %s",
                [cron_id],
            )
        with sql_db.db_connect(db).cursor() as cron_cr:
            job = ir_cron._acquire_one_job(cron_cr, cron_id)
            self.assertTrue(job, "the job could not be acquired")
            self.registry["ir.cron"]._process_job(sql_db.db_connect(db), cron_cr, job)

    def state(self):
        with self.env_cursor() as env:
            env.cr.execute(
                "SELECT count(*), count(DISTINCT partner_id) FROM lead_score_operation"
                " WHERE rule_id = %s",
                [self.rule_id],
            )
            lines, contacts = env.cr.fetchone()
            env.cr.execute(
                "SELECT lead_score, count(*) FROM res_partner WHERE id = ANY(%s)"
                " GROUP BY lead_score",
                [self.partner_ids],
            )
            scores = dict(env.cr.fetchall())
            rule = env["lead.score.rule"].browse(self.rule_id)
            return {
                "lines": lines,
                "contacts": contacts,
                "scores": scores,
                # Recording its lines, or refreshing its scores.
                "running": bool(rule.pass_date or rule.refresh_date),
                "cursor": rule.pass_cursor,
                "refresh_cursor": rule.refresh_cursor,
                "last_run_count": rule.last_run_count,
                "error": rule.last_error,
            }

    def test_a_run_commits_chunk_by_chunk_and_resumes(self):
        with self.env_cursor() as env:
            # Each call of the job stops after its first chunk.
            env["ir.config_parameter"].set_param("lead_scoring.call_seconds", "0.01")
        # A worker killed after a few chunks: what it committed stays, and
        # the next call goes on from there.
        calls = []
        run_class = self.registry["lead.score.run"]
        original = run_class._run_chunk

        def run_chunk(run, rule, *args, **kwargs):
            calls.append(rule.id)
            if len(calls) == 4:
                raise KeyboardInterrupt("worker killed")
            return original(run, rule, *args, **kwargs)

        with self.env_cursor() as env:
            rules = env["lead.score.rule"].search([])
            with patch.object(run_class, "_run_chunk", run_chunk):
                with self.assertRaises(KeyboardInterrupt):
                    env["lead.score.run"]._run_rules(rules, commit=True)
            env.cr.rollback()
        halfway = self.state()
        self.assertTrue(halfway["running"])
        self.assertEqual(halfway["lines"], halfway["contacts"])
        self.assertTrue(0 < halfway["lines"] < CONTACTS, halfway)
        # The scores follow once every line of the run is recorded.
        self.assertEqual(halfway["scores"], {0: CONTACTS})
        # Odoo's runner: each call does one chunk and asks to be called again.
        for _pickup in range(20):
            self.run_cron_once()
            if not self.state()["running"]:
                break
        done = self.state()
        self.assertFalse(done["running"])
        self.assertFalse(done["error"])
        self.assertEqual((done["lines"], done["contacts"]), (CONTACTS, CONTACTS))
        self.assertEqual(done["scores"], {POINTS: CONTACTS})
        with self.env_cursor() as env:
            progress = env["ir.cron.progress"].search(
                [("cron_id", "=", self.cron_id)], order="id desc", limit=3
            )
            self.assertTrue(any(p.done and p.remaining for p in progress))

    def velocities(self):
        """{(change over 7 days, over 30 days): contacts}"""
        with self.env_cursor() as env:
            env.cr.execute(
                "SELECT lead_score_change_7d, lead_score_change_30d, count(*)"
                " FROM res_partner WHERE id = ANY(%s) GROUP BY 1, 2",
                [self.partner_ids],
            )
            return {(c7, c30): count for c7, c30, count in env.cr.fetchall()}

    def test_velocity_follows_a_run_over_many_calls(self):
        """A run spread over many calls writes each batch's velocity with its
        scores: no daily job needed."""
        with self.env_cursor() as env:
            env["ir.config_parameter"].set_param("lead_scoring.call_seconds", "0.01")
        for _pickup in range(40):
            self.run_cron_once()
            if not self.state()["running"]:
                break
        self.assertEqual(self.state()["scores"], {POINTS: CONTACTS})
        self.assertEqual(self.velocities(), {(POINTS, POINTS): CONTACTS})

    def test_a_change_committed_after_a_run_is_seen_by_the_next(self):
        """Someone's transaction starts before a run and commits after it:
        what it wrote carries its start time, before that run, which could
        not see it; the next run looks from that time on."""
        with self.env_cursor() as env:
            env["lead.score.run"]._run_rules(
                env["lead.score.rule"].search([]), commit=True
            )
        late = self.registry.cursor()
        try:
            late.execute("SELECT now() AT TIME ZONE 'UTC'")
            late_start = late.fetchone()[0]
            with self.env_cursor() as env:
                env["lead.score.run"]._run_rules(
                    env["lead.score.rule"].search([]), commit=True
                )
                rule = env["lead.score.rule"].browse(self.rule_id)
                horizon = datetime.fromisoformat(rule.last_horizon)
            self.assertLessEqual(horizon, late_start)
            late_env = api.Environment(late, api.SUPERUSER_ID, {})
            newcomer = late_env["res.partner"].create(
                {"name": "Late", "category_id": [(4, self.tag_id)]}
            )
            late.commit()
            self.partner_ids.append(newcomer.id)
        finally:
            late.close()
        with self.env_cursor() as env:
            rules = env["lead.score.rule"].search([])
            # Not a full sweep, which would find it anyway.
            self.assertTrue(rules._incremental_filter(rules.last_run_date))
            env["lead.score.run"]._run_rules(rules, commit=True)
        self.assertEqual(self.state()["scores"], {POINTS: CONTACTS + 1})

    def test_a_run_killed_while_refreshing_scores_goes_on_from_there(self):
        """Killed after its lines, during the refresh of its contacts' scores
        (batches of 50): the next call goes on after the last batch
        committed, and each contact's score is written once."""
        ledger_class = self.registry["lead.score.ledger"]
        original = ledger_class._refresh_scores
        refreshed, killed = [], []

        def refresh_scores(operations, partner_ids, **kwargs):
            if len(refreshed) == 50 and not killed:
                killed.append(partner_ids)
                raise KeyboardInterrupt("worker killed")
            refreshed.extend(partner_ids)
            return original(operations, partner_ids, **kwargs)

        with patch.object(ledger_class, "_refresh_scores", refresh_scores):
            with self.env_cursor() as env:
                rules = env["lead.score.rule"].search([])
                with self.assertRaises(KeyboardInterrupt):
                    env["lead.score.run"]._run_rules(rules, commit=True)
                env.cr.rollback()
            left = self.state()
            self.assertEqual(
                (left["lines"], left["scores"]), (CONTACTS, {0: 70, POINTS: 50})
            )
            self.assertEqual(left["refresh_cursor"], sorted(self.partner_ids)[49])
            self.assertTrue(left["running"])
            with self.env_cursor() as env:
                env["lead.score.run"]._run_rules(
                    env["lead.score.rule"].search([]), commit=True
                )
        done = self.state()
        self.assertFalse(done["running"])
        self.assertEqual(done["scores"], {POINTS: CONTACTS})
        self.assertEqual(sorted(refreshed), sorted(self.partner_ids))

    def recompute_after(self):
        with self.env_cursor() as env:
            return env["lead.score.recompute"]._recompute_after()

    def uncap(self):
        with self.env_cursor() as env:
            env["lead.score.group"]._default_group().write({"use_cap": False})
            env["lead.score.recompute"]._recompute_pending(commit=True)

    def test_a_change_of_configuration_is_recomputed_by_the_job_around_people(self):
        """A cap lowered on a large database: its request recomputes what it
        can, Odoo's cron runner the rest, a committed batch per call; a
        contact that someone is saving holds back its batch (tried again,
        then left for the next call), not the contacts before it."""
        with self.env_cursor() as env:
            env["lead.score.run"]._run_rules(
                env["lead.score.rule"].search([]), commit=True
            )
            # The job's calls then recompute only (a rule's run refreshes the
            # scores of its contacts too).
            env["lead.score.rule"].browse(self.rule_id).active = False
            env["ir.config_parameter"].set_param("lead_scoring.call_seconds", "0.01")
        self.assertEqual(self.state()["scores"], {POINTS: CONTACTS})
        self.addCleanup(self.uncap)
        busy = self.partner_ids[60]
        with (
            patch.object(recompute, "RECOMPUTE_BATCH", 40),
            patch.object(recompute, "RECOMPUTE_INLINE_SECONDS", -1),
            patch.object(control, "LOCK_TIMEOUT", "100ms"),
            mute_logger("odoo.addons.lead_scoring.engine.control"),
        ):
            with self.env_cursor() as env:
                env["lead.score.group"]._default_group().write(
                    {"use_cap": True, "score_min": 0, "score_max": POINTS - 2}
                )
            # The request did one batch, of contacts older than the test's.
            self.assertEqual(self.state()["scores"], {POINTS: CONTACTS})
            person = self.registry.cursor()
            try:
                person.execute(
                    "UPDATE res_partner SET comment = 'Saving' WHERE id = %s", [busy]
                )
                for _pickup in range(20):
                    before = self.recompute_after()
                    self.run_cron_once("lead_scoring.ir_cron_recompute_scores")
                    if self.recompute_after() == before:
                        break
                self.assertLess(self.recompute_after(), busy)
                with self.env_cursor() as env:
                    partners = env["res.partner"].browse(self.partner_ids)
                    scores = dict(
                        zip(partners.ids, partners.mapped("lead_score"), strict=True)
                    )
                self.assertEqual(scores[self.partner_ids[0]], POINTS - 2)
                self.assertEqual(scores[busy], POINTS)
                self.assertEqual(scores[self.partner_ids[-1]], POINTS)
            finally:
                person.rollback()
                person.close()
            for _pickup in range(20):
                self.run_cron_once("lead_scoring.ir_cron_recompute_scores")
                if self.recompute_after() is None:
                    break
        self.assertIsNone(self.recompute_after())
        self.assertEqual(self.state()["scores"], {POINTS - 2: CONTACTS})

    def test_people_editing_contacts_during_a_run(self):
        """A run meets people saving contacts (each a committed transaction,
        retried by Odoo on a conflict as every request is): it completes,
        nobody waits long, and every score equals its ledger."""
        stop = threading.Event()
        waits, errors_seen = [], []

        def editor():
            rng = random.Random(1)
            while not stop.is_set():
                partner_id = rng.choice(self.partner_ids)
                started = time.monotonic()
                try:
                    with self.env_cursor() as env:

                        def edit(env=env, partner_id=partner_id):
                            env["res.partner"].browse(partner_id).write(
                                {"comment": f"edited {time.time()}"}
                            )
                            env.flush_all()

                        with mute_logger("odoo.service.model", "odoo.sql_db"):
                            retrying(edit, env)
                except Exception as error:  # noqa: BLE001 - reported by the test
                    errors_seen.append(error)
                waits.append(time.monotonic() - started)
                time.sleep(0.02)

        thread = threading.Thread(target=editor)
        thread.start()
        try:
            for _pickup in range(30):
                self.run_cron_once()
                if not self.state()["running"]:
                    break
        finally:
            stop.set()
            thread.join(30)
        done = self.state()
        self.assertFalse(errors_seen)
        self.assertFalse(done["running"])
        self.assertEqual(done["scores"], {POINTS: CONTACTS})
        self.assertEqual(done["lines"], CONTACTS)
        self.assertLess(max(waits), 3, "an editor waited for the engine")

    def test_scores_that_meet_a_concurrent_edit_are_retried(self):
        """The refresh's snapshot is older than someone's saved edit of one of
        its contacts: PostgreSQL refuses the score update, the batch is tried
        again, and the run goes on."""
        ledger_class = self.registry["lead.score.ledger"]
        original = ledger_class._refresh_scores
        edited = []

        def refresh_scores(operations, partner_ids, **kwargs):
            if partner_ids and not edited:
                operations.env.cr.execute("SELECT 1")  # the snapshot is taken
                edited.append(sorted(partner_ids)[0])
                with self.env_cursor() as other:
                    other["res.partner"].browse(edited[0]).write({"comment": "x"})
            return original(operations, partner_ids, **kwargs)

        with self.env_cursor() as env:
            rules = env["lead.score.rule"].search([])
            with (
                patch.object(ledger_class, "_refresh_scores", refresh_scores),
                patch.object(control, "_logger") as logger,
            ):
                env["lead.score.run"]._run_rules(rules, commit=True)
        done = self.state()
        self.assertTrue(edited)
        self.assertTrue(
            any("tried again" in call.args[0] for call in logger.info.call_args_list)
        )
        self.assertEqual(done["scores"], {POINTS: CONTACTS})
        self.assertEqual(done["lines"], CONTACTS)

    def run_with_a_save_during_the_first_chunk(self, save):
        """A run whose first chunk has its snapshot taken, then meets
        ``save(env, contact)`` committed by someone else before it records
        its lines; returns the contact and the values of its lines, each
        checked to have the balance of the points up to it."""
        rule_class = self.registry["lead.score.rule"]
        original = rule_class._apply
        contact = self.partner_ids[0]
        saved = []

        def apply(rule, *args, **kwargs):
            if not saved:
                rule.env.cr.execute("SELECT 1")  # the chunk's snapshot
                with self.env_cursor() as other:
                    save(other, contact)
                saved.append(contact)
            return original(rule, *args, **kwargs)

        with self.env_cursor() as env:
            rules = env["lead.score.rule"].search([])
            with (
                patch.object(rule_class, "_apply", apply),
                mute_logger("odoo.sql_db"),
            ):
                env["lead.score.run"]._run_rules(rules, commit=True)
        self.assertTrue(saved)
        with self.env_cursor() as env:
            lines = env["lead.score.operation"].search(
                [("partner_id", "=", contact)], order="date, id"
            )
            self.assertEqual(
                lines.mapped("balance"),
                [sum(lines[: i + 1].mapped("value")) for i in range(len(lines))],
            )
            return sorted(lines.mapped("value"))

    def test_an_operation_saved_during_a_chunk_counts_in_the_score(self):
        """Someone adds points to a contact after a chunk's snapshot, before
        the chunk records that contact's line: neither transaction sees the
        other's line. The chunk meets the contact's saved score as a
        concurrent update and is tried again: the score and every line's
        balance count both lines."""

        def add(env, contact):
            env["lead.score.operation"].create({"partner_id": contact, "value": 5})

        self.assertEqual(self.run_with_a_save_during_the_first_chunk(add), [5, POINTS])
        self.assertEqual(self.state()["scores"], {POINTS: CONTACTS - 1, POINTS + 5: 1})

    def test_an_operation_deleted_during_a_chunk_counts_no_more(self):
        """The same with a manager deleting the contact's only operation: the
        chunk's line, recorded on top of it, must not count it either."""
        with self.env_cursor() as env:
            env["lead.score.operation"].create(
                {"partner_id": self.partner_ids[0], "value": 5}
            )

        def delete(env, contact):
            env["lead.score.operation"].search([("partner_id", "=", contact)]).unlink()

        self.assertEqual(self.run_with_a_save_during_the_first_chunk(delete), [POINTS])
        self.assertEqual(self.state()["scores"], {POINTS: CONTACTS})

    def test_contacts_are_free_while_their_messages_are_written(self):
        """A refresh batch logs its contacts' tier moves before it writes
        their scores: their rows, locked from that UPDATE to the commit, are
        free meanwhile, and someone saving one of them then is not rolled
        back for it."""
        with self.env_cursor() as env:
            tier = env["lead.score.tier"].create({"name": "Live", "min_score": POINTS})
        self.addCleanup(self.delete_tier, tier.id)
        chatter_class = self.registry["lead.score.chatter"]
        original = chatter_class._log_lead_score_moves
        logged, held = [], []

        def log_moves(chatter, moves, new, adjusted=(), **kwargs):
            contacts = [move[0] for move in moves]
            logged.extend(contacts)
            with self.env_cursor() as other:
                other.cr.execute(
                    "SELECT id FROM res_partner WHERE id = ANY(%s)"
                    " FOR NO KEY UPDATE SKIP LOCKED",
                    [contacts],
                )
                free = {row[0] for row in other.cr.fetchall()}
            held.extend(set(contacts) - free)
            return original(chatter, moves, new, adjusted, **kwargs)

        with self.env_cursor() as env:
            rules = env["lead.score.rule"].search([])
            with patch.object(chatter_class, "_log_lead_score_moves", log_moves):
                env["lead.score.run"]._run_rules(rules, commit=True)
        self.assertEqual(sorted(logged), sorted(self.partner_ids))
        self.assertEqual(held, [])
        with self.env_cursor() as env:
            env.cr.execute(
                "SELECT count(DISTINCT res_id) FROM mail_message"
                " WHERE model = 'res.partner' AND res_id = ANY(%s)"
                " AND id IN (SELECT mail_message_id FROM mail_tracking_value)",
                [self.partner_ids],
            )
            self.assertEqual(env.cr.fetchone()[0], CONTACTS)
        self.assertEqual(self.state()["scores"], {POINTS: CONTACTS})

    def delete_tier(self, tier_id):
        with self.env_cursor() as env:
            env.cr.execute(
                "UPDATE res_partner SET lead_score_tier_id = NULL"
                " WHERE lead_score_tier_id = %s",
                [tier_id],
            )
            env["lead.score.tier"].browse(tier_id).unlink()
