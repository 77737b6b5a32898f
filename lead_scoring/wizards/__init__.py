from . import lead_score_adjust
from . import lead_score_quality
from . import lead_score_quality_line
from . import lead_score_erase
from . import lead_score_suggestion
from . import lead_score_suggestion_line
from . import lead_score_quality_suggest
