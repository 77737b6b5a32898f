from . import models


def uninstall_hook(env):
    """The indexes this addon added to mailing_trace, a table that stays,
    go with it; so does the implication of the Lead Scoring User group that
    versions before 18.0.1.2.0 gave email marketers (a database not upgraded
    since)."""
    env.cr.execute("DROP INDEX IF EXISTS mailing_trace_write_date_idx")
    env.cr.execute("DROP INDEX IF EXISTS mailing_trace_email_idx")
    marketers = env.ref("mass_mailing.group_mass_mailing_user")
    marketers.implied_ids -= env.ref("lead_scoring.group_lead_scoring_user")
