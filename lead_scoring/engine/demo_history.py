# Copyright 2026 Lead Scoring contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Demo data only: a year of prospects and their won and lost
opportunities, for the suggested points to learn from."""

import math
import random
from datetime import timedelta

from odoo import api, fields, models
from odoo.tools import SQL

# What each tag's rule is really worth (log-odds), and the industry's.
PLANTED = {
    "suggestion_tag_pricing": 1.6,
    "suggestion_tag_trade_show": 0.9,
    "suggestion_tag_newsletter": 0.3,
    "suggestion_tag_webinar": 0.0,
}
INDUSTRY = ("base.res_partner_industry_C", 0.8)
BASE = -1.4
PROSPECTS = 300


class LeadScorePointSuggestion(models.AbstractModel):
    _inherit = "lead.score.point.suggestion"

    @api.model
    def _demo_history(self):
        """PROSPECTS prospects, each tagged with what they did and scored by
        the tags' rules a few days before their opportunity was created
        (over the last 330 days), the opportunity since won or lost as the
        planted worth of the tags says."""
        demo = self.with_context(tracking_disable=True)
        # One generator drawn in this order: the same demo at every install.
        rng = random.Random(2026)
        industry = self.env.ref(INDUSTRY[0], raise_if_not_found=False)
        draws = demo._demo_draws(rng, industry)
        partners = demo._demo_prospects(draws, industry)
        demo._demo_opportunities(rng, partners, draws)
        demo._demo_rule_lines(rng, partners, draws)

    @api.model
    def _demo_draws(self, rng, industry):
        """(tags' xmlids hit, in the industry, won, created) of each
        prospect: won with the probability that the planted worth of what
        they did gives, created over the last 330 days, oldest first."""
        now = fields.Datetime.now()
        draws = []
        for index in range(PROSPECTS):
            hit = [xmlid for xmlid in PLANTED if rng.random() < 0.35]
            in_industry = bool(industry) and rng.random() < 0.3
            logit = (
                BASE
                + sum(PLANTED[x] for x in hit)
                + (INDUSTRY[1] if in_industry else 0)
            )
            won = rng.random() < 1 / (1 + math.exp(-logit))
            created = now - timedelta(
                days=330 - 329 * index / PROSPECTS, hours=rng.random()
            )
            draws.append((hit, in_industry, won, created))
        return draws

    @api.model
    def _demo_prospects(self, draws, industry):
        """The prospects of ``draws``, with their tags and industry."""
        tags = {xmlid: self.env.ref(f"lead_scoring.{xmlid}") for xmlid in PLANTED}
        return self.env["res.partner"].create(
            [
                {
                    "name": f"Prospect {index + 1:03d}",
                    "category_id": [(6, 0, [tags[x].id for x in hit])],
                    "industry_id": industry.id if in_industry else False,
                }
                for index, (hit, in_industry, _won, _created) in enumerate(draws)
            ]
        )

    @api.model
    def _demo_opportunities(self, rng, partners, draws):
        """Each prospect's opportunity, of one of the demo's salespeople,
        won or lost as drawn, created when drawn."""
        env = self.env
        first_stage = env.ref("crm.stage_lead1")
        # The demo's salespeople, not the superuser that loads the data.
        salespeople = [
            user.id
            for user in (
                env.ref("base.user_admin", raise_if_not_found=False),
                env.ref("base.user_demo", raise_if_not_found=False),
            )
            if user
        ] or [False]
        leads = env["crm.lead"].create(
            [
                {
                    "name": f"Prospect {index + 1:03d}: first order",
                    "user_id": salespeople[index % len(salespeople)],
                    "type": "opportunity",
                    "partner_id": partner.id,
                    "stage_id": first_stage.id,
                    "expected_revenue": rng.choice((2000, 5000, 12000)),
                }
                for index, (partner, (_hit, _in, won, _c)) in enumerate(
                    zip(partners, draws, strict=True)
                )
            ]
        )
        won = [
            lead
            for lead, (_h, _i, is_won, _c) in zip(leads, draws, strict=True)
            if is_won
        ]
        won = env["crm.lead"].union(*won)
        won.action_set_won()
        (leads - won).action_set_lost()
        env.flush_all()
        env.cr.execute(
            SQL(
                """UPDATE crm_lead l SET create_date = d.created
                     FROM unnest(%s::int[], %s::timestamp[]) AS d(id, created)
                    WHERE l.id = d.id""",
                leads.ids,
                [created for _h, _i, _w, created in draws],
            )
        )
        leads.invalidate_recordset(["create_date"])
        return leads

    @api.model
    def _demo_rule_lines(self, rng, partners, draws):
        """The lines of each tag's rule on the prospects it hit, dated 1 to
        20 days before their opportunity, and their scores."""
        rules = {
            xmlid: self.env.ref(
                "lead_scoring.rule_suggestion_" + xmlid.split("_tag_")[1]
            )
            for xmlid in PLANTED
        }
        ledger = self.env["lead.score.operation"]._engine().env["lead.score.ledger"]
        recorded = []
        for xmlid, rule in rules.items():
            scored = [
                (partner.id, created - timedelta(days=rng.randint(1, 20)))
                for partner, (hit, _i, _w, created) in zip(partners, draws, strict=True)
                if xmlid in hit
            ]
            recorded += ledger._record_lines(
                SQL(
                    "SELECT * FROM unnest(%s::int[], %s::timestamp[])"
                    " AS src(partner_id, date)",
                    [partner_id for partner_id, _date in scored],
                    [date for _partner_id, date in scored],
                ),
                date=SQL("src.date"),
                operation=rule.operation,
                value=rule.value,
                source="rule",
                rule_id=rule.id,
                group_id=rule.group_id.id,
                rule_key="once",
            )
        ledger._refresh_recorded(recorded)
