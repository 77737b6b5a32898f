from . import test_form_setting
from . import test_form_scoring
from . import test_page_visits
from . import test_ui
from . import test_form_attacks
from . import test_form_concurrency
from . import test_form_security
from . import test_form_held
