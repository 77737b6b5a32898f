# Copyright 2026 Lead Scoring contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The favorite filter "Contacts with a score above 100" (score > 100) becomes
"Score at least 100" (score >= 100), as the contacts' filter of that name. Its
data is not updated (noupdate): the record changes here, where it still has
the values of the data file, and stays as it is where someone edited it."""

from odoo import SUPERUSER_ID, api

OLD_NAME = "Contacts with a score above 100"
OLD_DOMAIN = '[("lead_score", ">", 100)]'


def migrate(cr, version):
    if not version:
        return
    env = api.Environment(cr, SUPERUSER_ID, {})
    mailing_filter = env.ref(
        "lead_scoring_marketing.mailing_filter_score_above_100",
        raise_if_not_found=False,
    )
    if not mailing_filter:
        return
    vals = {}
    if mailing_filter.name == OLD_NAME:
        vals["name"] = "Score at least 100"
    if mailing_filter.mailing_domain == OLD_DOMAIN:
        vals["mailing_domain"] = '[("lead_score", ">=", 100)]'
    if vals:
        mailing_filter.write(vals)
