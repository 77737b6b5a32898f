# Copyright 2026 Lead Scoring contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Suggested points: what the won and lost deals say each rule is worth,
shown with its effect on deals the fit did not see before a manager applies
it (see engine/point_suggestion.py)."""

import logging
from datetime import timedelta

from odoo import Command, api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError

from ..engine.point_suggestion import (
    CANDIDATE_TYPES,
    REWEIGHT_KEY,
    signed_points,
)
from ..models.lead_score_rule import MANAGER_GROUP

_logger = logging.getLogger(__name__)


class LeadScoreSuggestion(models.TransientModel):
    _name = "lead.score.suggestion"
    _description = "Suggested Points"

    date_from = fields.Date(
        string="Created from",
        required=True,
        default=lambda self: fields.Date.context_today(self) - timedelta(days=365),
    )
    date_to = fields.Date(
        string="Created until", required=True, default=fields.Date.context_today
    )
    team_ids = fields.Many2many(
        "crm.team",
        string="Sales teams",
        help="Only the opportunities of these teams; all teams when empty.",
    )
    min_sample = fields.Integer(
        string="Minimum sample",
        required=True,
        default=30,
        help="A rule gets a suggestion only if it had scored at least this many "
        "of the opportunities' contacts, with a third as many won and as many "
        "lost among them.",
    )
    candidate_field_ids = fields.Many2many(
        "ir.model.fields",
        string="Candidate fields",
        domain=[
            ("model", "=", "res.partner"),
            ("store", "=", True),
            ("company_dependent", "=", False),
            ("ttype", "in", CANDIDATE_TYPES),
        ],
        help="Contact fields whose values may make new rules, e.g. Country, "
        "Industry or Tags (their values today: contacts keep no history of them).",
    )
    revalue = fields.Boolean(
        string="Re-value the points already scored",
        default=True,
        help="Applying also gives the contacts that a rule has scored its new "
        "points, through one ledger line each (Rule 'X' re-weighted 10 -> 25), "
        "so that today's contacts are ranked again. Unticked: only the lines "
        "to come get the new points.",
    )
    computed = fields.Boolean(readonly=True)
    message = fields.Char(readonly=True)
    train_count = fields.Integer(string="Learned from", readonly=True)
    test_count = fields.Integer(string="Measured on", readonly=True)
    has_auc = fields.Boolean(readonly=True)
    auc_before = fields.Float(
        string="ROC AUC today",
        digits=(16, 3),
        readonly=True,
        help="On the newest opportunities, which the fit did not see: the "
        "chance that a won one scored more than a lost one with today's points.",
    )
    auc_after = fields.Float(
        string="ROC AUC suggested",
        digits=(16, 3),
        readonly=True,
        help="The same, with the suggested points.",
    )
    auc_after_candidates = fields.Float(
        string="With the candidate rules",
        digits=(16, 3),
        readonly=True,
        help="The same, with the suggested points and the candidate rules.",
    )
    tier_rates = fields.Text(string="Won rate per tier", readonly=True)
    tier_moves = fields.Char(
        string="Tier changes among today's contacts",
        readonly=True,
        help="Had the selected suggestions re-valued the points already scored "
        "(the score groups' caps aside).",
    )
    line_ids = fields.One2many("lead.score.suggestion.line", "suggestion_id")
    rule_line_ids = fields.One2many(
        "lead.score.suggestion.line",
        "suggestion_id",
        domain=[("kind", "=", "rule")],
        string="Rules",
    )
    candidate_line_ids = fields.One2many(
        "lead.score.suggestion.line",
        "suggestion_id",
        domain=[("kind", "=", "candidate")],
        string="Candidate rules",
    )

    _sql_constraints = [
        (
            "min_sample_positive",
            "CHECK (min_sample > 0)",
            "The minimum sample is at least 1 opportunity.",
        ),
    ]

    @api.depends("date_from", "date_to")
    def _compute_display_name(self):
        for wizard in self:
            wizard.display_name = self.env._(
                "Suggested points, %(start)s – %(end)s",
                start=wizard.date_from,
                end=wizard.date_to,
            )

    @api.constrains("date_from", "date_to")
    def _check_period(self):
        for wizard in self:
            if wizard.date_from > wizard.date_to:
                raise ValidationError(self.env._("The period ends before it starts."))

    def _leads_query(self):
        """The report's opportunities, read with the user's rights."""
        report = self.env["lead.score.quality"].new(
            {
                "date_from": self.date_from,
                "date_to": self.date_to,
                "team_ids": [Command.set(self.team_ids.ids)],
            }
        )
        leads = self.env["crm.lead"].with_context(active_test=False)
        return leads._search(report._opportunity_domain())

    def _scope_rules(self):
        """Active rules that add or remove points to the score that the tiers
        rank (a rule that sets a score has no weight to learn)."""
        total = self.env["lead.score.group"]._total_group()
        domain = [("operation", "in", ("add", "remove"))]
        if total:
            domain.append(("group_id", "=", total.id))
        return self.env["lead.score.rule"].search(domain)

    def action_compute(self):
        self.ensure_one()
        fields_ = self.candidate_field_ids.filtered(
            lambda f: f.model == "res.partner"
            and f.store
            and f.ttype in CANDIDATE_TYPES
            and f.name in self.env["res.partner"]._fields
        )
        # A field the user may not read makes no candidate.
        partners = self.env["res.partner"]
        fields_ = fields_.filtered(
            lambda f: partners._fields[f.name].is_accessible(self.env)
            and not partners._fields[f.name].company_dependent
        )
        rules = self._scope_rules()
        result = self.env["lead.score.point.suggestion"]._suggest(
            self._leads_query(), rules, fields_, self.min_sample
        )
        lines = []
        for row in result["rules"]:
            lines.append(self._rule_line(row, result["need"]))
        by_name = {f.name: f for f in fields_}
        for row in result["candidates"]:
            lines.append(self._candidate_line(row, by_name[row["field"]]))
        self.line_ids.unlink()
        self.write(
            {
                "computed": True,
                "message": result["message"],
                "train_count": result["train_count"],
                "test_count": result["test_count"],
                "has_auc": result["auc_before"] is not None
                and result["auc_after_rules"] is not None,
                "auc_before": result["auc_before"] or 0,
                "auc_after": result["auc_after_rules"] or 0,
                "auc_after_candidates": result["auc_after"] or 0,
                "tier_rates": self._tier_rates_text(result["tiers"]),
                "line_ids": [Command.create(vals) for vals in lines],
            }
        )
        self._update_tier_moves()
        return self._reopen()

    def _rule_line(self, row, need):
        rule = row["rule"]
        suggested = row["suggested"]
        vals = {
            "kind": "rule",
            "rule_id": rule.id,
            "name": rule.name,
            "current_points": row["current"],
            "has_suggestion": suggested is not None,
            "suggested_points": suggested or 0,
            "support": row["support"],
            "won_count": row["won"],
            "selected": suggested is not None and suggested != row["current"],
        }
        if suggested is None:
            vals["note"] = self.env._(
                "No suggestion: scored %(count)s of the older opportunities' "
                "contacts (%(won)s won, %(lost)s lost), below the minimum sample "
                "of %(min)s with %(need)s won and %(need)s lost.",
                count=row["support"],
                won=row["won"],
                lost=row["lost"],
                min=self.min_sample,
                need=need,
            )
        return vals

    def _candidate_line(self, row, field):
        partner_field = self.env["res.partner"]._fields[field.name]
        raw = row["value"]
        if field.ttype in ("many2one", "many2many"):
            value = int(raw)
            label = self.env[partner_field.comodel_name].browse(value).display_name
        elif field.ttype == "boolean":
            value, label = True, self.env._("set")
        elif field.ttype == "selection":
            value = raw
            label = dict(partner_field._description_selection(self.env)).get(raw, raw)
        else:
            value, label = raw, raw
        return {
            "kind": "candidate",
            "field_id": field.id,
            "value": repr(value),
            "name": self.env._(
                "%(field)s is %(value)s", field=field.field_description, value=label
            ),
            "has_suggestion": True,
            "suggested_points": row["suggested"],
            "support": row["support"],
            "won_count": row["won"],
        }

    def _tier_rates_text(self, tiers):
        def rate(count_won):
            count, won = count_won
            if not count:
                return self.env._("none")
            return self.env._(
                "%(rate).0f %% won of %(count)s", rate=100 * won / count, count=count
            )

        return "\n".join(
            self.env._(
                "%(tier)s: %(before)s → %(after)s",
                tier=name,
                before=rate(before),
                after=rate(after),
            )
            for name, before, after in tiers
        )

    def _update_tier_moves(self):
        points = {
            line.rule_id.id: line.suggested_points
            for line in self.rule_line_ids
            if line.selected and line.has_suggestion
        }
        moves = self.env["lead.score.point.suggestion"]._tier_moves(points)
        tiers = self.env["lead.score.tier"].browse(
            {tier for move in moves for tier in move[:2] if tier}
        )
        names = {tier.id: tier.name for tier in tiers}
        none = self.env._("No tier")
        self.tier_moves = ", ".join(
            self.env._(
                "%(count)s %(old)s → %(new)s",
                count=count,
                old=names.get(old, none),
                new=names.get(new, none),
            )
            for old, new, count in sorted(moves, key=lambda move: -move[2])
        ) or self.env._("None")

    def action_update_tier_moves(self):
        self.ensure_one()
        self._update_tier_moves()
        return self._reopen()

    def _reopen(self):
        return {
            "type": "ir.actions.act_window",
            "res_model": self._name,
            "res_id": self.id,
            "view_mode": "form",
            "target": "current",
            "name": self.env._("Suggested points"),
        }

    def _check_manager(self):
        if not self.env.is_admin() and not self.env.user.has_group(MANAGER_GROUP):
            raise AccessError(
                self.env._("Only Lead Scoring managers can apply suggested points.")
            )

    def action_apply(self):
        """Give the selected rules their suggested points (a negative
        suggestion makes the rule remove points), and with ``revalue`` the
        contacts they scored too, through one ledger line each."""
        self.ensure_one()
        self._check_manager()
        lines = self.rule_line_ids.filtered(
            lambda line: line.selected and line.has_suggestion and line.rule_id
        )
        if not lines:
            raise UserError(self.env._("Select the suggestions to apply."))
        if not self.env["lead.score.engine"]._try_lock(commit=False):
            raise UserError(
                self.env._("The scoring rules are running: apply again in a minute.")
            )
        service = self.env["lead.score.point.suggestion"]
        for line in lines:
            rule = line.rule_id
            old, new = signed_points(rule), line.suggested_points
            if old == new:
                continue
            # As the manager: the rule's access rights and company rules hold.
            rule.write({"operation": "remove" if new < 0 else "add", "value": abs(new)})
            # A line of a repeating rule dated now would put off the
            # contact's next repetition (the rule scores again only once its
            # period has passed since its last line): only its lines to come
            # get the new points.
            revalue = self.revalue and rule.repeat != "every"
            if revalue:
                service._revalue(rule, old, new, f"{REWEIGHT_KEY}{rule.id}:{self.id}")
            vals = {"current_points": new, "applied": True}
            if self.revalue and not revalue:
                vals["note"] = self.env._(
                    "A repeating rule: only its next lines get the new points."
                )
            line.write(vals)
            _logger.info(
                "Lead scoring: user %s set rule %s to %s points (was %s)%s",
                self.env.uid,
                rule.id,
                new,
                old,
                ", past lines re-valued" if revalue else "",
            )
        return self._reopen()
