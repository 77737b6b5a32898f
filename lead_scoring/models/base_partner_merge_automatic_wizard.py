# Copyright 2026 Lead Scoring contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, models

from .res_partner import DROP_LEDGER_FIELDS


class MergePartnerAutomatic(models.TransientModel):
    _inherit = "base.partner.merge.automatic.wizard"

    @api.model
    def _update_foreign_keys(self, src_partners, dst_partner):
        # Odoo deletes the rows whose move clashes with a unique key: move the
        # score history first, so that no operation is lost.
        self.env["lead.score.merge"]._merge_ledgers(src_partners, dst_partner)
        return super()._update_foreign_keys(src_partners, dst_partner)

    @api.model
    def _update_values(self, src_partners, dst_partner):
        # Odoo copies the merged contacts' plain fields to the one that stays:
        # not the engine's, which follow the merged ledger.
        return super()._update_values(
            src_partners, dst_partner.with_context(**{DROP_LEDGER_FIELDS: True})
        )
