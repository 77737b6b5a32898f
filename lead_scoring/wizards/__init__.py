from . import lead_score_adjust
from . import lead_score_quality
from . import lead_score_quality_line
from . import lead_score_erase
