"""Scoring within seconds: a committed change that a rule watches asks for a
run of the job, once per transaction; Odoo's own runner then scores it, and
the 5-minute job finds nothing left. Real transactions, as in production."""

from unittest.mock import patch

from odoo import sql_db
from odoo.tests import tagged
from odoo.tools import mute_logger

from odoo.addons.base.models.ir_cron import ir_cron

from ..engine import realtime
from .common import LiveCursorCase

CONTACTS = 12
POINTS = 7
WON = 11


@tagged("post_install", "-at_install")
class TestRealtime(LiveCursorCase):
    def setUp(self):
        super().setUp()
        with self.env_cursor() as env:
            self.cron_id = env.ref("lead_scoring.ir_cron_apply_rules").id
            env.cr.execute("SELECT id FROM lead_score_rule WHERE active")
            self.active_rule_ids = [row[0] for row in env.cr.fetchall()]
            env["lead.score.rule"].browse(self.active_rule_ids).write({"active": False})
            tag = env["res.partner.category"].create({"name": "Realtime"})
            self.tag_id = tag.id
            partners = env["res.partner"].create(
                [{"name": f"Realtime {i}"} for i in range(CONTACTS)]
            )
            self.partner_ids = partners.ids
            self.objector_id = self.partner_ids[-1]
            partners[-1].lead_score_objection = True
            rules = env["lead.score.rule"].create(
                [
                    {
                        "name": "Tagged realtime",
                        "value": POINTS,
                        "domain": f"[('category_id', 'in', [{tag.id}])]",
                    },
                    {
                        "name": "Won deal realtime",
                        "value": WON,
                        "condition_type": "event",
                        "model_id": env["ir.model"]._get_id("crm.lead"),
                        "partner_field_id": env["ir.model.fields"]
                        ._get("crm.lead", "partner_id")
                        .id,
                        "domain": "[('stage_id.is_won', '=', True)]",
                    },
                ]
            )
            self.rule_ids = rules.ids
            self.lead_id = (
                env["crm.lead"]
                .create(
                    {
                        "name": "Realtime deal",
                        "type": "opportunity",
                        "partner_id": self.partner_ids[0],
                    }
                )
                .id
            )
        # A first run: the next ones look only at what changed.
        with self.env_cursor() as env:
            env["lead.score.run"]._run_rules(
                env["lead.score.rule"].search([]), commit=True
            )
        self.clear_triggers()

    def tearDown(self):
        with self.env_cursor() as env:
            env.cr.execute(
                "DELETE FROM lead_score_operation WHERE rule_id = ANY(%s)"
                " OR partner_id = ANY(%s)",
                [self.rule_ids, self.partner_ids],
            )
            env.cr.execute(
                "DELETE FROM lead_score_rule WHERE id = ANY(%s)", [self.rule_ids]
            )
            env["crm.lead"].browse(self.lead_id).unlink()
            env["res.partner"].browse(self.partner_ids).unlink()
            env["res.partner.category"].browse(self.tag_id).unlink()
            env["lead.score.rule"].browse(self.active_rule_ids).write({"active": True})
            env["ir.config_parameter"].set_param(realtime.REALTIME_PARAM, False)
        self.clear_triggers()
        super().tearDown()

    def tag(self, *partner_ids):
        """Tag these contacts, each by its own write, in one transaction."""
        with self.env_cursor() as env:
            for partner_id in partner_ids:
                env["res.partner"].browse(partner_id).write(
                    {"category_id": [(4, self.tag_id)]}
                )

    def run_triggered_job(self):
        """One pick-up of the job by a cron worker, as Odoo's runner does
        once woken: only because of its trigger rows (its next call is far)."""
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

    def scores(self):
        with self.env_cursor() as env:
            env.cr.execute(
                "SELECT id, lead_score FROM res_partner WHERE id = ANY(%s)",
                [self.partner_ids],
            )
            return dict(env.cr.fetchall())

    def lines(self):
        with self.env_cursor() as env:
            env.cr.execute(
                "SELECT count(*) FROM lead_score_operation WHERE rule_id = ANY(%s)",
                [self.rule_ids],
            )
            return env.cr.fetchone()[0]

    def assert_reconciler_finds_nothing(self):
        """The 5-minute job, run now, records no line."""
        before = self.lines()
        with self.env_cursor() as env:
            changed = env["lead.score.run"]._run_rules(
                env["lead.score.rule"].search([]), commit=True
            )
        self.assertEqual(changed, set())
        self.assertEqual(self.lines(), before)

    def test_a_contact_edit_is_scored_by_the_triggered_job(self):
        first, second = self.partner_ids[:2]
        # Unrelated writes ask for nothing.
        with self.env_cursor() as env:
            env["res.partner"].browse(first).write({"comment": "No rule reads this"})
        self.assertEqual(self.triggers(), 0)
        # Two watched writes in one transaction: one trigger row.
        self.tag(first, second)
        self.assertEqual(self.triggers(), 1)
        self.run_triggered_job()
        scores = self.scores()
        self.assertEqual((scores[first], scores[second]), (POINTS, POINTS))
        self.assertEqual(self.triggers(), 0, "the pick-up consumes its trigger")
        self.assert_reconciler_finds_nothing()

    def write_partner(self, vals):
        """One transaction that writes these values on the first contact,
        then the number of trigger rows (cleared after)."""
        with self.env_cursor() as env:
            env["res.partner"].browse(self.partner_ids[0]).write(vals)
        count = self.triggers()
        self.clear_triggers()
        return count

    def test_a_rule_change_changes_what_is_watched(self):
        """The map of what rules watch is cached per registry: creating,
        editing or deleting a rule clears it."""
        self.assertEqual(self.write_partner({"comment": "Unwatched"}), 0)
        with self.env_cursor() as env:
            rule = env["lead.score.rule"].create(
                {
                    "name": "Commented realtime",
                    "value": 1,
                    "domain": "[('comment', '!=', False)]",
                }
            )
            rule_id = rule.id
        self.rule_ids.append(rule_id)
        self.assertEqual(self.write_partner({"comment": "Watched"}), 1)
        with self.env_cursor() as env:
            env["lead.score.rule"].browse(rule_id).write(
                {"domain": "[('function', '!=', False)]"}
            )
        self.assertEqual(self.write_partner({"comment": "Unwatched again"}), 0)
        self.assertEqual(self.write_partner({"function": "Buyer"}), 1)
        with self.env_cursor() as env:
            env["lead.score.rule"].browse(rule_id).unlink()
        self.assertEqual(self.write_partner({"function": "Chief buyer"}), 0)

    def test_a_won_deal_is_scored_by_the_triggered_job(self):
        with self.env_cursor() as env:
            env["crm.lead"].browse(self.lead_id).action_set_won()
        self.assertEqual(self.triggers(), 1)
        self.run_triggered_job()
        self.assertEqual(self.scores()[self.partner_ids[0]], WON)
        self.assert_reconciler_finds_nothing()

    def test_a_burst_is_scored_together(self):
        targets = self.partner_ids[:-1]
        for partner_id in targets:
            self.tag(partner_id)
        # One row per transaction at most, all consumed by one pick-up.
        self.assertLessEqual(self.triggers(), len(targets))
        calls = []
        original = self.registry["lead.score.run"]._run_rules

        def run_rules(run, *args, **kwargs):
            calls.append(1)
            return original(run, *args, **kwargs)

        with patch.object(self.registry["lead.score.run"], "_run_rules", run_rules):
            self.run_triggered_job()
        self.assertEqual(len(calls), 1, "one run scores the whole burst")
        scores = self.scores()
        self.assertEqual({scores[pid] for pid in targets}, {POINTS})
        self.assertEqual(self.triggers(), 0)
        self.assert_reconciler_finds_nothing()

    def test_a_failing_fast_path_loses_nothing(self):
        first = self.partner_ids[0]

        def fail(service, job):
            raise RuntimeError("the fast path breaks")

        with (
            patch.object(realtime.LeadScoreRealtime, "_realtime_ask_run", fail),
            mute_logger("odoo.addons.lead_scoring.engine.realtime"),
        ):
            # The save goes through all the same.
            self.tag(first)
        self.assertEqual(self.triggers(), 0)
        with self.env_cursor() as env:
            self.assertIn(self.tag_id, env["res.partner"].browse(first).category_id.ids)
        self.assertEqual(self.scores()[first], 0)
        # The 5-minute job scores it.
        with self.env_cursor() as env:
            env["lead.score.run"]._run_rules(
                env["lead.score.rule"].search([]), commit=True
            )
        self.assertEqual(self.scores()[first], POINTS)

    def velocities(self):
        with self.env_cursor() as env:
            env.cr.execute(
                "SELECT id, lead_score_change_7d, lead_score_change_30d"
                " FROM res_partner WHERE id = ANY(%s)",
                [self.partner_ids],
            )
            return {pid: (c7, c30) for pid, c7, c30 in env.cr.fetchall()}

    def test_a_burst_has_its_velocity_without_the_daily_job(self):
        targets = self.partner_ids[:-1]
        for partner_id in targets:
            self.tag(partner_id)
        self.run_triggered_job()
        velocities = self.velocities()
        self.assertEqual({velocities[pid] for pid in targets}, {(POINTS, POINTS)})
        self.assertEqual(velocities[self.objector_id], (0, 0))

    def test_turned_off_asks_for_nothing(self):
        with self.env_cursor() as env:
            env["ir.config_parameter"].set_param(realtime.REALTIME_PARAM, "0")
        self.tag(self.partner_ids[0])
        self.assertEqual(self.triggers(), 0)

    def test_an_objecting_contact_stays_unscored(self):
        self.tag(self.objector_id, self.partner_ids[0])
        self.assertEqual(self.triggers(), 1)
        self.run_triggered_job()
        scores = self.scores()
        self.assertEqual(
            (scores[self.objector_id], scores[self.partner_ids[0]]), (0, POINTS)
        )
        with self.env_cursor() as env:
            env.cr.execute(
                "SELECT count(*) FROM lead_score_operation WHERE partner_id = %s",
                [self.objector_id],
            )
            self.assertEqual(env.cr.fetchone()[0], 0)

    def test_a_run_that_began_earlier_asks_for_one_more(self):
        """A pick-up that goes on with a run begun before an event consumes
        the event's trigger without seeing it: it asks for one more run."""
        first = self.partner_ids[0]
        with self.env_cursor() as env:
            rules = env["lead.score.rule"].search([])
            env["lead.score.run"]._start_run(rules)
        self.tag(first)
        self.assertEqual(self.triggers(), 1)
        self.run_triggered_job()
        # The run begun before the event ended without it, and asked again.
        self.assertEqual(self.triggers(), 1)
        self.run_triggered_job()
        self.assertEqual(self.scores()[first], POINTS)
