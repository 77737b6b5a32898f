# Copyright 2026 Lead Scoring contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, fields, models

from odoo.addons.lead_scoring.models.lead_score_operation import OPERATIONS


class LeadScoreActionMixin(models.AbstractModel):
    """What a scoring step does to the score: operation, points, note, and the
    field holding the contact when the records are not contacts.

    Models using it define ``_lead_score_type_field`` (the field whose value
    ``lead_score`` turns scoring on) and have a ``model_id``; they check their
    settings with :meth:`_check_lead_score_settings`.
    """

    _name = "lead.score.action.mixin"
    _description = "Lead Score Settings"
    _lead_score_type_field = None

    lead_score_operation = fields.Selection(
        OPERATIONS,
        string="Score operation",
        compute="_compute_lead_score_operation",
        readonly=False,
        store=True,
    )
    lead_score_value = fields.Integer(
        string="Points",
        compute="_compute_lead_score_value",
        readonly=False,
        store=True,
    )
    lead_score_group_id = fields.Many2one(
        "lead.score.group",
        string="Score group",
        compute="_compute_lead_score_group_id",
        readonly=False,
        store=True,
        ondelete="restrict",
    )
    lead_score_note = fields.Char(
        string="Score note",
        compute="_compute_lead_score_note",
        readonly=False,
        store=True,
        help="Recorded on each score operation.",
    )
    lead_score_partner_field_id = fields.Many2one(
        "ir.model.fields",
        string="Contact field",
        compute="_compute_lead_score_partner_field_id",
        readonly=False,
        store=True,
        ondelete="cascade",
        domain="[('model_id', '=', model_id), ('ttype', '=', 'many2one'),"
        " ('relation', '=', 'res.partner'), ('store', '=', True),"
        " ('company_dependent', '=', False)]",
        help="The field of the records that holds the contact whose score changes.",
    )

    def _is_lead_score(self):
        return self[self._lead_score_type_field] == "lead_score"

    # One compute per field: fields sharing a compute method are protected
    # together, so giving one of them at creation would leave the others empty.
    @api.depends(lambda self: [self._lead_score_type_field])
    def _compute_lead_score_operation(self):
        for record in self:
            if not record._is_lead_score():
                record.lead_score_operation = False
            elif not record.lead_score_operation:
                record.lead_score_operation = "add"

    @api.depends(lambda self: [self._lead_score_type_field])
    def _compute_lead_score_value(self):
        for record in self:
            if not record._is_lead_score():
                record.lead_score_value = 0
            elif not record.lead_score_value:
                record.lead_score_value = 10

    @api.depends(lambda self: [self._lead_score_type_field])
    def _compute_lead_score_group_id(self):
        default = self.env["lead.score.group"]._default_group()
        for record in self:
            if not record._is_lead_score():
                record.lead_score_group_id = False
            elif not record.lead_score_group_id:
                record.lead_score_group_id = default

    @api.depends(lambda self: [self._lead_score_type_field])
    def _compute_lead_score_note(self):
        self.filtered(
            lambda record: not record._is_lead_score()
        ).lead_score_note = False

    @api.depends(lambda self: [self._lead_score_type_field, "model_id"])
    def _compute_lead_score_partner_field_id(self):
        contact = self.env["lead.score.contact"]
        for record in self:
            if not record._is_lead_score() or record.model_id.model == "res.partner":
                record.lead_score_partner_field_id = False
            elif record.lead_score_partner_field_id.model_id != record.model_id:
                record.lead_score_partner_field_id = contact._default_contact_field(
                    record.model_id
                )

    def _check_lead_score_settings(self, label):
        """Refuse a model without a link to contacts, and bad points."""
        self.ensure_one()
        self.env["lead.score.contact"]._check_contact_field(
            self.model_id, self.lead_score_partner_field_id, label
        )
        self.env["lead.score.operation"]._check_vals(
            {
                "operation": self.lead_score_operation or "add",
                "value": self.lead_score_value,
                "source": "automation",
            }
        )
