# Copyright 2026 Lead Scoring contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import models

LEAD_SCORE_FIELDS = ("lead_score_operation", "lead_score_value", "lead_score_note")


class AutomationConfiguration(models.Model):
    _inherit = "automation.configuration"

    def _lead_score_vals(self, data):
        """The lead score settings of an exported step or server action."""
        vals = {name: data.get(name) for name in LEAD_SCORE_FIELDS}
        field_xmlid = data.get("lead_score_partner_field_id")
        vals["lead_score_partner_field_id"] = (
            field_xmlid and self.env.ref(field_xmlid).id
        )
        # A group unknown here: the default group.
        group_xmlid = data.get("lead_score_group_id")
        group = group_xmlid and self.env.ref(group_xmlid, raise_if_not_found=False)
        if group:
            vals["lead_score_group_id"] = group.id
        return vals

    def _create_server_action_vals(self, server_action_data):
        vals = super()._create_server_action_vals(server_action_data)
        if server_action_data.get("state") == "lead_score":
            vals.update(self._lead_score_vals(server_action_data))
        return vals

    def _create_step_vals(self, step_data, parent=False):
        vals = super()._create_step_vals(step_data, parent=parent)
        if step_data.get("step_type") == "lead_score":
            vals.update(self._lead_score_vals(step_data))
        return vals
