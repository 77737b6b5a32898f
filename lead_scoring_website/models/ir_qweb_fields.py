# Copyright 2026 Lead Scoring contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from lxml import etree
from markupsafe import Markup

from odoo import api, models

from ..tools import SETTING_ATTRIBUTE, TOKEN_FIELD, add_lead_scoring_token


class IrQwebFieldHtml(models.AbstractModel):
    _inherit = "ir.qweb.field.html"

    @api.model
    def value_to_html(self, value, options):
        # Forms saved inside HTML fields (blog posts, event pages ...).
        res = super().value_to_html(value, options)
        if res and (SETTING_ATTRIBUTE in res or TOKEN_FIELD in res):
            # Parsed and serialized as website's own form signature does.
            body = etree.fromstring(f"<body>{res}</body>", etree.HTMLParser())[0]
            add_lead_scoring_token(body, self.sudo().env)
            res = Markup(etree.tostring(body, encoding="unicode", method="html")[6:-7])
        return res
