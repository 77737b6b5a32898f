# Copyright 2026 Lead Scoring contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Score groups: every existing line, rule and tier counts in the default
group, and each contact's score in it is stored (lead_score_value). One
statement each, so that a ledger of millions of lines upgrades quickly."""

from odoo.tools import SQL


def migrate(cr, version):
    if not version:
        return
    cr.execute(
        "SELECT res_id FROM ir_model_data"
        " WHERE module = 'lead_scoring' AND name = 'score_group_default'"
    )
    row = cr.fetchone()
    if not row:
        return
    default = row[0]
    for table in ("lead_score_operation", "lead_score_rule", "lead_score_tier"):
        cr.execute(
            SQL(
                "UPDATE %s SET group_id = %s WHERE group_id IS NULL",
                SQL.identifier(table),
                default,
            )
        )
    cr.execute(
        """
        INSERT INTO lead_score_value (partner_id, group_id, score, tier_id)
        SELECT l.partner_id, l.group_id, l.score, tier.id
          FROM (SELECT DISTINCT ON (o.partner_id, o.group_id)
                       o.partner_id, o.group_id,
                       CASE WHEN p.lead_score_objection THEN 0
                            ELSE COALESCE(o.balance, 0) END AS score,
                       p.lead_score_objection IS TRUE AS objects
                  FROM lead_score_operation o
                  JOIN res_partner p ON p.id = o.partner_id
                 ORDER BY o.partner_id, o.group_id, o.date DESC, o.id DESC) l
          LEFT JOIN LATERAL (
                SELECT t.id FROM lead_score_tier t
                 WHERE t.group_id = l.group_id AND t.active
                   AND t.min_score <= l.score AND NOT l.objects
                 ORDER BY t.min_score DESC LIMIT 1) tier ON TRUE
        ON CONFLICT (partner_id, group_id) DO NOTHING
        """
    )
