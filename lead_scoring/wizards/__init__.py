from . import lead_score_adjust
