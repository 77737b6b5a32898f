from . import test_server_action
from . import test_automation_step
from . import test_mailing_engagement
from . import test_audience
from . import test_act_on_score
from . import test_security_marketing
from . import test_routing
