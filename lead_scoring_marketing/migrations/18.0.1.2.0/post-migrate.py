# Copyright 2026 Lead Scoring contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Upgrade to 18.0.1.2.0.

Email marketers are no longer Lead Scoring users by implication: they keep
what their work needs (score groups, tiers, and the contacts' score, tier and
grade), not the score history. The implication goes, and so does the Lead
Scoring User group of the marketers who are not Lead Scoring managers: the
implication gave it to them all, and a group given by hand cannot be told
apart (the log names them, for an administrator to give it back where it was
meant).

The favorite filter "Contacts with a score above 100" (score > 100) becomes
"Score at least 100" (score >= 100), as the contacts' filter of that name. Its
data is not updated (noupdate): the record changes here, where it still has
the values of the data file, and stays as it is where someone edited it."""

import logging

from odoo import SUPERUSER_ID, Command, api

_logger = logging.getLogger(__name__)

OLD_FILTER_NAME = "Contacts with a score above 100"
OLD_FILTER_DOMAIN = '[("lead_score", ">", 100)]'


def migrate(cr, version):
    if not version:
        return
    # Archived users too: they would be scorers again once unarchived.
    env = api.Environment(cr, SUPERUSER_ID, {"active_test": False})
    _remove_marketers_implication(env)
    _score_filter_at_least_100(env)


def _remove_marketers_implication(env):
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


def _score_filter_at_least_100(env):
    mailing_filter = env.ref(
        "lead_scoring_marketing.mailing_filter_score_above_100",
        raise_if_not_found=False,
    )
    if not mailing_filter:
        return
    vals = {}
    if mailing_filter.name == OLD_FILTER_NAME:
        vals["name"] = "Score at least 100"
    if mailing_filter.mailing_domain == OLD_FILTER_DOMAIN:
        vals["mailing_domain"] = '[("lead_score", ">=", 100)]'
    if vals:
        mailing_filter.write(vals)
