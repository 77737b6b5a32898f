from . import models


def uninstall_hook(env):
    """Email marketers got the Lead Scoring User group through this addon's
    implication on their group; it goes with the addon. So do the indexes it
    added to mailing_trace, a table that stays."""
    env.cr.execute("DROP INDEX IF EXISTS mailing_trace_write_date_idx")
    env.cr.execute("DROP INDEX IF EXISTS mailing_trace_email_idx")
    marketers = env.ref("mass_mailing.group_mass_mailing_user")
    marketers.implied_ids -= env.ref("lead_scoring.group_lead_scoring_user")
