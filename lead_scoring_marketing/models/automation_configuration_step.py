# Copyright 2026 Lead Scoring contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import _, api, fields, models


class AutomationConfigurationStep(models.Model):
    _name = "automation.configuration.step"
    _inherit = ["automation.configuration.step", "lead.score.action.mixin"]
    _lead_score_type_field = "step_type"

    step_type = fields.Selection(
        selection_add=[("lead_score", "Update lead score")],
        ondelete={"lead_score": "cascade"},
    )

    @api.model
    def _step_icons(self):
        return {**super()._step_icons(), "lead_score": "fa fa-line-chart"}

    @api.constrains(
        "step_type",
        "lead_score_operation",
        "lead_score_value",
        "lead_score_partner_field_id",
        "configuration_id",
    )
    def _check_lead_score(self):
        for step in self.filtered(lambda step: step.step_type == "lead_score"):
            step._check_lead_score_settings(_("Step %s", step.name))

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
                    "lead_score_group_id": (
                        self.configuration_id._get_external_xmlid(
                            self.lead_score_group_id
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
                    "lead_score_group_id": (
                        self.configuration_id._get_external_xmlid(
                            server_action.lead_score_group_id
                        )
                    ),
                }
            )
        return data
