# Copyright 2026 Lead Scoring contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Score groups (Fit, Engagement ...): each ledger line counts in one group,
and a contact has one score per group (lead.score.value). The default group
holds every line that names no group: a database with no other group scores
as before groups existed."""

from odoo import _, api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tools import SQL

# Empty: the total score is the sum of the active groups' scores; a group's
# id: the total is that group's score.
TOTAL_GROUP_PARAM = "lead_scoring.total_group_id"
# The grade (A1, B3 ...): a letter from the contact's tier in the fit group, a
# digit from its tier in the engagement group; both empty: no grade.
GRADE_FIT_PARAM = "lead_scoring.grade_fit_group_id"
GRADE_ENGAGEMENT_PARAM = "lead_scoring.grade_engagement_group_id"
# What a company's score in a group adds to its own: its contacts' scores there.
ROLLUPS = [
    ("own", "Own score only"),
    ("sum", "Plus the sum of its contacts'"),
    ("max", "Plus the highest of its contacts'"),
    ("avg", "Plus the average of its contacts'"),
]
DECAYS = [
    ("none", "None"),
    ("half_life", "Half-life"),
    ("linear", "Points per period"),
]
# Days or points beyond this are a typing error.
MAX_DECAY = 100_000
# As messages show it (formatted outside _(), whose arguments the extraction
# of translatable terms reads).
MAX_DECAY_TEXT = f"{MAX_DECAY:,}"


def default_group(model):
    """The default group, as a field's default."""
    return model.env["lead.score.group"]._default_group()


def capped(score):
    """SQL: ``score`` kept within the cap of the score group ``g``."""
    return SQL(
        """CASE WHEN g.use_cap
                THEN GREATEST(g.score_min, LEAST(g.score_max, %(score)s))
                ELSE %(score)s END""",
        score=score,
    )


def group_score(balance):
    """SQL: the score in the score group ``g`` of the contact ``p`` whose
    latest balance there is ``balance`` (0 for a contact who objects)."""
    return SQL(
        "CASE WHEN p.lead_score_objection THEN 0 ELSE %s END",
        capped(SQL("COALESCE(%s, 0)", balance)),
    )


