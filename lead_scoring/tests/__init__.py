from . import test_ledger
from . import test_tiers_and_views
from . import test_rules
from . import test_access
from . import test_ui
from . import test_reliability
from . import test_external_api
from . import test_record_lines
