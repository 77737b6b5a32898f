from . import lead_score_rule
