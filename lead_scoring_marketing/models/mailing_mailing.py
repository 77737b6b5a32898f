# Copyright 2026 Lead Scoring contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import _, api, fields, models
from odoo.exceptions import ValidationError

from odoo.addons.lead_scoring.models.lead_score_operation import MAX_POINTS

POINT_FIELDS = {
    "lead_score_open_points": "open",
    "lead_score_click_points": "click",
    "lead_score_reply_points": "reply",
    "lead_score_bounce_points": "bounce",
    "lead_score_unsubscribe_points": "unsubscribe",
}
HELP = "Counts when the mailing has its own points; 0 scores nothing."


class MailingMailing(models.Model):
    _inherit = "mailing.mailing"

    lead_score_ignore = fields.Boolean(
        string="Do not score engagement",
        help="Opens, clicks, replies, bounces and unsubscriptions of this mailing "
        "do not change the recipients' lead score.",
    )
    lead_score_group_id = fields.Many2one(
        "lead.score.group",
        string="Score group",
        default=lambda self: self.env["mailing.trace"]._lead_score_group(),
        ondelete="set null",
        help="The score group that this mailing's engagement points count in; "
        "empty: the one of the Email Marketing settings.",
    )
    lead_score_custom_points = fields.Boolean(
        string="Own points",
        help="Score this mailing's engagement with the points below rather than "
        "with those of the Email Marketing settings.",
    )
    lead_score_settings_points = fields.Char(
        string="Points from the Settings",
        compute="_compute_lead_score_settings_points",
    )
    lead_score_open_points = fields.Integer(string="Points per open", help=HELP)
    lead_score_click_points = fields.Integer(string="Points per click", help=HELP)
    lead_score_reply_points = fields.Integer(string="Points per reply", help=HELP)
    lead_score_bounce_points = fields.Integer(
        string="Points removed per bounce", help=HELP
    )
    lead_score_unsubscribe_points = fields.Integer(
        string="Points removed per unsubscription", help=HELP
    )

    @api.depends_context("lang")
    def _compute_lead_score_settings_points(self):
        points = self.env["mailing.trace"]._lead_score_default_points()
        text = _(
            "open +%(open)s, click +%(click)s, reply +%(reply)s, bounce -%(bounce)s, "
            "unsubscription -%(unsubscribe)s",
            **points,
        )
        self.lead_score_settings_points = text

    @api.onchange("lead_score_custom_points")
    def _onchange_lead_score_custom_points(self):
        # Own points start from the Settings' values, shown as such.
        if self.lead_score_custom_points and not any(self[f] for f in POINT_FIELDS):
            points = self.env["mailing.trace"]._lead_score_default_points()
            for field_name, kind in POINT_FIELDS.items():
                self[field_name] = points[kind]

    @api.constrains(*POINT_FIELDS)
    def _check_lead_score_points(self):
        for mailing in self:
            for field_name in POINT_FIELDS:
                if not 0 <= mailing[field_name] <= MAX_POINTS:
                    raise ValidationError(
                        _(
                            "%(field)s: between 0 and 1,000,000 points.",
                            field=self._fields[field_name].get_description(self.env)[
                                "string"
                            ],
                        )
                    )
