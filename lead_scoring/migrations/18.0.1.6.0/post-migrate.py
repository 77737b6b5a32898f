# Copyright 2026 Lead Scoring contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Velocity is written with the scores: the position that earlier versions
kept for it is removed."""

AFTER_RUN_PARAM = "lead_scoring.velocity_after_run"


def migrate(cr, version):
    if not version:
        return
    cr.execute("DELETE FROM ir_config_parameter WHERE key = %s", [AFTER_RUN_PARAM])
