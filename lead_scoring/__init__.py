from . import models
from . import wizards


def uninstall_hook(env):
    """Drop the index added to a table that stays."""
    env.cr.execute("DROP INDEX IF EXISTS res_partner_lead_scoring_write_date_idx")
