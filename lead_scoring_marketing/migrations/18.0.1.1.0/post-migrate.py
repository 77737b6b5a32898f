# Copyright 2026 Lead Scoring contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""A mailing's 0 points meant "the Settings' points"; a mailing now scores
with the Settings unless it has its own points, where 0 scores nothing.
Mailings that set some points get their own, the others (0 in the mailing)
taking the Settings' current values: each scores as it did."""

from odoo import SUPERUSER_ID, api
from odoo.tools import SQL

KINDS = ("open", "click", "reply", "bounce", "unsubscribe")


def migrate(cr, version):
    if not version:
        return
    env = api.Environment(cr, SUPERUSER_ID, {})
    points = env["mailing.trace"]._lead_score_default_points()
    columns = [SQL.identifier(f"lead_score_{kind}_points") for kind in KINDS]
    cr.execute(
        SQL(
            "UPDATE mailing_mailing SET lead_score_custom_points = TRUE, %s WHERE %s",
            SQL(", ").join(
                SQL("%s = COALESCE(NULLIF(%s, 0), %s)", column, column, points[kind])
                for column, kind in zip(columns, KINDS, strict=True)
            ),
            SQL(" OR ").join(SQL("COALESCE(%s, 0) <> 0", column) for column in columns),
        )
    )
