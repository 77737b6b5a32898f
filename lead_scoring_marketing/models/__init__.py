from . import lead_score_target
from . import ir_actions_server
from . import automation_configuration_step
from . import automation_record_step
from . import automation_configuration
from . import mailing_mailing
from . import mailing_trace
from . import res_config_settings
