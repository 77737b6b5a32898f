from . import point_suggestion
