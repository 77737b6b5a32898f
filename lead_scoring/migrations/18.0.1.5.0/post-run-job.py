# Copyright 2026 Lead Scoring contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The scheduled job of the rules is the run service's (lead.score.run), no
longer the rule model's. Its record is noupdate: the update leaves it as it
was, so it is repointed here, whatever else was changed on it (its interval,
whether it is active) left alone."""

from odoo import SUPERUSER_ID, api


def migrate(cr, version):
    if not version:
        return
    env = api.Environment(cr, SUPERUSER_ID, {})
    cron = env.ref("lead_scoring.ir_cron_apply_rules", raise_if_not_found=False)
    if not cron:
        return
    cron.write(
        {
            "model_id": env["ir.model"]._get_id("lead.score.run"),
            "code": "model._cron_apply_rules()",
        }
    )
