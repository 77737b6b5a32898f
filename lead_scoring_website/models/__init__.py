from . import lead_score_form_setting
from . import ir_ui_view
from . import ir_qweb_fields
from . import website_track
from . import website_visitor
from . import website_page
from . import lead_score_form_ip
from . import lead_score_rule
