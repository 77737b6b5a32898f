# The scoring engine: what applies rules and keeps scores on a live database
# (docs/engine.md). The records it works on are in models/.
from . import control
from . import ledger
from . import rule_run
from . import score_refresh
from . import score_writer
from . import chatter_log
from . import recompute
from . import decay
from . import retention
from . import merge
from . import point_suggestion
from . import demo_history
from . import realtime
from . import velocity
