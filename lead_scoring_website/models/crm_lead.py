# Copyright 2026 Lead Scoring contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import _, api, fields, models
from odoo.exceptions import UserError

from ..tools import LINK_CONTEXT


class CrmLead(models.Model):
    _inherit = "crm.lead"

    lead_score_typed_partner = fields.Boolean(
        string="Contact found by a typed email",
        readonly=True,
        copy=False,
        help="A website form linked this lead to the existing contact with the "
        "email the visitor typed, which anyone can type: the lead keeps what the "
        "visitor typed and does not update the contact. Choosing the contact "
        "again makes the lead follow it as usual.",
    )
    lead_score_held = fields.Boolean(
        string="Scoring held",
        compute="_compute_lead_score_held",
        search="_search_lead_score_held",
        help="Too many website forms came from the network address of this "
        "lead's submission within an hour: its contact and score wait. They "
        "follow by themselves once the address is quiet, or now with Score now.",
    )

    def _compute_lead_score_held(self):
        # A lead being edited in a form is a new record: its origin is held.
        origin_ids = [lead._origin.id for lead in self if lead._origin.id]
        held = self.env["lead.score.form.held"].sudo()._held_ids(self._name, origin_ids)
        for lead in self:
            lead.lead_score_held = lead._origin.id in held

    def _search_lead_score_held(self, operator, value):
        if operator not in ("=", "!=") or not isinstance(value, bool):
            raise UserError(_("Unsupported search on the held scoring."))
        held = list(self.env["lead.score.form.held"].sudo()._held_ids(self._name))
        positive = (operator == "=") == value
        return [("id", "in" if positive else "not in", held)]

    def action_lead_score_release_held(self):
        """Score the held website submissions of these leads now, as their
        form would have: once (a second click finds nothing held)."""
        self.check_access("write")
        held = (
            self.env["lead.score.form.held"]
            .sudo()
            .search([("res_model", "=", self._name), ("res_id", "in", self.ids)])
        )
        held._release()
        return True

    def unlink(self):
        # A deleted lead's held submission (what the visitor typed) goes
        # with it.
        self.env["lead.score.form.held"].sudo().search(
            [("res_model", "=", self._name), ("res_id", "in", self.ids)]
        ).unlink()
        return super().unlink()

    # ------------------------------------------------------------------
    # A contact found by a typed email is never updated from the lead
    # ------------------------------------------------------------------
    @api.depends("lead_score_typed_partner")
    def _compute_partner_email_update(self):
        return super()._compute_partner_email_update()

    @api.depends("lead_score_typed_partner")
    def _compute_partner_phone_update(self):
        return super()._compute_partner_phone_update()

    def _get_partner_email_update(self, force_void=True):
        if self.lead_score_typed_partner:
            return False
        return super()._get_partner_email_update(force_void=force_void)

    def _get_partner_phone_update(self, force_void=True):
        if self.lead_score_typed_partner:
            return False
        return super()._get_partner_phone_update(force_void=force_void)

    def write(self, vals):
        # A contact chosen by a person (or a lead converted to an existing
        # customer) is synced as Odoo does.
        if "partner_id" in vals and not self.env.context.get(LINK_CONTEXT):
            vals = dict(vals, lead_score_typed_partner=False)
        return super().write(vals)
