# Copyright 2026 Lead Scoring contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import models

from ..tools import add_lead_scoring_token


class IrUiView(models.Model):
    _inherit = "ir.ui.view"

    def _get_combined_arch(self):
        # Same hook as website's form signature: pages are signed as rendered.
        root = super()._get_combined_arch()
        add_lead_scoring_token(root, self.sudo().env)
        return root
