"""Velocity: a contact's score change over the last 7 and 30 days, from the
ledger lines of those days, kept with the scores and as the windows slide."""

from datetime import timedelta

from odoo import fields
from odoo.tests import tagged

from ..engine import velocity
from .common import LeadScoringCase, load_migration, spying_set_based_writes


@tagged("post_install", "-at_install")
class TestVelocity(LeadScoringCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.other = cls.env["res.partner"].create({"name": "Grace Hopper"})

    def velocity(self, partner):
        partner.invalidate_recordset()
        return partner.lead_score_change_7d, partner.lead_score_change_30d

    def test_changes_over_7_and_30_days(self):
        self.add(self.partner, "add", 50, days_ago=60)
        self.add(self.partner, "add", 20, days_ago=20)
        self.add(self.partner, "add", 15, days_ago=3)
        self.add(self.partner, "remove", 5, days_ago=1)
        self.assertEqual(self.partner.lead_score, 80)
        self.assertEqual(self.velocity(self.partner), (10, 30))

    def test_a_set_counts_as_the_difference_it_made(self):
        self.add(self.partner, "add", 40, days_ago=10)
        self.add(self.partner, "set", 100, days_ago=2)
        self.assertEqual(self.velocity(self.partner), (60, 100))

    def test_the_engine_s_refresh_writes_it_with_the_scores(self):
        self.add(self.partner, "add", 10, days_ago=40)
        self.add(self.other, "add", 5, days_ago=40)
        # Lines recorded as the engine does, then its refresh batch (a run,
        # the fast path, decay, a queue_job batch).
        self.env.cr.execute(
            """INSERT INTO lead_score_operation
                      (partner_id, date, operation, value, signed_value, source, group_id)
               SELECT p, now() AT TIME ZONE 'UTC' - interval '1 day', 'add', 35, 35,
                      'api', %s FROM unnest(%s::int[]) p""",
            [
                self.env["lead.score.group"].search([], limit=1).id,
                [self.partner.id, self.other.id],
            ],
        )
        with spying_set_based_writes(self.env) as update:
            self.env["lead.score.ledger"]._refresh_scores(
                [self.partner.id, self.other.id], flush=True
            )
        self.assertEqual(update.call_count, 1, "one UPDATE for scores and velocity")
        self.assertEqual(self.partner.lead_score, 45)
        self.assertEqual(self.velocity(self.partner), (35, 35))
        self.assertEqual(self.velocity(self.other), (35, 35))
        self.assertEqual(
            self.env["res.partner"].search(
                [("lead_score_change_7d", ">=", 30), ("id", "in", [self.partner.id])]
            ),
            self.partner,
            "the Heating up filter finds it",
        )
        # Nothing left for the daily job to write.
        self.assertEqual(
            self.env["lead.score.velocity"]._store_velocity(
                [self.partner.id, self.other.id]
            ),
            0,
        )

    def test_the_daily_job_slides_the_windows(self):
        self.add(self.partner, "add", 30, days_ago=5)
        self.assertEqual(self.velocity(self.partner), (30, 30))
        later = fields.Datetime.now() + timedelta(days=4)
        self.env["lead.score.velocity"]._daily_pass(now=later)
        self.assertEqual(self.velocity(self.partner), (0, 30))
        self.env["lead.score.velocity"]._daily_pass(now=later + timedelta(days=30))
        self.assertEqual(self.velocity(self.partner), (0, 0))

    def test_an_objecting_contact_has_none(self):
        self.add(self.partner, "add", 30, days_ago=1)
        self.partner.lead_score_objection = True
        self.assertEqual(self.velocity(self.partner), (0, 0))
        self.env["lead.score.velocity"]._daily_pass()
        self.assertEqual(self.velocity(self.partner), (0, 0))

    def test_explained_by_the_lines_behind_it(self):
        old = self.add(self.partner, "add", 50, days_ago=60)
        recent = self.add(self.partner, "add", 15, days_ago=3)
        action = self.partner.action_view_lead_score_change()
        lines = self.env["lead.score.operation"].search(action["domain"])
        self.assertIn(recent, lines)
        self.assertNotIn(old, lines)

    def test_shown_on_leads(self):
        self.add(self.partner, "add", 30, days_ago=1)
        lead = self.env["crm.lead"].create(
            {"name": "Deal", "partner_id": self.partner.id}
        )
        self.assertEqual(lead.partner_lead_score_change_7d, 30)
        self.assertIn(
            lead,
            self.env["crm.lead"].search([("partner_lead_score_change_7d", ">=", 30)]),
        )

    # ------------------------------------------------------------------
    # Contacts scored by the rules
    # ------------------------------------------------------------------
    def scored_by_a_rule(self):
        """The contact: 10 points 40 days ago, 5 points 10 days ago (through
        the ORM), and a rule that gives it 25 points."""
        self.add(self.partner, "add", 10, days_ago=40)
        self.add(self.partner, "add", 5, days_ago=10)
        self.assertEqual(self.velocity(self.partner), (0, 5))
        self.rule(value=25, domain=f"[('id', '=', {self.partner.id})]")

    def test_a_rule_run_writes_the_velocity_of_the_contacts_it_scored(self):
        self.scored_by_a_rule()
        self.add(self.other, "add", 8, days_ago=3)
        self.assertEqual(self.run_rules(), {self.partner.id})
        self.assertEqual(self.partner.lead_score, 40)
        # Without the daily job.
        self.assertEqual(self.velocity(self.partner), (25, 30))
        self.assertEqual(self.velocity(self.other), (8, 8))
        self.assertIn(
            self.partner,
            self.env["res.partner"].search([("lead_score_change_7d", ">=", 20)]),
            "the Heating up filter finds it",
        )

    def test_the_scheduled_job_s_run_writes_it_too(self):
        self.scored_by_a_rule()
        self.env["lead.score.run"]._cron_apply_rules()
        self.assertEqual(self.partner.lead_score, 40)
        self.assertEqual(self.velocity(self.partner), (25, 30))

    def test_a_run_writes_a_velocity_that_moves_under_the_cap(self):
        """A capped group keeps every point in its balance: a run that adds
        points to a contact at the cap moves its velocity, not its score."""
        group = self.env["lead.score.group"].search([], limit=1)
        group.write({"use_cap": True, "score_max": 50})
        self.add(self.partner, "add", 60, days_ago=40)
        self.assertEqual(self.partner.lead_score, 50)
        self.rule(value=25, domain=f"[('id', '=', {self.partner.id})]")
        # Last saved by someone long ago.
        self.env.flush_all()
        self.env.cr.execute(
            "UPDATE res_partner SET write_date = '2020-01-01' WHERE id = %s",
            [self.partner.id],
        )
        self.run_rules()
        self.assertEqual(self.partner.lead_score, 50)
        self.assertEqual(self.velocity(self.partner), (25, 25))
        # A velocity moving alone is no change of the contact's.
        self.assertEqual(str(self.partner.write_date), "2020-01-01 00:00:00")

    def test_a_contact_named_twice_counts_once(self):
        self.add(self.partner, "add", 15, days_ago=3)
        self.assertEqual(
            self.env["lead.score.velocity"]._velocities(
                [self.partner.id, self.partner.id]
            ),
            {self.partner.id: (15, 15)},
        )

    def test_an_objecting_contact_gets_none_from_a_run(self):
        self.partner.lead_score_objection = True
        self.rule(
            value=25, domain=f"[('id', 'in', {[self.partner.id, self.other.id]})]"
        )
        self.run_rules()
        self.assertEqual(self.velocity(self.partner), (0, 0))
        self.assertEqual(self.velocity(self.other), (25, 25))


@tagged("post_install", "-at_install")
class TestVelocityUpgrade(LeadScoringCase):
    def test_upgrade_moves_the_job_to_the_velocity_service(self):
        migration = load_migration("lead_scoring", "18.0.1.5.0", "post-velocity-job.py")
        cron = self.env.ref("lead_scoring.ir_cron_lead_score_velocity")
        # As the previous version left it (its record is noupdate).
        cron.write(
            {
                "model_id": self.env["ir.model"]._get_id("res.partner"),
                "code": "model._cron_lead_score_velocity()",
            }
        )
        migration.migrate(self.env.cr, "18.0.1.4.0")
        self.env.invalidate_all()
        self.assertEqual(cron.model_id.model, "lead.score.velocity")
        self.assertEqual(cron.code, "model._cron_velocity()")
        # Lines the engine recorded in SQL: the job writes their velocity.
        self.env.cr.execute(
            """INSERT INTO lead_score_operation
                      (partner_id, date, operation, value, signed_value, source,
                       group_id, balance)
               VALUES (%s, now() AT TIME ZONE 'UTC' - interval '2 days', 'add', 30, 30,
                       'api', %s, 30)""",
            [self.partner.id, self.env["lead.score.group"].search([], limit=1).id],
        )
        self.env["lead.score.engine"]._save_position(
            velocity.VELOCITY_PASS_PARAM, False
        )
        cron.method_direct_trigger()
        self.partner.invalidate_recordset()
        self.assertEqual(
            (self.partner.lead_score_change_7d, self.partner.lead_score_change_30d),
            (30, 30),
        )

    def test_upgrade_drops_the_position_of_the_pass_after_the_runs(self):
        migration = load_migration("lead_scoring", "18.0.1.6.0")
        params = self.env["ir.config_parameter"].sudo()
        # As the previous version left it.
        params.set_param(migration.AFTER_RUN_PARAM, "2026-12-01 10:00:00|42")
        migration.migrate(self.env.cr, "18.0.1.5.0")
        self.env.invalidate_all()
        self.assertFalse(
            self.env["ir.config_parameter"].search(
                [("key", "=", migration.AFTER_RUN_PARAM)]
            )
        )
