# Copyright 2026 Lead Scoring contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from ast import literal_eval

from odoo import _, api, fields, models
from odoo.exceptions import UserError


class LeadScoreSuggestionLine(models.TransientModel):
    """One rule's suggested points, or one candidate rule on a contact
    field's value."""

    _name = "lead.score.suggestion.line"
    _description = "Suggested Points Line"
    _order = "kind desc, support desc, id"

    suggestion_id = fields.Many2one(
        "lead.score.suggestion", required=True, ondelete="cascade", index=True
    )
    kind = fields.Selection(
        [("rule", "Rule"), ("candidate", "Candidate rule")], required=True
    )
    name = fields.Char(string="Rule", readonly=True)
    rule_id = fields.Many2one(
        "lead.score.rule", string="Scoring rule", readonly=True, ondelete="cascade"
    )
    field_id = fields.Many2one("ir.model.fields", readonly=True, ondelete="cascade")
    value = fields.Char(readonly=True)
    current_points = fields.Integer(string="Points today", readonly=True)
    has_suggestion = fields.Boolean(readonly=True)
    suggested_points = fields.Integer(string="Suggested points", readonly=True)
    change = fields.Integer(compute="_compute_change")
    support = fields.Integer(
        string="Opportunities",
        readonly=True,
        help="Opportunities (among those the fit learned from) whose contact "
        "the rule had scored, or had this value, when they were created.",
    )
    won_count = fields.Integer(string="Won", readonly=True)
    won_rate = fields.Float(
        string="Won rate (%)", digits=(16, 1), compute="_compute_change"
    )
    note = fields.Char(readonly=True)
    selected = fields.Boolean(string="Apply")
    applied = fields.Boolean(readonly=True)
    created_rule_id = fields.Many2one(
        "lead.score.rule", string="Created rule", readonly=True, ondelete="set null"
    )

    @api.depends("suggested_points", "current_points", "support", "won_count")
    def _compute_change(self):
        for line in self:
            line.change = line.suggested_points - line.current_points
            line.won_rate = 100 * line.won_count / line.support if line.support else 0

    def action_create_rule(self):
        """A real rule for this candidate value, archived: its form shows what
        it would score before a manager activates it."""
        self.ensure_one()
        self.suggestion_id._check_manager()
        if self.kind != "candidate" or not self.field_id:
            raise UserError(_("Only a candidate rule can be created."))
        if not self.created_rule_id:
            value = literal_eval(self.value)
            field = self.field_id
            if field.ttype == "many2many":
                domain = [(field.name, "in", [value])]
            elif field.ttype == "char":
                domain = [(field.name, "=ilike", value)]
            else:
                domain = [(field.name, "=", value)]
            points = self.suggested_points
            self.created_rule_id = self.env["lead.score.rule"].create(
                {
                    "name": self.name,
                    "active": False,
                    "condition_type": "contact",
                    "domain": repr(domain),
                    "operation": "remove" if points < 0 else "add",
                    "value": abs(points),
                }
            )
        return {
            "type": "ir.actions.act_window",
            "res_model": "lead.score.rule",
            "res_id": self.created_rule_id.id,
            "view_mode": "form",
            "target": "current",
        }
