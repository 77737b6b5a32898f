# Copyright 2026 Lead Scoring contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import _, api, fields, models

from odoo.addons.lead_scoring.models.lead_score_operation import OPERATIONS


class AutomationConfigurationStep(models.Model):
    _inherit = "automation.configuration.step"

    step_type = fields.Selection(
        selection_add=[("lead_score", "Update lead score")],
        ondelete={"lead_score": "cascade"},
    )
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
    lead_score_note = fields.Char(
        string="Score note",
        compute="_compute_lead_score_note",
        readonly=False,
        store=True,
        help="Added to the note of each score operation, after the campaign "
        "and step names.",
    )
    lead_score_partner_field_id = fields.Many2one(
        "ir.model.fields",
        string="Contact field",
        compute="_compute_lead_score_partner_field_id",
        readonly=False,
        store=True,
        ondelete="cascade",
        domain="[('model_id', '=', model_id), ('ttype', '=', 'many2one'),"
        " ('relation', '=', 'res.partner'), ('store', '=', True)]",
        help="The field of the campaign's records that holds the contact whose "
        "score changes.",
    )

    @api.model
    def _step_icons(self):
        return {**super()._step_icons(), "lead_score": "fa fa-line-chart"}

    # One compute per field: fields sharing a compute method are protected
    # together, so giving one of them at creation would leave the others empty.
    @api.depends("step_type")
    def _compute_lead_score_operation(self):
        for step in self:
            if step.step_type != "lead_score":
                step.lead_score_operation = False
            elif not step.lead_score_operation:
                step.lead_score_operation = "add"

    @api.depends("step_type")
    def _compute_lead_score_value(self):
        for step in self:
            if step.step_type != "lead_score":
                step.lead_score_value = 0
            elif not step.lead_score_value:
                step.lead_score_value = 10

    @api.depends("step_type")
    def _compute_lead_score_note(self):
        self.filtered(
            lambda step: step.step_type != "lead_score"
        ).lead_score_note = False

    @api.depends("step_type", "model_id")
    def _compute_lead_score_partner_field_id(self):
        target = self.env["lead.score.target"]
        for step in self:
            if step.step_type != "lead_score" or step.model == "res.partner":
                step.lead_score_partner_field_id = False
            elif step.lead_score_partner_field_id.model_id != step.model_id:
                step.lead_score_partner_field_id = target._default_contact_field(
                    step.model_id
                )

    @api.constrains(
        "step_type",
        "lead_score_operation",
        "lead_score_value",
        "lead_score_partner_field_id",
        "configuration_id",
    )
    def _check_lead_score(self):
        target = self.env["lead.score.target"]
        for step in self.filtered(lambda step: step.step_type == "lead_score"):
            target._check_contact_field(
                step.model_id, step.lead_score_partner_field_id, _("Step %s", step.name)
            )
            self.env["lead.score.operation"]._check_vals(
                {
                    "operation": step.lead_score_operation or "add",
                    "value": step.lead_score_value,
                    "source": "automation",
                }
            )

    def _export_step(self, extra_data):
        data = super()._export_step(extra_data)
        if self.step_type == "lead_score":
            data.update(
                {
                    "lead_score_operation": self.lead_score_operation,
                    "lead_score_value": self.lead_score_value,
                    "lead_score_note": self.lead_score_note,
                    "lead_score_partner_field_id": (
                        self.configuration_id._get_external_xmlid(
                            self.lead_score_partner_field_id
                        )
                    ),
                }
            )
        return data

    def _export_server_action_values(self, server_action):
        data = super()._export_server_action_values(server_action)
        if server_action.state == "lead_score":
            data.update(
                {
                    "lead_score_operation": server_action.lead_score_operation,
                    "lead_score_value": server_action.lead_score_value,
                    "lead_score_note": server_action.lead_score_note,
                    "lead_score_partner_field_id": (
                        self.configuration_id._get_external_xmlid(
                            server_action.lead_score_partner_field_id
                        )
                    ),
                }
            )
        return data
