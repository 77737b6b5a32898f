# Copyright 2026 Lead Scoring contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import _, api, fields, models
from odoo.exceptions import AccessError, UserError

MANAGER_GROUP = "lead_scoring.group_lead_scoring_manager"


class LeadScoreErase(models.TransientModel):
    """Erase contacts' score history on their request (GDPR): a manager
    deletes all their score operations at once, and each contact's chatter
    says who erased how many (not what: that is what the person asked to
    forget)."""

    _name = "lead.score.erase"
    _description = "Erase Score History"

    partner_ids = fields.Many2many("res.partner", string="Contacts", required=True)
    operation_count = fields.Integer(
        string="Operations", compute="_compute_operation_count"
    )
    confirm = fields.Boolean(string="I understand that this cannot be undone")

    @api.depends("partner_ids")
    @api.depends_context("uid")
    def _compute_operation_count(self):
        # Anyone may compute it (an onchange needs no access right): a count
        # of score lines for managers only, of the contacts they may read,
        # all of whose lines the erasure deletes.
        self.operation_count = 0
        if not self.env.su and not self.env.user.has_group(MANAGER_GROUP):
            return
        operations = self.env["lead.score.operation"].sudo()
        for wizard in self:
            readable = wizard.partner_ids._origin._filtered_access("read")
            wizard.operation_count = operations.search_count(
                [("partner_id", "in", readable.ids)]
            )

    def action_erase(self):
        self.ensure_one()
        if not self.env.user.has_group(MANAGER_GROUP):
            raise AccessError(
                _("Only Lead Scoring managers can erase a score history.")
            )
        if not self.confirm:
            raise UserError(_("Tick the confirmation to erase the score history."))
        self.env["lead.score.operation"]._erase_ledgers(self.partner_ids)
        return {"type": "ir.actions.act_window_close"}
