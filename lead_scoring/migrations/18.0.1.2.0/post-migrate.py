# Copyright 2026 Lead Scoring contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Decay per score group: the half-life of the former global setting moves to
every group, with the day decay started, and the setting goes."""

from odoo import SUPERUSER_ID, api

HALF_LIFE_PARAM = "lead_scoring.decay_half_life_days"
SINCE_PARAM = "lead_scoring.decay_since"


def migrate(cr, version):
    if not version:
        return
    env = api.Environment(cr, SUPERUSER_ID, {})
    params = env["ir.config_parameter"]
    half_life = int(params.get_param(HALF_LIFE_PARAM) or 0)
    if half_life > 0:
        env["lead.score.group"].with_context(active_test=False).search([]).write(
            {
                "decay": "half_life",
                "decay_half_life_days": half_life,
                "decay_since": params.get_param(SINCE_PARAM) or False,
            }
        )
    params.search([("key", "in", (HALF_LIFE_PARAM, SINCE_PARAM))]).unlink()
