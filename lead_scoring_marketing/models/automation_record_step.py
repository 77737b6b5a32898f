# Copyright 2026 Lead Scoring contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import _, models
from odoo.exceptions import UserError


class AutomationRecordStep(models.Model):
    _inherit = "automation.record.step"

    def _lead_score_idempotency_key(self):
        return f"automation.record.step:{self.id}"

    def _run_lead_score(self):
        """Update the score of the record's contact; run() records any error
        on the step. The idempotency key makes a re-run score once."""
        self.ensure_one()
        if self.is_test:
            # A test run of a campaign shows the path; it does not score.
            return True
        step = self.configuration_step_id
        record = self.record_id.resource_ref
        partner = self.env["lead.score.contact"]._contact_of(
            record, step.lead_score_partner_field_id.name
        )
        if not partner:
            raise UserError(
                _(
                    "%s does not point to a contact: no score to update.",
                    record.display_name,
                )
            )
        note = _(
            "Campaign %(campaign)s, step %(step)s",
            campaign=step.configuration_id.name,
            step=step.name,
        )
        if step.lead_score_note:
            note = f"{note}: {step.lead_score_note}"
        self.env["lead.score.operation"]._engine().create(
            {
                "partner_id": partner.id,
                "operation": step.lead_score_operation,
                "value": step.lead_score_value,
                "group_id": step.lead_score_group_id.id,
                "note": note,
                "source": "automation",
                "res_model": self._name,
                "res_id": self.id,
                "idempotency_key": self._lead_score_idempotency_key(),
            }
        )
        return True
