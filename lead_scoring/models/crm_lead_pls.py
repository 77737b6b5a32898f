# Copyright 2026 Lead Scoring contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import models

from .crm_lead import SCORE_COPIES


class CrmLead(models.Model):
    _inherit = "crm.lead"

    def _pls_get_lead_pls_values(self, domain=None):
        """Odoo's predictive lead scoring may use the contact's tier or grade
        (see data/crm_lead_scoring_frequency_field_data.xml): a salesperson
        without Lead Scoring access saving a lead still gets its probability,
        which reads them lead by lead."""
        if not domain and set(SCORE_COPIES) & set(self._pls_get_safe_fields()):
            return super(CrmLead, self.sudo())._pls_get_lead_pls_values(domain)
        return super()._pls_get_lead_pls_values(domain)
