# Copyright 2026 Lead Scoring contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import models

# The tier fields whose changes the chatter shows.
TIER_FIELDS = {("res.partner", "lead_score_tier_id")}


class MailTrackingValue(models.Model):
    _inherit = "mail.tracking.value"

    def _tracking_value_format_model(self, model):
        """A tier change shows the tiers' names in the reader's language: the
        message keeps them in the language of whoever moved the tier, most
        often the rule engine's scheduled job (in English). The tier ids
        stay in the message; a tier deleted since keeps its recorded name."""
        formatted = super()._tracking_value_format_model(model)
        tier_values = self.filtered(
            lambda value: (model, value.field_id.name) in TIER_FIELDS
        )
        if not tier_values:
            return formatted
        by_id = {value.id: value for value in tier_values}
        tiers = (
            self.env["lead.score.tier"]
            .sudo()
            .with_context(active_test=False)
            .browse(
                {
                    tier_id
                    for value in tier_values
                    for tier_id in (value.old_value_integer, value.new_value_integer)
                    if tier_id
                }
            )
            .exists()
        )
        names = {tier.id: tier.name for tier in tiers}
        for info in formatted:
            value = by_id.get(info["id"])
            if not value:
                continue
            for key, tier_id in (
                ("oldValue", value.old_value_integer),
                ("newValue", value.new_value_integer),
            ):
                if tier_id in names:
                    info[key]["value"] = names[tier_id]
        return formatted
