# Copyright 2026 Lead Scoring contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import _, api, fields, models
from odoo.exceptions import UserError

from ..models.lead_score_group import default_group
from ..models.lead_score_operation import MAX_CREATE_LINES, OPERATIONS

# Written set-based, this many contacts stay well within a worker's time
# limit; more is a job for a rule. It is also the most lines a person's
# create may record (one per contact).
MAX_CONTACTS = MAX_CREATE_LINES


class LeadScoreAdjust(models.TransientModel):
    """Add, remove or set points by hand, with a note saying why."""

    _name = "lead.score.adjust"
    _description = "Adjust Lead Score"

    partner_ids = fields.Many2many("res.partner", string="Contacts", required=True)
    operation = fields.Selection(OPERATIONS, required=True, default="add")
    value = fields.Integer(string="Points", required=True, default=10)
    note = fields.Text(string="Internal note", required=True)
    group_id = fields.Many2one(
        "lead.score.group",
        string="Score group",
        required=True,
        default=default_group,
        help="The score group whose score the points add to, remove from or set; "
        "the total score follows.",
    )
    group_count = fields.Integer(compute="_compute_group_count")
    partner_count = fields.Integer(compute="_compute_current_score")
    current_score = fields.Integer(
        string="Score in this group", compute="_compute_current_score"
    )
    total_score = fields.Integer(
        string="Total score",
        compute="_compute_current_score",
        help="The contact's score: the sum of its groups' scores, or the score of "
        "the group chosen as the total in the Settings.",
    )

    @api.depends("partner_ids", "group_id")
    def _compute_current_score(self):
        for wizard in self:
            wizard.partner_count = len(wizard.partner_ids)
            partner = wizard.partner_ids[:1]
            wizard.total_score = partner.lead_score
            # The score in the group that the points go to.
            wizard.current_score = sum(
                partner.lead_score_value_ids.filtered(
                    lambda v, wizard=wizard: v.group_id == wizard.group_id
                ).mapped("score")
            )

    # On a dialog being opened, the form computes only what depends on the
    # values it was given (its contacts and group): a count depending on
    # nothing would show 0 groups, and hide the group.
    @api.depends("partner_ids", "group_id")
    def _compute_group_count(self):
        self.group_count = self.env["lead.score.group"].search_count([])

    def action_apply(self):
        self.ensure_one()
        if len(self.partner_ids) > MAX_CONTACTS:
            # Formatted apart: an f-string within _() stops the extraction of
            # the file's terms.
            limit = format(MAX_CONTACTS, ",")
            selected = format(len(self.partner_ids), ",")
            raise UserError(
                _(
                    "Adjust at most %(max)s contacts at once (%(count)s selected): "
                    "select fewer, or score them with a rule.",
                    max=limit,
                    count=selected,
                )
            )
        self.env["lead.score.operation"].create(
            [
                {
                    "partner_id": partner.id,
                    "operation": self.operation,
                    "value": self.value,
                    "note": self.note,
                    "source": "manual",
                    "group_id": self.group_id.id,
                }
                for partner in self.partner_ids
            ]
        )
        return {"type": "ir.actions.act_window_close"}