class LeadScoreGroup(models.Model):
    """A score group, shared by every company, as its tiers are: a contact's
    total score adds up the active groups' scores and is ranked by one
    group's tiers, whatever its company, and the total and grade settings
    name groups for the whole database. Every scorer reads them (to choose
    one); changing one changes the scores of every company, so that only a
    manager allowed in every company may (see _check_shared_configuration).
    A company's own scoring is its rules and operations (company_id)."""

    _name = "lead.score.group"
    _description = "Score Group"
    _order = "sequence, id"

    name = fields.Char(required=True, translate=True)
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True)
    is_default = fields.Boolean(
        string="Default",
        readonly=True,
        copy=False,
        help="Points that name no group count in the default group.",
    )
    use_cap = fields.Boolean(
        string="Capped",
        help="Keep this group's score between a minimum and a maximum; the ledger "
        "keeps every point, the breakdown shows what the cap took off.",
    )
    score_min = fields.Integer(string="Minimum")
    score_max = fields.Integer(string="Maximum", default=100)
    rollup = fields.Selection(
        ROLLUPS,
        string="Company score",
        required=True,
        default="own",
        help="A company's score in this group: its own, or its own plus the sum, "
        "highest or average of its active contacts' scores in the group (contacts "
        "who object to scoring left out; the average of those with a score here), "
        "within the group's cap.",
    )

    decay = fields.Selection(
        DECAYS,
        required=True,
        default="none",
        help="How this group's scores fade when nothing new happens; each loss is "
        "a Decay line of the score history, written by a daily job. Half-life: "
        "positive scores halve every so many days. Points per period: scores lose "
        "so many points every so many days.",
    )
    decay_half_life_days = fields.Integer(string="Half-life (days)", default=30)
    # No default: a decay of points per period takes the numbers the user gives.
    decay_points = fields.Integer(string="Points lost")
    decay_period_days = fields.Integer(string="Every (days)")
    decay_below_zero = fields.Boolean(
        string="Decay below zero",
        help="Keep removing points once a score reaches 0, down to the group's "
        "minimum when it is capped. Off: a score stops at 0.",
    )
    decay_since = fields.Date(
        readonly=True,
        copy=False,
        help="The day before the daily job first decayed this group: days the job "
        "missed are caught up no further back.",
    )

    def init(self):
        # Exactly one default group (the data record).
        self.env.cr.execute(
            "CREATE UNIQUE INDEX IF NOT EXISTS lead_score_group_default_uniq"
            " ON lead_score_group (is_default) WHERE is_default"
        )

    @api.model
    def _default_group(self):
        # The data record (its id is cached), which cannot change.
        group = self.env.ref("lead_scoring.score_group_default", False)
        return (group or self.browse()).sudo()

    @api.model
    def _set_ledger_default(self):
        """Lines inserted in SQL that name no group (scripts, other addons)
        count in the default group."""
        self.env.cr.execute(
            SQL(
                "ALTER TABLE lead_score_operation ALTER COLUMN group_id SET DEFAULT %s",
                self._default_group().id,
            )
        )

    @api.model
    def _total_group(self):
        """The group whose score is the total, or an empty recordset when the
        total is the sum of the active groups' scores."""
        param = self.env["ir.config_parameter"].sudo().get_param(TOTAL_GROUP_PARAM)
        group = self.sudo().browse(int(param)).exists() if param else self.browse()
        return group.filtered("active")

    @api.model
    def _grade_groups(self):
        """(fit group, engagement group) of the grade; empty recordsets when
        contacts have no grade (not set, or a group archived or deleted)."""
        params = self.env["ir.config_parameter"].sudo()
        fit, engagement = (
            self.sudo().browse(int(params.get_param(key) or 0)).exists()
            for key in (GRADE_FIT_PARAM, GRADE_ENGAGEMENT_PARAM)
        )
        if fit.active and engagement.active and fit != engagement:
            return fit, engagement
        return self.browse(), self.browse()

    @api.model
    def _grade_query(self, partners, objects=None):
        """SQL: ``(id, grade)`` of the contacts ``p`` (id) of the FROM item
        ``partners``, from their scores in the fit and engagement groups
        (no score there: 0); no grade where ``objects`` (SQL, on ``p``) holds.
        The group's highest tier is A (1), the next B (2) ...; no tier, the
        letter (digit) after the last. None when contacts have no grade."""
        fit, engagement = self._grade_groups()
        if not fit:
            return None

        def rank(group, score):
            minimums = (
                self.env["lead.score.tier"]
                .sudo()
                .search([("group_id", "=", group.id)], order="min_score desc")
                .mapped("min_score")
            )
            cases = [
                SQL("WHEN COALESCE(%s, 0) >= %s THEN %s", score, minimum, rank)
                for rank, minimum in enumerate(minimums)
            ]
            if not cases:
                return SQL("0")
            return SQL("CASE %s ELSE %s END", SQL(" ").join(cases), len(cases))

        grade = SQL(
            "chr(65 + %s) || (1 + %s)::text",
            rank(fit, SQL("f.score")),
            rank(engagement, SQL("e.score")),
        )
        self.env["lead.score.value"].flush_model()
        return SQL(
            """SELECT p.id, CASE WHEN %(objects)s THEN NULL ELSE %(grade)s END
                 FROM %(partners)s
                 LEFT JOIN lead_score_value f
                        ON f.partner_id = p.id AND f.group_id = %(fit)s
                 LEFT JOIN lead_score_value e
                        ON e.partner_id = p.id AND e.group_id = %(engagement)s""",
            objects=objects or SQL("FALSE"),
            grade=grade,
            partners=partners,
            fit=fit.id,
            engagement=engagement.id,
        )

    @api.model
    def _set_grade_groups(self, fit_id, engagement_id):
        """Grade contacts from these groups (both False: no grade), and
        recompute every contact's grade."""
        if bool(fit_id) != bool(engagement_id) or (fit_id and fit_id == engagement_id):
            raise ValidationError(
                _("A grade needs two different groups: a fit and an engagement group.")
            )
        params = self.env["ir.config_parameter"].sudo()
        params.set_param(GRADE_FIT_PARAM, fit_id or False)
        params.set_param(GRADE_ENGAGEMENT_PARAM, engagement_id or False)
        self.env["lead.score.recompute"]._recompute_all()

    @api.model
    def _tier_group(self):
        """Whose tiers rank the total score: the total's group, else the default."""
        return self._total_group() or self._default_group()

    @api.constrains("use_cap", "score_min", "score_max")
    def _check_cap(self):
        for group in self:
            if group.use_cap and group.score_min > group.score_max:
                raise ValidationError(
                    _("A group's minimum score cannot be above its maximum.")
                )

    @api.constrains(
        "decay", "decay_half_life_days", "decay_points", "decay_period_days"
    )
    def _check_decay(self):
        def numbers_ok(numbers):
            return all(1 <= number <= MAX_DECAY for number in numbers)

        for group in self:
            if group.decay == "half_life" and not numbers_ok(
                [group.decay_half_life_days]
            ):
                raise ValidationError(
                    _(
                        "Score group %(group)s: give the half-life of its decay, a "
                        "whole number of days from 1 to %(max)s.",
                        group=group.name,
                        max=MAX_DECAY_TEXT,
                    )
                )
            if group.decay == "linear" and not numbers_ok(
                [group.decay_points, group.decay_period_days]
            ):
                raise ValidationError(
                    _(
                        "Score group %(group)s: a decay of points per period needs "
                        "the points lost and the period in days, each a whole "
                        "number from 1 to %(max)s.",
                        group=group.name,
                        max=MAX_DECAY_TEXT,
                    )
                )

    @api.model
    def _check_shared_configuration(self):
        """Score groups and tiers count for every company: a manager of some
        companies only would change (or break) the scores of the others."""
        if self.env.su:
            return
        companies = self.env["res.company"].sudo().search([])
        if companies - self.env.user.company_ids:
            raise AccessError(
                _(
                    "Score groups and tiers are shared by every company: only a "
                    "Lead Scoring manager allowed in every company can change them."
                )
            )

    def _check_engine_vals(self, vals):
        if "decay_since" in vals and not self.env.su:
            # Set in the past, the daily job would catch up on as many days.
            raise AccessError(
                _("These values are set by the scoring engine only: %s.", "decay_since")
            )

    @api.model_create_multi
    def create(self, vals_list):
        self._check_shared_configuration()
        for vals in vals_list:
            self._check_engine_vals(vals)
        # The search views' presets (see lead.score.tier._add_search_presets).
        self.env.registry.clear_cache("templates")
        return super().create(vals_list)

    def write(self, vals):
        self._check_shared_configuration()
        self._check_engine_vals(vals)
        if vals.get("decay") == "none":
            # Switched on again later, decay starts afresh.
            vals = {**vals, "decay_since": False}
        if "active" in vals and not vals["active"] and self.filtered("is_default"):
            raise UserError(_("The default score group cannot be archived."))
        if "is_default" in vals and self.filtered(
            lambda group: group.is_default != vals["is_default"]
        ):
            raise UserError(_("The default score group cannot change."))
        result = super().write(vals)
        if {"name", "active", "sequence"} & set(vals):
            self.env.registry.clear_cache("templates")
        if {"active", "use_cap", "score_min", "score_max", "rollup"} & set(vals):
            self.env["lead.score.recompute"]._recompute_all()
        return result

    @api.ondelete(at_uninstall=False)
    def _unlink_except_default(self):
        if self.filtered("is_default"):
            raise UserError(_("The default score group cannot be deleted."))

    def unlink(self):
        self._check_shared_configuration()
        fit, engagement = self._grade_groups()
        graded = (fit | engagement) & self
        result = super().unlink()
        self.env.registry.clear_cache("templates")
        if graded:
            self.env["lead.score.recompute"]._recompute_all()
        return result
