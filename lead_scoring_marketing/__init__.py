from . import models


def uninstall_hook(env):
    """Email marketers got the Lead Scoring User group through this addon's
    implication on their group; it goes with the addon."""
    marketers = env.ref("mass_mailing.group_mass_mailing_user")
    marketers.implied_ids -= env.ref("lead_scoring.group_lead_scoring_user")
