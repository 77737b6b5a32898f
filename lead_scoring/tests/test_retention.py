"""Ledger retention: old lines folded into one carried-forward line per
contact leave the score, the breakdown's total and the rules' keys as they
were."""

import time
from datetime import timedelta
from unittest.mock import patch

from odoo import fields
from odoo.exceptions import ValidationError
from odoo.tests import tagged

from odoo.addons.lead_scoring.engine import retention
from odoo.addons.lead_scoring.engine.retention import COMPACT_PASS_PARAM
from odoo.addons.lead_scoring.models.res_config_settings import (
    COMPACT_DAYS_PARAM,
    COMPACT_LAST_PARAM,
)

from .common import LeadScoringCase


@tagged("post_install", "-at_install")
class TestRetention(LeadScoringCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.grace = cls.env["res.partner"].create({"name": "Grace Hopper"})
        cls.once = cls.Rule.create(
            {"name": "Everyone once", "value": 4, "match_all": True}
        )

    def total(self, partner):
        parts = self.env["lead.score.breakdown"].search(
            [("partner_id", "=", partner.id)]
        )
        return sum(parts.mapped("points"))

    def compact(self, days=30):
        self.env["ir.config_parameter"].set_param(COMPACT_DAYS_PARAM, days)
        self.env["lead.score.retention"]._cron_compact_ledger()

    def test_compaction_keeps_scores_breakdowns_and_keys(self):
        now = fields.Datetime.now()
        self.env["lead.score.run"]._run_rules(self.once)
        # The rule's line is old: its once key must keep protecting.
        self.env.cr.execute(
            "UPDATE lead_score_operation SET date = date - interval '90 days'"
            " WHERE rule_id = %s",
            [self.once.id],
        )
        self.env["lead.score.ledger"]._replay_ledger([self.partner.id, self.grace.id])
        self.add(self.partner, "add", 40, days_ago=80)
        self.add(
            self.partner, "add", 7, days_ago=70, expiry_date=now - timedelta(days=60)
        )
        self.Operation._expire_operations()
        self.add(self.partner, "remove", 5, days_ago=60)
        self.add(self.partner, "set", 20, days_ago=50)
        self.add(self.partner, "add", 3, days_ago=45)
        recent = self.add(self.partner, "add", 2, days_ago=1)
        # Grace: an old line whose points expire later stops the folding there.
        self.add(self.grace, "add", 10, days_ago=80)
        self.add(self.grace, "add", 6, days_ago=70)
        pending = self.add(
            self.grace, "add", 5, days_ago=60, expiry_date=now + timedelta(days=5)
        )
        self.add(self.grace, "add", 1, days_ago=50)
        self.add(self.grace, "remove", 1, days_ago=40)
        partners = self.partner | self.grace
        before = {
            p: (p.lead_score, self.total(p), len(p.lead_score_operation_ids))
            for p in partners
        }
        self.assertEqual([before[p][0] for p in partners], [25, 25])
        recent_balance = recent.balance

        self.compact(days=30)

        self.env.invalidate_all()
        for partner in partners:
            self.assertEqual(partner.lead_score, before[partner][0])
            self.assertEqual(self.total(partner), before[partner][0])
        # Ada: 5 lines folded into 1, the rule's line kept (it counts no more).
        self.assertEqual(
            len(self.partner.lead_score_operation_ids), before[self.partner][2] - 4
        )
        carried = self.Operation.search(
            [("partner_id", "=", self.partner.id), ("source", "=", "carried")]
        )
        self.assertEqual((carried.operation, carried.value), ("set", 23))
        self.assertIn("5 older operations", carried.note)
        self.assertTrue(
            self.Operation.search_count(
                [("partner_id", "=", self.partner.id), ("rule_id", "=", self.once.id)]
            )
        )
        # Lines newer than the cut-off are untouched.
        self.assertTrue(recent.exists())
        self.assertEqual(recent.balance, recent_balance)
        # Grace: the two lines before the pending one folded, the rest kept.
        self.assertTrue(pending.exists())
        self.assertEqual(
            len(self.grace.lead_score_operation_ids), before[self.grace][2] - 1
        )
        # The once rule does not score again.
        self.once.last_full_run_date = False
        self.env["lead.score.run"]._run_rules(self.once)
        self.assertEqual(self.partner.lead_score, before[self.partner][0])
        # A replay gives the same score, and the settings tell what was done.
        self.env["lead.score.ledger"]._refresh_scores(partners.ids)
        self.assertEqual(self.partner.lead_score, 25)
        self.assertEqual(self.grace.lead_score, 25)
        # Demo contacts' lines fold too: the counts are the whole database's.
        date, folded, carried = (
            self.env["ir.config_parameter"].get_param(COMPACT_LAST_PARAM).split("|")
        )
        self.assertGreaterEqual(int(folded), 7)
        self.assertGreaterEqual(int(carried), 2)
        settings = self.env["res.config.settings"].create({})
        self.assertIn(
            f"{folded} operations folded into {carried} lines",
            settings.lead_score_compact_last_run,
        )

    def test_never_without_a_setting(self):
        self.add(self.partner, "add", 40, days_ago=80)
        self.add(self.partner, "add", 1, days_ago=70)
        self.compact(days=0)
        self.assertEqual(len(self.partner.lead_score_operation_ids), 2)

    def test_a_long_compaction_goes_on_at_the_next_call(self):
        """A call that runs out of time stops after a batch and the next one
        goes on from there with the same cut-off, until the pass is over:
        at a million contacts a pass takes far longer than a cron call may."""
        partners = self.partner | self.grace
        for partner in partners:
            self.add(partner, "add", 40, days_ago=80)
            self.add(partner, "add", 2, days_ago=70)
            self.add(partner, "add", 1, days_ago=1)
        cutoff = fields.Datetime.now() - timedelta(days=30)
        calls = 0
        with patch.object(retention, "COMPACT_BATCH", 1):
            # Each call already past its deadline: one batch, one contact.
            while self.env["lead.score.retention"]._compact_ledger(
                cutoff, deadline=time.monotonic()
            ):
                calls += 1
                # Its cut-off is the pass's, whatever a later call is given.
                cutoff = fields.Datetime.now()
        self.assertGreater(calls, 2)
        self.assertFalse(
            self.env["lead.score.engine"]._saved_position(COMPACT_PASS_PARAM)
        )
        for partner in partners:
            self.assertEqual(
                partner.lead_score_operation_ids.sorted("date").mapped("source"),
                ["carried", "api"],
            )
            self.assertEqual(partner.lead_score, 43)

    def test_a_compaction_killed_between_batches_goes_on_from_the_last_one(self):
        """A worker killed mid-pass (Odoo's time limit, a restart) loses its
        batch only: each batch's transaction notes where the pass stands,
        and the next call goes on from there with the pass's cut-off."""
        for partner in self.partner | self.grace:
            self.add(partner, "add", 40, days_ago=80)
            self.add(partner, "add", 2, days_ago=70)
        cutoff = fields.Datetime.now() - timedelta(days=30)
        Retention = type(self.env["lead.score.retention"])
        compact_contacts = Retention._compact_contacts
        batches = []

        def killed_at_the_second_batch(service, partner_ids, batch_cutoff):
            if batches:
                raise RuntimeError("worker killed")
            batches.append(partner_ids)
            return compact_contacts(service, partner_ids, batch_cutoff)

        with (
            patch.object(retention, "COMPACT_BATCH", 1),
            patch.object(Retention, "_compact_contacts", killed_at_the_second_batch),
            self.assertRaisesRegex(RuntimeError, "worker killed"),
        ):
            self.env["lead.score.retention"]._compact_ledger(cutoff)
        since, after = (
            self.env["lead.score.engine"]
            ._saved_position(COMPACT_PASS_PARAM)
            .split("|")[:2]
        )
        self.assertEqual(
            (since, int(after)), (fields.Datetime.to_string(cutoff), batches[0][-1])
        )
        with patch.object(
            Retention, "_compact_contacts", autospec=True, side_effect=compact_contacts
        ) as compacting:
            self.env["lead.score.retention"]._compact_ledger(fields.Datetime.now())
        done = [pid for call in compacting.call_args_list for pid in call.args[1]]
        self.assertTrue(done)
        self.assertGreater(min(done), batches[0][-1])
        self.assertFalse(
            self.env["lead.score.engine"]._saved_position(COMPACT_PASS_PARAM)
        )
        for partner in self.partner | self.grace:
            self.assertEqual(partner.lead_score_operation_ids.source, "carried")
            self.assertEqual(partner.lead_score, 42)

    def test_settings_refuse_a_negative_or_absurd_compaction_age(self):
        params = self.env["ir.config_parameter"].sudo()
        params.set_param(COMPACT_DAYS_PARAM, 90)
        for days in (-5, 3651, 1_000_000):
            with self.subTest(days=days):
                with self.assertRaisesRegex(
                    ValidationError, "older than 1 to 3,650 days, or 0 to never"
                ):
                    self.env["res.config.settings"].create(
                        {"lead_score_compact_days": days}
                    ).execute()
        self.assertEqual(params.get_param(COMPACT_DAYS_PARAM), "90")
        for days, stored in ((3650, "3650"), (0, False)):
            self.env["res.config.settings"].create(
                {"lead_score_compact_days": days}
            ).execute()
            self.assertEqual(params.get_param(COMPACT_DAYS_PARAM), stored)
