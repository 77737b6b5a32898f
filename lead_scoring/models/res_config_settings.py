# Copyright 2026 Lead Scoring contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import _, api, fields, models
from odoo.exceptions import ValidationError

from .lead_score_group import TOTAL_GROUP_PARAM

# Retention: the lines older than this many days (empty or 0 for never) are
# compacted by the daily job, which says here what it did last.
COMPACT_DAYS_PARAM = "lead_scoring.compact_after_days"
COMPACT_LAST_PARAM = "lead_scoring.compact_last_run"
# Ten years, the longest a rule's points last before they expire: more is a
# typing error.
MAX_COMPACT_DAYS = 3650
# Formatted outside _(), whose arguments the extraction of terms reads.
MAX_COMPACT_DAYS_TEXT = f"{MAX_COMPACT_DAYS:,}"


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    lead_score_compact_days = fields.Integer(
        string="Compact score history older than (days)",
        config_parameter=COMPACT_DAYS_PARAM,
        help="Every day, a contact's score operations older than this are folded "
        "into one carried-forward line; the score does not change. Empty or 0: "
        "never.",
    )
    lead_score_total_group_id = fields.Many2one(
        "lead.score.group",
        string="Total score",
        help="Empty: a contact's score is the sum of its groups' scores. A group: "
        "the score is that group's.",
    )
    lead_score_grade_fit_group_id = fields.Many2one(
        "lead.score.group",
        string="Fit group (letter)",
        help="The group whose tiers give the grade's letter: its highest tier is A, "
        "the next B ...; a contact in none of its tiers gets the letter after.",
    )
    lead_score_grade_engagement_group_id = fields.Many2one(
        "lead.score.group",
        string="Engagement group (digit)",
        help="The group whose tiers give the grade's digit: its highest tier is 1, "
        "the next 2 ...; a contact in none of its tiers gets the digit after.",
    )
    lead_score_compact_last_run = fields.Char(
        string="Last compaction", compute="_compute_lead_score_compact_last_run"
    )

    @api.constrains("lead_score_compact_days")
    def _check_lead_score_compact_days(self):
        for settings in self:
            if not 0 <= settings.lead_score_compact_days <= MAX_COMPACT_DAYS:
                raise ValidationError(
                    _(
                        "Compact the score history of operations older than 1 to "
                        "%(max)s days, or 0 to never compact it (%(days)s days "
                        "given).",
                        max=MAX_COMPACT_DAYS_TEXT,
                        days=settings.lead_score_compact_days,
                    )
                )

    @api.model
    def get_values(self):
        res = super().get_values()
        groups = self.env["lead.score.group"]
        res["lead_score_total_group_id"] = groups._total_group().id
        fit, engagement = groups._grade_groups()
        res["lead_score_grade_fit_group_id"] = fit.id
        res["lead_score_grade_engagement_group_id"] = engagement.id
        return res

    def set_values(self):
        result = super().set_values()
        total_group = self.env["lead.score.group"]._total_group()
        if self.lead_score_total_group_id != total_group:
            # What is computed from the total (velocity) first: computed while
            # the parameter is written, it would cache the old total.
            self.env.flush_all()
            self.env["ir.config_parameter"].sudo().set_param(
                TOTAL_GROUP_PARAM, self.lead_score_total_group_id.id or False
            )
            # The search views' presets rank the total by its group's tiers.
            self.env.registry.clear_cache("templates")
            self.env["lead.score.recompute"]._recompute_all()
        fit = self.lead_score_grade_fit_group_id
        engagement = self.lead_score_grade_engagement_group_id
        if (fit, engagement) != self.env["lead.score.group"]._grade_groups():
            self.env["lead.score.group"]._set_grade_groups(fit.id, engagement.id)
        return result

    @api.depends("lead_score_compact_days")
    def _compute_lead_score_compact_last_run(self):
        last = self.env["ir.config_parameter"].sudo().get_param(COMPACT_LAST_PARAM)
        text = _("Never")
        if last:
            date, folded, carried = last.split("|")
            text = _(
                "%(date)s: %(folded)s operations folded into %(carried)s lines",
                date=date,
                folded=folded,
                carried=carried,
            )
        for settings in self:
            settings.lead_score_compact_last_run = text
