# Copyright 2026 Lead Scoring contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Score groups: every existing line, rule and tier counts in the default
group, and each contact's score in it is stored (lead_score_value). One
statement each, so that a ledger of millions of lines upgrades quickly."""

from odoo import SUPERUSER_ID, api
from odoo.tools import SQL


def migrate(cr, version):
    if not version:
        return
    env = api.Environment(cr, SUPERUSER_ID, {})
    default = env["lead.score.group"]._default_group()
    for table in ("lead_score_operation", "lead_score_rule", "lead_score_tier"):
        cr.execute(
            SQL(
                "UPDATE %s SET group_id = %s WHERE group_id IS NULL",
                SQL.identifier(table),
                default.id,
            )
        )
    # Every contact's group scores, total and tier: tiers created by the
    # upgrade's data (a tier of no group yet counted for nothing) may have
    # moved contacts, and started a recompute while there were no group
    # scores yet (see lead.score.recompute._recompute_all).
    cr.execute("SELECT id FROM res_partner ORDER BY id")
    env["lead.score.recompute"]._recompute_batch([row[0] for row in cr.fetchall()])
