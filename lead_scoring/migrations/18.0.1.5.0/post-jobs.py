# Copyright 2026 Lead Scoring contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Decay, the compaction and the configuration recompute are services of
their own (lead.score.decay, lead.score.retention, lead.score.recompute):
their scheduled jobs, which the update leaves as the database has them
(noupdate), move onto those models, with the code that calls them there.

Their positions stay where they are: system parameters of the same keys and
format (lead_scoring.decay_pass, lead_scoring.compact_pass,
lead_scoring.recompute_after), which the services read and write through
lead.score.engine's saved positions. A recompute that the previous version
left to its rules job (before the recompute had a job of its own) is handed
to the recompute's job at once rather than at its next hourly call."""

from odoo import SUPERUSER_ID, api

# {job's XML id: (the service's model, the job's code)}
JOBS = {
    "lead_scoring.ir_cron_decay_scores": (
        "lead.score.decay",
        "model._cron_decay_scores()",
    ),
    "lead_scoring.ir_cron_compact_ledger": (
        "lead.score.retention",
        "model._cron_compact_ledger()",
    ),
    "lead_scoring.ir_cron_recompute_scores": (
        "lead.score.recompute",
        "model._cron_recompute_scores()",
    ),
}
RECOMPUTE_PARAM = "lead_scoring.recompute_after"


def migrate(cr, version):
    if not version:
        return
    env = api.Environment(cr, SUPERUSER_ID, {})
    for xmlid, (model, code) in JOBS.items():
        job = env.ref(xmlid, raise_if_not_found=False)
        if not job:
            continue
        # Through its server action: a cron worker running the job now holds
        # the job's row, on which ir.cron's write would fail.
        job.ir_actions_server_id.write(
            {"model_id": env["ir.model"]._get_id(model), "code": code}
        )
    cr.execute(
        "SELECT value FROM ir_config_parameter WHERE key = %s", [RECOMPUTE_PARAM]
    )
    row = cr.fetchone()
    if row and row[0]:
        job = env.ref("lead_scoring.ir_cron_recompute_scores", raise_if_not_found=False)
        if job:
            job._trigger()
