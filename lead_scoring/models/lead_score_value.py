# Copyright 2026 Lead Scoring contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""A contact's score in one group: the balance of its latest line in that
group, kept within the group's cap (0 for a contact who objects to scoring),
and the group's tier it reaches. Written in SQL, from the ledger, whenever
the ledger's scores are refreshed; stored and indexed so that "Engagement
>= 50" filters as fast as the total score. No row: a score of 0."""

from odoo import api, fields, models
from odoo.tools import SQL

from .lead_score_group import group_score


class LeadScoreValue(models.Model):
    _name = "lead.score.value"
    _description = "Group Score"
    # By contact, then in the groups' order.
    _order = "partner_id, group_id"
    _log_access = False
    _rec_name = "group_id"

    partner_id = fields.Many2one(
        "res.partner",
        string="Contact",
        required=True,
        readonly=True,
        ondelete="cascade",
    )
    group_id = fields.Many2one(
        "lead.score.group", required=True, readonly=True, ondelete="cascade"
    )
    score = fields.Integer(readonly=True, aggregator="avg")
    tier_id = fields.Many2one("lead.score.tier", string="Tier", readonly=True)
    tier_color = fields.Integer(related="tier_id.color")

    _sql_constraints = [
        (
            "partner_group_uniq",
            "UNIQUE (partner_id, group_id)",
            "A contact has one score per group.",
        ),
    ]

    def init(self):
        self.env.cr.execute(
            "CREATE INDEX IF NOT EXISTS lead_score_value_group_score_idx"
            " ON lead_score_value (group_id, score)"
        )

    @api.model
    def _refresh(self, partner_ids=None):
        """Write the group scores of these contacts (of all, with None) from
        their ledgers' latest balances, in one statement (the rows of groups
        they no longer have a line in go)."""
        where = (
            SQL("TRUE")
            if partner_ids is None
            else SQL("partner_id = ANY(%s)", list(partner_ids))
        )
        self.env["res.partner"].flush_model(["lead_score_objection"])
        self.env["lead.score.group"].flush_model()
        self.env["lead.score.tier"].flush_model()
        self.env["lead.score.operation"].flush_model()
        self.env.cr.execute(
            SQL(
                """
                WITH latest AS (
                    SELECT DISTINCT ON (partner_id, group_id)
                           partner_id, group_id, balance
                      FROM lead_score_operation
                     WHERE %(where)s
                     ORDER BY partner_id, group_id, date DESC, id DESC
                ), scored AS (
                    SELECT l.partner_id, l.group_id, %(score)s AS score,
                           p.lead_score_objection IS TRUE AS objects
                      FROM latest l
                      JOIN res_partner p ON p.id = l.partner_id
                      JOIN lead_score_group g ON g.id = l.group_id
                ), gone AS (
                    DELETE FROM lead_score_value v
                     WHERE %(where_v)s
                       AND NOT EXISTS (SELECT 1 FROM latest l
                                        WHERE l.partner_id = v.partner_id
                                          AND l.group_id = v.group_id)
                )
                INSERT INTO lead_score_value (partner_id, group_id, score, tier_id)
                SELECT s.partner_id, s.group_id, s.score, tier.id
                  FROM scored s
                  LEFT JOIN LATERAL (
                        SELECT t.id FROM lead_score_tier t
                         WHERE t.group_id = s.group_id AND t.active
                           AND t.min_score <= s.score AND NOT s.objects
                         ORDER BY t.min_score DESC LIMIT 1) tier ON TRUE
                ON CONFLICT (partner_id, group_id) DO UPDATE
                   SET score = EXCLUDED.score, tier_id = EXCLUDED.tier_id
                 WHERE (lead_score_value.score, lead_score_value.tier_id)
                       IS DISTINCT FROM (EXCLUDED.score, EXCLUDED.tier_id)
                """,
                where=where,
                score=group_score(SQL("l.balance")),
                where_v=SQL("TRUE")
                if partner_ids is None
                else SQL("v.partner_id = ANY(%s)", list(partner_ids)),
            )
        )
        self.invalidate_model()
        self.env["res.partner"].invalidate_model(["lead_score_value_ids"])

    @api.model
    def _totals(self, partner_ids):
        """{contact: total score}: the sum of its active groups' scores, or the
        score in the group chosen as the total (see lead.score.group)."""
        if not partner_ids:
            return {}
        total_group = self.env["lead.score.group"]._total_group()
        self.env.cr.execute(
            SQL(
                """
                SELECT v.partner_id, SUM(v.score)::int
                  FROM lead_score_value v
                  JOIN lead_score_group g ON g.id = v.group_id AND g.active
                 WHERE v.partner_id = ANY(%s) AND %s
                 GROUP BY v.partner_id
                """,
                list(partner_ids),
                SQL("g.id = %s", total_group.id) if total_group else SQL("TRUE"),
            )
        )
        return dict(self.env.cr.fetchall())

    @api.model
    def _grades(self, partner_ids):
        """{contact: grade} (see lead.score.group._grade_query), and under
        None the grade of a contact with no score; {} when there is no grade.
        A contact who objects to scoring has no grade: the caller's to say."""
        query = self.env["lead.score.group"]._grade_query(
            SQL("unnest(%s::int[]) AS p(id)", [*partner_ids, None])
        )
        if query is None:
            return {}
        self.env.cr.execute(query)
        return dict(self.env.cr.fetchall())

    @api.model
    def _recompute_all(self):
        """After a change of the groups (caps, archived, the total's
        definition): every group score, total score and tier, in SQL."""
        self.env.flush_all()
        self._refresh()
        total_group = self.env["lead.score.group"]._total_group()
        self.env.cr.execute(
            SQL(
                """
                UPDATE res_partner p SET lead_score = COALESCE(t.total, 0)
                  FROM res_partner p2
                  LEFT JOIN LATERAL (
                        SELECT SUM(v.score)::int AS total FROM lead_score_value v
                          JOIN lead_score_group g ON g.id = v.group_id AND g.active
                         WHERE v.partner_id = p2.id AND %s) t ON TRUE
                 WHERE p.id = p2.id AND p.lead_score IS DISTINCT FROM COALESCE(t.total, 0)
                """,
                SQL("g.id = %s", total_group.id) if total_group else SQL("TRUE"),
            )
        )
        self.env.cr.execute(
            """
            UPDATE crm_lead l SET partner_lead_score = p.lead_score
              FROM res_partner p
             WHERE l.partner_id = p.id
               AND l.partner_lead_score IS DISTINCT FROM p.lead_score
            """
        )
        self.env["res.partner"].invalidate_model(["lead_score"])
        self.env["lead.score.tier"]._reassign_partners()
