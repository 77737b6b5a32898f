# Copyright 2026 Lead Scoring contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Score quality: did the score predict which opportunities were won?

For the opportunities created in a period and since won or lost, the score
their contact had when the opportunity was created (its ledger replayed up to
that date, never today's score), then the won rate per tier and per score
band, the ROC AUC of the score and the score that best separates won from
lost (Youden's J), shown beside the current tiers and never applied."""

from bisect import bisect_left
from collections import defaultdict
from datetime import datetime, time, timedelta
from itertools import groupby

from odoo import Command, _, api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.tools import SQL

from ..engine.snippets import newest_first
from ..models.lead_score_bounded_read import bounded_statements
from ..models.lead_score_group import capped
from ..models.lead_score_operation import MAX_BALANCE

# Lines (tiers and score bands, of all teams and of each) of one report.
MAX_REPORT_LINES = 5_000


def roc_auc(scored):
    """The ROC AUC of the scores for won against lost: the chance that a won
    opportunity scored more than a lost one, a tie counting half (the
    Mann-Whitney U of the won, from mid-ranks). ``scored`` is [(score, won)];
    None without both won and lost."""
    won = sum(1 for _score, is_won in scored if is_won)
    lost = len(scored) - won
    if not won or not lost:
        return None
    rank = won_rank_sum = 0
    for _score, tied in groupby(sorted(scored), key=lambda item: item[0]):
        tied = [is_won for _score, is_won in tied]
        won_rank_sum += (rank + (len(tied) + 1) / 2) * sum(tied)
        rank += len(tied)
    return (won_rank_sum - won * (won + 1) / 2) / (won * lost)


def youden_threshold(scored):
    """(score, TPR, FPR) for the score t that maximizes TPR - FPR when the
    opportunities scoring at least t are taken for won (the lowest such score
    on a tie); None without both won and lost."""
    won = sum(1 for _score, is_won in scored if is_won)
    lost = len(scored) - won
    if not won or not lost:
        return None
    best = None
    won_above, lost_above = won, lost
    for score, tied in groupby(sorted(scored), key=lambda item: item[0]):
        tied = [is_won for _score, is_won in tied]
        tpr, fpr = won_above / won, lost_above / lost
        if best is None or tpr - fpr > best[1] - best[2]:
            best = (score, tpr, fpr)
        won_above -= sum(tied)
        lost_above -= len(tied) - sum(tied)
    return best


class LeadScoreQuality(models.TransientModel):
    _name = "lead.score.quality"
    _description = "Score Quality Report"

    date_from = fields.Date(
        string="Created from",
        required=True,
        default=lambda self: fields.Date.context_today(self) - timedelta(days=365),
    )
    date_to = fields.Date(
        string="Created until",
        required=True,
        default=fields.Date.context_today,
    )
    band_width = fields.Integer(
        string="Score band width",
        required=True,
        default=25,
        help="Scores are grouped in bands of this many points (0-24, 25-49 ...).",
    )
    team_ids = fields.Many2many(
        "crm.team",
        string="Sales teams",
        help="Only the opportunities of these teams; all teams when empty.",
    )
    currency_id = fields.Many2one(
        "res.currency", default=lambda self: self.env.company.currency_id
    )
    computed = fields.Boolean(readonly=True)
    opportunity_count = fields.Integer(string="Opportunities", readonly=True)
    won_count = fields.Integer(string="Won", readonly=True)
    won_rate = fields.Float(string="Won rate (%)", digits=(16, 1), readonly=True)
    auc = fields.Float(
        string="ROC AUC",
        digits=(16, 3),
        readonly=True,
        help="The chance that a won opportunity's contact scored more than a lost "
        "one's: 1 separates them perfectly, 0.5 is no better than chance.",
    )
    has_auc = fields.Boolean(readonly=True)
    threshold = fields.Integer(
        string="Suggested threshold",
        readonly=True,
        help="The score that best separates won from lost opportunities (Youden's "
        "J: the share of won at or above it minus the share of lost at or above "
        "it is the highest). A suggestion only: the tiers do not change.",
    )
    threshold_tpr = fields.Float(
        string="Won at or above (%)", digits=(16, 1), readonly=True
    )
    threshold_fpr = fields.Float(
        string="Lost at or above (%)", digits=(16, 1), readonly=True
    )
    tier_bands = fields.Char(string="Current tiers", readonly=True)
    verdict = fields.Char(compute="_compute_verdict")
    threshold_tier_id = fields.Many2one(
        "lead.score.tier",
        string="Tier to start at the threshold",
        domain="[('id', 'in', tier_ids)]",
        help="Sets this tier's minimum score to the suggested threshold "
        "(managers only): every contact's tier is recomputed.",
    )
    tier_ids = fields.Many2many("lead.score.tier", compute="_compute_tier_ids")
    line_ids = fields.One2many("lead.score.quality.line", "report_id", readonly=True)

    _sql_constraints = [
        (
            "band_width_positive",
            "CHECK (band_width > 0)",
            "The score band width must be at least 1 point.",
        ),
    ]

    @api.depends("date_from", "date_to")
    def _compute_display_name(self):
        for report in self:
            report.display_name = _(
                "Score quality, %(start)s – %(end)s",
                start=report.date_from,
                end=report.date_to,
            )

    @api.depends("computed", "opportunity_count", "has_auc", "auc")
    def _compute_verdict(self):
        for report in self:
            if not report.computed:
                report.verdict = False
            elif not report.opportunity_count:
                report.verdict = _(
                    "No opportunity created in this period has been won or lost "
                    "yet: choose a longer period or other teams."
                )
            elif not report.has_auc:
                report.verdict = _(
                    "These opportunities were all won or all lost: the score "
                    "cannot be judged on them."
                )
            elif report.auc >= 0.7:
                report.verdict = _("The score separates won from lost deals well.")
            elif report.auc >= 0.6:
                report.verdict = _(
                    "The score separates won from lost deals fairly: its rules "
                    "can do better."
                )
            elif report.auc > 0.55:
                report.verdict = _(
                    "The score barely separates won from lost deals: review its "
                    "rules and points."
                )
            elif report.auc >= 0.45:
                report.verdict = _(
                    "The score does not separate won from lost deals: it does no "
                    "better than chance."
                )
            else:
                report.verdict = _(
                    "The score points the wrong way: lost deals scored more than "
                    "won ones."
                )

    def _compute_tier_ids(self):
        tiers = self.env["lead.score.tier"].search(
            [("group_id", "=", self.env["lead.score.group"]._tier_group().id)]
        )
        for report in self:
            report.tier_ids = tiers

    @api.constrains("date_from", "date_to")
    def _check_period(self):
        for report in self:
            if report.date_from > report.date_to:
                raise ValidationError(_("The period ends before it starts."))

    def _opportunity_domain(self):
        """Opportunities of a contact created in the period, since won or
        lost (archived at probability 0, as Odoo marks them lost)."""
        domain = [
            ("type", "=", "opportunity"),
            ("partner_id", "!=", False),
            ("create_date", ">=", datetime.combine(self.date_from, time.min)),
            (
                "create_date",
                "<",
                datetime.combine(self.date_to, time.min) + timedelta(1),
            ),
            "|",
            "&",
            ("active", "=", True),
            "|",
            ("stage_id.is_won", "=", True),
            ("probability", "=", 100),
            "&",
            ("active", "=", False),
            ("probability", "=", 0),
        ]
        if self.team_ids:
            domain.append(("team_id", "in", self.team_ids.ids))
        return domain

    def _historical_scores(self):
        """[(team id, expected revenue, won, score)] of the opportunities that
        the user may read, each with its contact's score when it was created:
        the ledger up to that date, from its last set line, each line counting
        if it had not expired by then (as lead.score.ledger._replay_ledger
        folds it), per score group (capped), added up as the total score is
        today."""
        leads = self.env["crm.lead"].with_context(active_test=False)
        query = leads._search(self._opportunity_domain())
        self.env["lead.score.operation"].flush_model()
        self.env["lead.score.group"].flush_model()
        total_group = self.env["lead.score.group"]._total_group()
        alive = SQL(
            "((o.expiry_date IS NULL AND NOT o.expired) OR o.expiry_date > l.create_date)"
        )
        # Within the read timeout (see lead.score.bounded.read).
        with bounded_statements(self):
            return self._historical_rows(query, alive, total_group)

    def _historical_rows(self, query, alive, total_group):
        return self.env.execute_query(
            SQL(
                """
                SELECT l.team_id, COALESCE(l.expected_revenue, 0), l.active,
                       GREATEST(-%(max)s, LEAST(%(max)s, COALESCE(total.score, 0)))::int
                  FROM crm_lead l
                  LEFT JOIN LATERAL (
                        SELECT SUM(%(capped)s) AS score
                          FROM lead_score_group g
                          LEFT JOIN LATERAL (
                                SELECT o.date, o.id FROM lead_score_operation o
                                 WHERE o.partner_id = l.partner_id AND o.group_id = g.id
                                   AND o.operation = 'set'
                                   AND o.date <= l.create_date AND %(alive)s
                                 ORDER BY %(newest_first)s LIMIT 1) reset ON TRUE
                          JOIN LATERAL (
                                SELECT SUM(CASE WHEN o.operation = 'remove' THEN -o.value
                                                ELSE o.value END) AS total
                                  FROM lead_score_operation o
                                 WHERE o.partner_id = l.partner_id AND o.group_id = g.id
                                   AND o.date <= l.create_date AND %(alive)s
                                   AND (reset.id IS NULL
                                        OR (o.date, o.id) >= (reset.date, reset.id))
                               ) score ON score.total IS NOT NULL
                         WHERE g.active AND %(total_group)s) total ON TRUE
                 WHERE l.id IN %(leads)s
                """,
                max=MAX_BALANCE,
                alive=alive,
                newest_first=newest_first("o"),
                capped=capped(
                    SQL(
                        "GREATEST(-%s, LEAST(%s, score.total))",
                        MAX_BALANCE,
                        MAX_BALANCE,
                    )
                ),
                total_group=SQL("g.id = %s", total_group.id)
                if total_group
                else SQL("TRUE"),
                leads=query.subselect(),
            )
        )

    def action_compute(self):
        self.ensure_one()
        rows = self._historical_scores()
        # The tiers that rank the total score.
        tiers = self.env["lead.score.tier"].search(
            [("group_id", "=", self.env["lead.score.group"]._tier_group().id)],
            order="min_score",
        )
        scored = [(score, won) for _team, _revenue, won, score in rows]
        won = sum(1 for _score, is_won in scored if is_won)
        auc = roc_auc(scored)
        threshold = youden_threshold(scored)
        by_team = defaultdict(list)
        for row in rows:
            by_team[row[0]].append(row)
        lines = self._scope_lines("all", False, rows, tiers)
        for team_id, team_rows in by_team.items():
            lines += self._scope_lines("team", team_id, team_rows, tiers)
        if len(lines) > MAX_REPORT_LINES:
            # A band of a point or two over scores spread far apart.
            raise UserError(
                _(
                    "The report would have more than %(max)s lines: choose wider "
                    "score bands or fewer sales teams.",
                    max=MAX_REPORT_LINES,
                )
            )
        self.line_ids.unlink()
        # One report per user: the earlier ones would only pile up.
        self.search([("create_uid", "=", self.env.uid), ("id", "!=", self.id)]).unlink()
        self.write(
            {
                "computed": True,
                "opportunity_count": len(rows),
                "won_count": won,
                "won_rate": 100 * won / len(rows) if rows else 0,
                "has_auc": auc is not None,
                "auc": auc or 0,
                "threshold": threshold[0] if threshold else 0,
                "threshold_tpr": 100 * threshold[1] if threshold else 0,
                "threshold_fpr": 100 * threshold[2] if threshold else 0,
                "tier_bands": " · ".join(f"{t.name} ≥ {t.min_score}" for t in tiers),
                "line_ids": [Command.create(vals) for vals in lines],
            }
        )
        # The form shows the verdict; its button opens the lines.
        return True

    def action_use_threshold(self):
        """Start the chosen tier at the suggested threshold (a tier's write
        needs a Lead Scoring manager, and recomputes every contact's tier)."""
        self.ensure_one()
        if not self.has_auc or not self.threshold_tier_id:
            raise ValidationError(
                _("Choose the tier that should start at the threshold.")
            )
        self.threshold_tier_id.min_score = self.threshold
        return True

    def _scope_lines(self, scope, team_id, rows, tiers):
        """The lines of one scope (all teams, or one team): one per tier and
        one per score band that has opportunities."""
        won_scores = sorted(score for _t, _r, won, score in rows if won)
        lost_scores = sorted(score for _t, _r, won, score in rows if not won)
        overall = len(won_scores) / len(rows) if rows else 0
        width = self.band_width
        no_tier = _("No tier")

        def tier_of(score):
            tier = next((t for t in reversed(tiers) if t.min_score <= score), None)
            if tier is None:
                return (0, no_tier, None)
            return (tier.min_score + 1_000_001, tier.name, tier.min_score)

        def band_of(score):
            low = score // width * width
            return (low, f"{low} – {low + width - 1}", low)

        def share_above(scores, low):
            if low is None or not scores:
                return 100.0 if scores else 0.0
            return 100 * (len(scores) - bisect_left(scores, low)) / len(scores)

        lines = []
        for kind, bucket_of in (("tier", tier_of), ("band", band_of)):
            buckets = defaultdict(lambda: [0, 0, 0.0, MAX_BALANCE])
            for _team, revenue, won, score in rows:
                bucket = buckets[bucket_of(score)]
                bucket[0] += 1
                bucket[1] += won
                bucket[2] += revenue
                bucket[3] = min(bucket[3], score)
            for (sequence, label, low), values in sorted(buckets.items()):
                count, won, revenue, lowest = values
                rate = won / count
                lines.append(
                    {
                        "scope": scope,
                        "team_id": team_id,
                        "kind": kind,
                        "sequence": sequence,
                        "label": label,
                        # Below the first tier: from its lowest score.
                        "score_from": lowest if low is None else low,
                        "opportunity_count": count,
                        "won_count": won,
                        "won_rate": 100 * rate,
                        "expected_revenue": revenue,
                        "lift": rate / overall if overall else 0,
                        "won_share": share_above(won_scores, low),
                        "lost_share": share_above(lost_scores, low),
                    }
                )
        return lines

    def action_open_lines(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "lead_scoring.lead_score_quality_line_action"
        )
        action["domain"] = [("report_id", "=", self.id)]
        action["name"] = self._summary()
        return action

    def _summary(self):
        parts = [
            _("%(count)s opportunities", count=self.opportunity_count),
            _("won rate %(rate).1f %%", rate=self.won_rate),
        ]
        if self.has_auc:
            parts.append(_("ROC AUC %(auc).2f", auc=self.auc))
            parts.append(_("suggested threshold %(score)s", score=self.threshold))
        return _("Score quality: %s", ", ".join(parts))
