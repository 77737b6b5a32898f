from . import point_suggestion
from . import demo_history
