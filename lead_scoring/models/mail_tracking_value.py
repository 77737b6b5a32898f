# Copyright 2026 Lead Scoring contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import json

from odoo import _, models

# The tier fields whose changes the chatter shows.
TIER_FIELDS = {("res.partner", "lead_score_tier_id")}
# The field under which a move's message lists the rules of the run that
# moved the score (see lead.score.chatter._lead_score_run_lines).
RUN_LINES_FIELD = ("res.partner", "lead_score_operation_ids")
# The type the chatter shows without the old value and its arrow
# (static/src/xml/chatter_run_lines.xml).
RUN_LINES_TYPE = "lead_score_run"


class MailTrackingValue(models.Model):
    _inherit = "mail.tracking.value"

    def _tracking_value_format_model(self, model):
        """A tier change shows the tiers' names in the reader's language: the
        message keeps them in the language of whoever moved the tier, most
        often the rule engine's scheduled job (in English). The tier ids
        stay in the message; a tier deleted since keeps its recorded name."""
        formatted = self._lead_score_format_run_lines(
            model, super()._tracking_value_format_model(model)
        )
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

    def _lead_score_run_lines(self, model):
        """These values that list a run's rules (see
        lead.score.chatter._lead_score_run_lines), with their parsed lines."""
        runs = {}
        for value in self:
            if (model, value.field_id.name) != RUN_LINES_FIELD:
                continue
            text = value.new_value_char or ""
            if not text.startswith("[["):
                continue
            try:
                runs[value.id] = json.loads(text)
            except ValueError:
                continue
        return runs

    def _lead_score_format_run_lines(self, model, formatted):
        """A run's rules read in the reader's language, each with its points:
        "Visited the pricing page +20 · Opportunity created +10 (x2)"."""
        runs = self._lead_score_run_lines(model)
        if not runs:
            return formatted
        lang = self.env.lang or "en_US"
        sources = dict(
            self.env["lead.score.operation"]
            ._fields["source"]
            ._description_selection(self.env)
        )
        for info in formatted:
            lines = runs.get(info["id"])
            if lines is None:
                continue
            parts = []
            for name, source, points, count, is_set in lines:
                if isinstance(name, dict) and name:
                    title = (
                        name.get(lang) or name.get("en_US") or next(iter(name.values()))
                    )
                else:
                    title = sources.get(source, source)
                part = f"{title} = {points}" if is_set else f"{title} {points:+d}"
                if count > 1:
                    part += f" (x{count})"
                parts.append(part)
            info["changedField"] = _("Rule run")
            info["fieldType"] = RUN_LINES_TYPE
            info["oldValue"]["value"] = ""
            info["newValue"]["value"] = " · ".join(parts)
        return formatted
