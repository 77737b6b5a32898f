# Copyright 2026 Lead Scoring contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Email marketers are no longer Lead Scoring users by implication: they
keep what their work needs (score groups, tiers, and the contacts' score,
tier and grade), not the score history. The implication goes, and so does
the Lead Scoring User group of the marketers who are not Lead Scoring
managers: the implication gave it to them all, and a group given by hand
cannot be told apart (the log names them, for an administrator to give it
back where it was meant)."""

import logging

from odoo import SUPERUSER_ID, Command, api

_logger = logging.getLogger(__name__)


def migrate(cr, version):
    if not version:
        return
    # Archived users too: they would be scorers again once unarchived.
    env = api.Environment(cr, SUPERUSER_ID, {"active_test": False})
    marketers = env.ref("mass_mailing.group_mass_mailing_user")
    scorers = env.ref("lead_scoring.group_lead_scoring_user")
    managers = env.ref("lead_scoring.group_lead_scoring_manager")
    if scorers not in marketers.implied_ids:
        return
    marketers.write({"implied_ids": [Command.unlink(scorers.id)]})
    revoked = scorers.users & marketers.users
    revoked -= managers.users
    # Nor those whom another group still makes scorers.
    others = scorers.search(
        [("implied_ids", "in", scorers.ids), ("id", "!=", managers.id)]
    )
    revoked -= others.users
    if revoked:
        scorers.write({"users": [Command.unlink(user.id) for user in revoked]})
        _logger.info(
            "Lead Scoring User group taken from the email marketers who had it "
            "through their group: %s",
            ", ".join(revoked.mapped("login")),
        )
