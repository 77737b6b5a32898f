from . import models
from . import engine
from . import wizards


def uninstall_hook(env):
    """Drop the indexes added to a table that stays."""
    env.cr.execute("DROP INDEX IF EXISTS res_partner_lead_scoring_written_idx")
    env.cr.execute("DROP STATISTICS IF EXISTS res_partner_lead_scoring_changed_stat")
    env.cr.execute("DROP INDEX IF EXISTS res_partner_lead_scoring_email_idx")
