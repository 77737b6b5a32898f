# Copyright 2026 Lead Scoring contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Where a contact's score comes from: its ledger summed by group, source and
rule.

A group's score is the sum of the lines since the last *set* that has not expired
(the set included, see lead.score.ledger._replay_ledger). Those lines are
the parts that count; earlier lines were replaced by that set, and expired
ones count for nothing: both are shown apart, with no points, as are all the
lines of a contact who objects to scoring (whose score is 0). Should the
score have been capped, one more part holds the difference, so that the
parts always add up to the stored score.
"""

from odoo import fields, models, tools
from odoo.tools import SQL

from .lead_score_group import capped
from .lead_score_operation import SOURCES

STATES = [
    ("counting", "Counting"),
    ("capped", "Capped"),
    ("replaced", "Replaced by a later set"),
    ("expired", "Expired"),
    ("objected", "Objects to scoring"),
]


class LeadScoreBreakdown(models.Model):
    _name = "lead.score.breakdown"
    _description = "Lead Score Breakdown"
    _auto = False
    _order = "partner_id, group_id, sequence, points desc, id"
    _rec_name = "source"
    # Flushed before the view is read.
    _depends = {
        "lead.score.operation": [
            "partner_id",
            "date",
            "operation",
            "value",
            "source",
            "rule_id",
            "expired",
            "balance",
            "group_id",
        ],
        "res.partner": ["company_id", "lead_score_objection"],
        "lead.score.group": ["use_cap", "score_min", "score_max"],
    }

    partner_id = fields.Many2one("res.partner", string="Contact", readonly=True)
    group_id = fields.Many2one("lead.score.group", string="Score group", readonly=True)
    company_id = fields.Many2one("res.company", readonly=True)
    source = fields.Selection(SOURCES, readonly=True)
    rule_id = fields.Many2one("lead.score.rule", readonly=True)
    state = fields.Selection(STATES, string="Counts", readonly=True)
    sequence = fields.Integer(readonly=True)
    points = fields.Integer(readonly=True, aggregator="sum")
    line_count = fields.Integer(string="Operations", readonly=True, aggregator="sum")
    last_date = fields.Datetime(string="Latest", readonly=True)

    def init(self):
        # Imported here: the engine's package extends the models, once defined.
        from ..engine.snippets import newest_first

        tools.drop_view_if_exists(self.env.cr, self._table)
        # Grouped by contact first, and window functions partitioned by contact
        # (and group): PostgreSQL reads one contact's lines when asked for one
        # contact.
        self.env.cr.execute(
            SQL(
                """
            CREATE VIEW lead_score_breakdown AS
            WITH classified AS NOT MATERIALIZED (
                SELECT o.id, o.partner_id, o.group_id, o.date, o.operation, o.value,
                       o.source, o.rule_id,
                       CASE WHEN o.expired THEN 'expired'
                            WHEN COUNT(*) FILTER (WHERE o.operation = 'set' AND NOT o.expired)
                                     OVER (PARTITION BY o.partner_id, o.group_id
                                           ORDER BY o.date, o.id
                                           ROWS UNBOUNDED PRECEDING)
                               < COUNT(*) FILTER (WHERE o.operation = 'set' AND NOT o.expired)
                                     OVER (PARTITION BY o.partner_id, o.group_id)
                            THEN 'replaced'
                            ELSE 'counting' END AS state,
                       -- The group's score: the balance of its last line, capped.
                       FIRST_VALUE(%(capped)s)
                           OVER (PARTITION BY o.partner_id, o.group_id
                                 ORDER BY %(newest_first)s) AS score
                  FROM lead_score_operation o
                  JOIN lead_score_group g ON g.id = o.group_id
            ), parts AS NOT MATERIALIZED (
                SELECT MIN(c.id) AS id, c.partner_id, c.group_id, p.company_id, c.source,
                       c.rule_id, %(state)s AS state,
                       SUM(CASE WHEN c.state != 'counting' OR p.lead_score_objection THEN 0
                                WHEN c.operation = 'remove' THEN -c.value
                                ELSE c.value END)::int AS points,
                       COUNT(*)::int AS line_count, MAX(c.date) AS last_date,
                       array_position(%(states)s, %(state)s) AS sequence,
                       MAX(CASE WHEN p.lead_score_objection THEN 0 ELSE c.score END) AS score
                  FROM classified c
                  JOIN res_partner p ON p.id = c.partner_id
                 GROUP BY c.partner_id, c.group_id, p.company_id, c.source, c.rule_id,
                          %(state)s
            )
            SELECT id, partner_id, group_id, company_id, source, rule_id, state,
                   points, line_count, last_date, sequence
              FROM parts
            UNION ALL
            -- What the cap took off: the parts add up to the group's score.
            SELECT -MIN(id), partner_id, group_id, MIN(company_id), NULL, NULL,
                   'capped', MAX(score) - SUM(points), 0, NULL,
                   array_position(%(states)s, 'capped')
              FROM parts
             GROUP BY partner_id, group_id
            HAVING MAX(score) != SUM(points)
            """,
                states=[state for state, _label in STATES],
                capped=capped(SQL("o.balance")),
                newest_first=newest_first("o"),
                # A contact who objects to scoring: no line counts.
                state=SQL(
                    "CASE WHEN p.lead_score_objection THEN 'objected' ELSE c.state END"
                ),
            )
        )
