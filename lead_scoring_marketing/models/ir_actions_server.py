# Copyright 2026 Lead Scoring contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""A server action type "Update lead score", following the sms addon's
pattern: it runs wherever Odoo runs server actions (automation rules, the
Action menu of lists, automation_oca's server action steps)."""

import logging

from odoo import _, api, fields, models
from odoo.exceptions import AccessError, ValidationError

_logger = logging.getLogger(__name__)

# The score fields that a webhook may send, though a group restricts them.
WEBHOOK_SCORE_FIELDS = {
    "res.partner": {
        "lead_score",
        "lead_score_tier_id",
        "lead_score_grade",
        "lead_score_company",
    },
    "crm.lead": {
        "partner_lead_score",
        "partner_lead_score_tier_id",
        "partner_lead_score_grade",
        "partner_company_score",
    },
}


class IrActionsServer(models.Model):
    _name = "ir.actions.server"
    _inherit = ["ir.actions.server", "lead.score.action.mixin"]
    _lead_score_type_field = "state"

    state = fields.Selection(
        selection_add=[("lead_score", "Update lead score")],
        ondelete={"lead_score": "cascade"},
    )

    @api.depends("state")
    def _compute_available_model_ids(self):
        result = super()._compute_available_model_ids()
        scoring = self.filtered(lambda action: action.state == "lead_score")
        if scoring:
            scorable = self.env["lead.score.contact"]._scorable_models()
            for action in scoring:
                action.available_model_ids = action.available_model_ids & scorable
        return result

    @api.constrains(
        "state",
        "model_id",
        "lead_score_partner_field_id",
        "lead_score_operation",
        "lead_score_value",
    )
    def _check_lead_score(self):
        for action in self.filtered(lambda action: action.state == "lead_score"):
            action._check_lead_score_settings(_("Action %s", action.name))

    @api.constrains("webhook_field_ids")
    def _check_webhook_field_ids(self):
        """Odoo refuses group-restricted fields in a webhook's payload; telling
        another system of a contact's new tier or score is what a webhook on a
        tier change is for. Only administrators configure server actions, and
        automation rules run them as superuser, who reads these fields; a user
        running one by hand still needs the Lead Scoring group to read them.
        Every other restricted field stays refused, as Odoo refuses it."""
        restricted = {}
        for action in self:
            Model = self.env[action.model_id.model]
            allowed = WEBHOOK_SCORE_FIELDS.get(Model._name, set())
            for model_field in action.webhook_field_ids:
                field = Model._fields[model_field.name]
                if field.groups and field.name not in allowed:
                    restricted.setdefault(action.name, []).append(
                        model_field.field_description
                    )
        if restricted:
            raise ValidationError(
                _(
                    "A webhook cannot send fields restricted to some groups, other "
                    "than the lead score, tier and grade: remove these fields from "
                    "these actions' payload:\n%s",
                    "\n".join(
                        f"{name}: {', '.join(labels)}"
                        for name, labels in restricted.items()
                    ),
                )
            )

    def _lead_score_actions(self):
        """These actions and the ones they run (multi actions), scoring ones."""
        actions = seen = self.browse()
        todo = self.sudo()
        while todo:
            seen |= todo
            actions |= todo.filtered(lambda action: action.state == "lead_score")
            todo = todo.filtered(lambda action: action.state == "multi").child_ids
            todo -= seen
        return actions

    def run(self):
        # The scoring runs with the engine's rights: write access to the records
        # is not enough to change scores. Automation rules and campaigns run
        # their actions as superuser; a user running one needs the group.
        if (
            not self.env.su
            and not self.env.user.has_group("lead_scoring.group_lead_scoring_user")
            and self._lead_score_actions()
        ):
            raise AccessError(
                _("Only Lead Scoring users can run an action that updates scores.")
            )
        return super().run()

    def _run_action_lead_score_multi(self, eval_context=None):
        eval_context = eval_context or {}
        records = eval_context.get("records") or eval_context.get("record")
        if not records:
            return False
        self._lead_score_records(records)
        return False

    def _lead_score_records(self, records):
        """Record one score operation per record, for the contact it points to.

        Records without an active contact are skipped: an automation rule on
        leads must not block saving a lead whose contact is archived.
        """
        self.ensure_one()
        contact = self.env["lead.score.contact"]
        field_name = self.lead_score_partner_field_id.name
        note = self.lead_score_note or self.name
        vals_list = []
        for record in records:
            partner = contact._contact_of(record, field_name)
            if not partner.active:
                _logger.debug(
                    "Action %s: %s has no active contact, not scored", self.name, record
                )
                continue
            vals_list.append(
                {
                    "partner_id": partner.id,
                    "operation": self.lead_score_operation,
                    "value": self.lead_score_value,
                    "group_id": self.lead_score_group_id.id,
                    "note": note,
                    "source": "automation",
                    "res_model": record._name,
                    "res_id": record.id,
                }
            )
        # Running the action requires the Lead Scoring User group or superuser
        # (see run()); the action, set up by an administrator, sets the points.
        return self.env["lead.score.operation"]._engine().create(vals_list)
