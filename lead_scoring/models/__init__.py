from . import lead_score_contact
from . import lead_score_engine_write
from . import lead_score_operation
from . import lead_score_tier
from . import lead_score_rule
from . import res_partner
from . import crm_lead
from . import base_partner_merge_automatic_wizard
