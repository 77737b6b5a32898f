# Copyright 2026 Lead Scoring contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The velocity job is the engine's velocity service's: the cron record is
not updated by the upgrade (noupdate), and the contact's method it called is
gone. Repointed unless someone already made it call something else."""

from odoo import SUPERUSER_ID, api

OLD_CODE = "_cron_lead_score_velocity"


def migrate(cr, version):
    if not version:
        return
    env = api.Environment(cr, SUPERUSER_ID, {})
    cron = env.ref("lead_scoring.ir_cron_lead_score_velocity", raise_if_not_found=False)
    if not cron or OLD_CODE not in (cron.code or ""):
        return
    cron.write(
        {
            "model_id": env["ir.model"]._get_id("lead.score.velocity"),
            "code": "model._cron_velocity()",
        }
    )
