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
HELP = "Leave 0 to use the points set in the Settings."


class MailingMailing(models.Model):
    _inherit = "mailing.mailing"

    lead_score_ignore = fields.Boolean(
        string="Do not score engagement",
        help="Opens, clicks, replies, bounces and unsubscriptions of this mailing "
        "do not change the recipients' lead score.",
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

    @api.constrains(*POINT_FIELDS)
    def _check_lead_score_points(self):
        for mailing in self:
            for field_name in POINT_FIELDS:
                if not 0 <= mailing[field_name] <= MAX_POINTS:
                    raise ValidationError(
                        _(
                            "%(field)s: between 0 and 1,000,000 points (0 uses the "
                            "points set in the Settings).",
                            field=self._fields[field_name].get_description(self.env)[
                                "string"
                            ],
                        )
                    )
