from . import lead_score_rule
from . import lead_score_run
