# Copyright 2026 Lead Scoring contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import _, api, fields, models
from odoo.exceptions import ValidationError

from odoo.addons.lead_scoring.models.lead_score_operation import MAX_POINTS

from .mailing_trace import ENGAGEMENT, GROUP_PARAM, POINTS_PARAM

POINT_FIELDS = {f"lead_score_mailing_{kind}_points": kind for kind in ENGAGEMENT}
# Not config_parameter fields: Odoo deletes the parameter of an integer setting
# saved as 0, and the job would then score the default points. These store
# every value, 0 included; only a database that never saved them scores the
# defaults.


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    lead_score_mailing_open_points = fields.Integer(
        string="Points per open",
        default=ENGAGEMENT["open"][1],
    )
    lead_score_mailing_click_points = fields.Integer(
        string="Points per click",
        default=ENGAGEMENT["click"][1],
    )
    lead_score_mailing_reply_points = fields.Integer(
        string="Points per reply",
        default=ENGAGEMENT["reply"][1],
    )
    lead_score_mailing_bounce_points = fields.Integer(
        string="Points removed per bounce",
        default=ENGAGEMENT["bounce"][1],
    )
    lead_score_mailing_unsubscribe_points = fields.Integer(
        string="Points removed per unsubscription",
        default=ENGAGEMENT["unsubscribe"][1],
    )

    lead_score_mailing_group_id = fields.Many2one(
        "lead.score.group",
        string="Engagement score group",
        config_parameter=GROUP_PARAM,
        help="The score group that email engagement points count in; empty: the "
        "default group.",
    )

    @api.model
    def get_values(self):
        res = super().get_values()
        points = self.env["mailing.trace"]._lead_score_default_points()
        res.update({name: points[kind] for name, kind in POINT_FIELDS.items()})
        return res

    def set_values(self):
        result = super().set_values()
        params = self.env["ir.config_parameter"].sudo()
        for name, kind in POINT_FIELDS.items():
            value = str(self[name])
            if params.get_param(POINTS_PARAM % kind) != value:
                params.set_param(POINTS_PARAM % kind, value)
        return result

    @api.constrains(*POINT_FIELDS)
    def _check_lead_score_mailing_points(self):
        for settings in self:
            for field_name in POINT_FIELDS:
                if not 0 <= settings[field_name] <= MAX_POINTS:
                    raise ValidationError(
                        _(
                            "Email marketing engagement: between 0 and 1,000,000 "
                            "points (0 scores nothing)."
                        )
                    )
