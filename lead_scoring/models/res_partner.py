# Copyright 2026 Lead Scoring contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import Command, _, api, fields, models
from odoo.exceptions import AccessError
from odoo.tools import SQL
from odoo.tools.sql import column_exists, create_column

from ..tools import int_array

SCORE_GROUP = "lead_scoring.group_lead_scoring_user"
MANAGER_GROUP = "lead_scoring.group_lead_scoring_manager"


def changed_by_someone(table=None):
    """SQL: 1 for a contact written since by someone else than the rule engine
    (see _note_engine_write); a number, so that PostgreSQL keeps statistics on
    it. The index and the rules' queries must use this same expression."""
    columns = [
        SQL.identifier(table, name) if table else SQL.identifier(name)
        for name in ("write_date", "lead_score_date")
    ]
    return SQL("(%s IS DISTINCT FROM %s)::int", *columns)


# The contacts whose score a person changed by hand in this transaction.
MANUAL_SCORE_KEY = "lead_scoring.manual_score"
# The precommit data under which a run written through the ORM (an automation
# rule watches contacts) leaves its contacts' run lines for _mail_track (see
# lead.score.chatter._lead_score_run_lines).
RUN_LINES_KEY = "lead_scoring.run_lines"
# What moves a contact's score to another company's, or out of its company's.
COMPANY_FIELDS = {"parent_id", "is_company", "active", "lead_score_objection"}
# Kept from the ledger by the engine, never written by a person or an API
# caller: a score changes through a score operation, which is recorded.
LEDGER_FIELDS = {
    "lead_score",
    "lead_score_tier_id",
    "lead_score_grade",
    "lead_score_company",
    "lead_score_date",
    "lead_score_objection_date",
    "lead_score_change_7d",
    "lead_score_change_30d",
}
# In the context: leave those fields out instead (a merge copies them).
DROP_LEDGER_FIELDS = "lead_scoring_drop_ledger_fields"


class ResPartner(models.Model):
    _inherit = "res.partner"

    lead_score = fields.Integer(
        string="Lead Score",
        compute="_compute_lead_score",
        store=True,
        index=True,
        readonly=True,
        # A group of contacts (a tier, a country ...) shows its average score.
        aggregator="avg",
        # Logged only with a tier change or a person's adjustment: see _mail_track.
        tracking=True,
        groups=SCORE_GROUP,
        help="The balance of the contact's score operations.",
    )
    lead_score_tier_id = fields.Many2one(
        "lead.score.tier",
        string="Lead Tier",
        compute="_compute_lead_score",
        store=True,
        index="btree_not_null",
        readonly=True,
        tracking=True,
        groups=SCORE_GROUP,
    )
    lead_score_tier_color = fields.Integer(
        related="lead_score_tier_id.color", groups=SCORE_GROUP
    )
    lead_score_grade = fields.Char(
        string="Lead Grade",
        compute="_compute_lead_score",
        store=True,
        index=True,
        readonly=True,
        tracking=True,
        groups=SCORE_GROUP,
        help="A letter for the contact's tier in the fit group (A: its highest "
        "tier) and a digit for its tier in the engagement group (1: its highest), "
        "as set in the settings.",
    )
    # The transaction time at which the rule engine last wrote the score (its
    # write_date then): rule runs look at the contacts written since, but not
    # at those that only the engine wrote (see _note_engine_write).
    lead_score_date = fields.Datetime(readonly=True, copy=False, groups=SCORE_GROUP)
    lead_score_operation_ids = fields.One2many(
        "lead.score.operation",
        "partner_id",
        string="Score history",
        groups=SCORE_GROUP,
    )
    lead_score_value_ids = fields.One2many(
        "lead.score.value",
        "partner_id",
        string="Group scores",
        readonly=True,
        groups=SCORE_GROUP,
    )
    lead_score_summary = fields.Char(
        string="Group scores summary",
        compute="_compute_lead_score_summary",
        groups=SCORE_GROUP,
    )
    lead_score_grouped = fields.Boolean(
        compute="_compute_lead_score_summary", groups=SCORE_GROUP
    )
    lead_score_breakdown_ids = fields.One2many(
        "lead.score.breakdown",
        "partner_id",
        string="Score breakdown",
        groups=SCORE_GROUP,
    )
    # GDPR Art. 21: a person may object to profiling for direct marketing.
    lead_score_objection = fields.Boolean(
        string="Objects to scoring",
        tracking=True,
        groups=SCORE_GROUP,
        help="The person objected to being scored (GDPR Art. 21): no rule, form, "
        "email engagement, automation or person scores them, and their score "
        "counts as 0, with no tier. Their score history is kept unless erased.",
    )
    lead_score_objection_date = fields.Datetime(
        string="Objected on", readonly=True, groups=SCORE_GROUP
    )
    # Written in SQL with the group scores (see lead.score.writer._store_lead_score_companies).
    lead_score_company = fields.Integer(
        string="Company's score",
        index=True,
        readonly=True,
        default=0,
        copy=False,
        aggregator="avg",
        groups=SCORE_GROUP,
        help="The company's score, with its contacts' scores rolled up as each "
        "score group says; on a person, the score of their company (0 without one).",
    )
    # Read from the ledger for the contacts shown (see _compute_lead_score_last_date):
    # stored, the engine would have to write it with every line.
    lead_score_last_date = fields.Datetime(
        string="Last scored",
        compute="_compute_lead_score_last_date",
        search="_search_lead_score_last_date",
        groups=SCORE_GROUP,
        help="The date of the contact's newest score operation; empty for a "
        "contact never scored, who shows no tier or grade.",
    )
    # The tiers that the contact is in, one per score group: filters such as
    # "Fit: Ideal" pick a group's tier.
    lead_score_group_tier_ids = fields.Many2many(
        "lead.score.tier",
        string="Tier in a group",
        compute="_compute_lead_score_group_tier_ids",
        search="_search_lead_score_group_tier_ids",
        groups=SCORE_GROUP,
        # The search's suggestions name each tier's group (see lead.score.tier).
        context={"lead_score_tier_group_name": True},
    )

    def _auto_init(self):
        # On a large database, creating the columns by hand skips the ORM's
        # computation of a zero score for every existing contact.
        if not column_exists(self.env.cr, "res_partner", "lead_score"):
            create_column(self.env.cr, "res_partner", "lead_score", "int4")
            self.env.cr.execute("UPDATE res_partner SET lead_score = 0")
            create_column(self.env.cr, "res_partner", "lead_score_tier_id", "int4")
        # No grade until one is set (see lead.score.group._set_grade_groups).
        if not column_exists(self.env.cr, "res_partner", "lead_score_grade"):
            create_column(self.env.cr, "res_partner", "lead_score_grade", "varchar")
        # No group rolls contacts up yet: a company's score, in one statement.
        if not column_exists(self.env.cr, "res_partner", "lead_score_company"):
            create_column(self.env.cr, "res_partner", "lead_score_company", "int4")
            self.env.cr.execute(
                """UPDATE res_partner p
                      SET lead_score_company = CASE WHEN c.is_company
                                                    THEN COALESCE(c.lead_score, 0)
                                                    ELSE 0 END
                     FROM res_partner c WHERE c.id = p.commercial_partner_id"""
            )
        return super()._auto_init()

    def init(self):
        result = super().init()
        # Scoring rules look at the contacts written since their last run,
        # except by the engine itself.
        # PostgreSQL cannot estimate a comparison of two columns: statistics
        # on it as a number let it see how few rows the index holds.
        self.env.cr.execute(
            SQL(
                """DROP INDEX IF EXISTS res_partner_lead_scoring_write_date_idx,
                                        res_partner_lead_scoring_changed_idx;
                   CREATE INDEX IF NOT EXISTS res_partner_lead_scoring_written_idx
                       ON res_partner (write_date) WHERE %(changed)s = 1;
                   CREATE STATISTICS IF NOT EXISTS res_partner_lead_scoring_changed_stat
                       ON ((%(changed)s)) FROM res_partner""",
                changed=changed_by_someone(),
            )
        )
        # Website forms and mailing engagement find contacts by their email;
        # Odoo does not index it.
        self.env.cr.execute(
            "CREATE INDEX IF NOT EXISTS res_partner_lead_scoring_email_idx"
            " ON res_partner (email_normalized) WHERE email_normalized IS NOT NULL"
        )
        return result

    # The tier is computed with the score, by the same method: computed apart,
    # an automation rule reading the tier while the score is being computed
    # would compute the tier from the old score and leave it behind.
    @api.depends("lead_score_operation_ids", "lead_score_objection")
    def _compute_lead_score(self):
        # The ledger's replay has stored each line's balance already
        # (see lead.score.ledger._refresh_scores). A form or a wizard
        # computes the score of a new record standing for a saved contact:
        # that contact's ledger is its origin's.
        saved = self._origin.filtered("id")
        balances = self.env["lead.score.value"]._totals(saved.ids)
        # Only the objection: reading it would fetch every column of a batch.
        saved.fetch(["lead_score_objection"])
        # A contact who objects to scoring has no score: their ledger is kept
        # (and counts again should they withdraw the objection).
        scores = {
            partner: 0
            if partner.lead_score_objection
            else balances.get(partner._origin.id) or 0
            for partner in self
        }
        tiers = self.env["lead.score.tier"].sudo()._tier_for_scores(scores.values())
        grades = self.env["lead.score.value"]._grades(saved.ids)
        for partner, score in scores.items():
            partner.lead_score = score
            partner.lead_score_tier_id = (
                not partner.lead_score_objection and tiers[score]
            )
            partner.lead_score_grade = not partner.lead_score_objection and grades.get(
                partner._origin.id, grades.get(None)
            )

    @api.depends("lead_score_value_ids.score")
    def _compute_lead_score_summary(self):
        grouped = self.env["lead.score.group"].search_count([]) > 1
        for partner in self:
            partner.lead_score_grouped = grouped
            partner.lead_score_summary = " · ".join(
                f"{value.group_id.name} {value.score}"
                for value in partner.lead_score_value_ids
                if value.group_id.active
            )

    @api.depends("lead_score_operation_ids.date")
    def _compute_lead_score_last_date(self):
        # One grouped query for the contacts shown (a list's page), through
        # the ledger's index on the contact.
        saved = self._origin.filtered("id")
        dates = {}
        if saved:
            self.env["lead.score.operation"].flush_model(["partner_id", "date"])
            self.env.cr.execute(
                SQL(
                    """SELECT partner_id, MAX(date) FROM lead_score_operation
                        WHERE partner_id = ANY(%s) GROUP BY partner_id""",
                    int_array(saved.ids),
                )
            )
            dates = dict(self.env.cr.fetchall())
        for partner in self:
            partner.lead_score_last_date = dates.get(partner._origin.id, False)

    def _search_lead_score_last_date(self, operator, value):
        if operator in ("=", "!=") and not value:
            # Never scored, or scored at least once.
            scored = SQL("(SELECT partner_id FROM lead_score_operation)")
            return [("id", "not in" if operator == "=" else "in", scored)]
        if operator not in ("<", "<=", ">", ">=", "=", "!="):
            return NotImplemented
        value = fields.Datetime.to_datetime(value)
        return [
            (
                "id",
                "in",
                SQL(
                    """(SELECT partner_id FROM lead_score_operation
                         GROUP BY partner_id HAVING MAX(date) %s %s)""",
                    SQL(operator),
                    value,
                ),
            )
        ]

    @api.depends("lead_score_value_ids.tier_id")
    def _compute_lead_score_group_tier_ids(self):
        for partner in self:
            partner.lead_score_group_tier_ids = partner.lead_score_value_ids.tier_id

    def _search_lead_score_group_tier_ids(self, operator, value):
        return [("lead_score_value_ids.tier_id", operator, value)]

    def _check_ledger_fields(self, vals, new=False):
        """Refuse a score written by hand: it would not be in the ledger. A
        new contact may come with the empty values it starts with (a user's
        creation passes every default of its contact)."""
        written = {name for name in LEDGER_FIELDS & set(vals) if vals[name] or not new}
        if not written or self.env.context.get(DROP_LEDGER_FIELDS):
            return {
                name: value for name, value in vals.items() if name not in LEDGER_FIELDS
            }
        raise AccessError(
            _(
                "These fields follow the score history and cannot be written: %s. "
                "Add, remove or set points with a score operation instead.",
                ", ".join(sorted(written)),
            )
        )

    @api.model_create_multi
    def create(self, vals_list):
        vals_list = [self._check_ledger_fields(vals, new=True) for vals in vals_list]
        partners = super().create(vals_list)
        # A new contact of a company shows the company's score.
        if partners.filtered("parent_id"):
            self.env["lead.score.writer"]._store_lead_score_companies(
                partners.filtered("parent_id").ids
            )
        return partners

    def write(self, vals):
        vals = self._check_ledger_fields(vals)
        withdrawn = self.browse()
        if "lead_score_objection" in vals and not vals["lead_score_objection"]:
            withdrawn = self.sudo().filtered("lead_score_objection")
            self._check_withdrawal(withdrawn)
        scores_before = {partner: partner.lead_score for partner in withdrawn}
        if "lead_score_objection" in vals:
            vals = dict(
                vals,
                lead_score_objection_date=vals["lead_score_objection"]
                and fields.Datetime.now(),
            )
        moved = COMPANY_FIELDS & set(vals)
        # Their companies before, whose roll-up they may leave.
        before = self.commercial_partner_id if moved else self.browse()
        result = super().write(vals)
        if moved:
            # Their group scores count as 0, or again as their ledger says;
            # their companies' (old and new) roll up their contacts again.
            partner_ids = (self | before).ids
            self.env["lead.score.value"]._refresh(partner_ids)
            self.env["lead.score.writer"]._store_lead_score_companies(partner_ids)
        # Who withdrew it stays in the chatter, whatever the call's context.
        for partner in withdrawn:
            partner._lead_score_log(
                _("Objection to scoring withdrawn by %s.", self.env.user.name),
                scores_before[partner],
            )
        return result

    def _check_withdrawal(self, objecting):
        """Scoring a person again after they objected (GDPR Art. 21) is a
        manager's decision; recording an objection is any scorer's."""
        if objecting and not self.env.su and not self.env.user.has_group(MANAGER_GROUP):
            raise AccessError(
                _("Only Lead Scoring managers can withdraw an objection to scoring.")
            )

    def unlink(self):
        # Their companies roll up the contacts that stay.
        companies = (self.commercial_partner_id - self).ids
        result = super().unlink()
        if companies:
            self.env["lead.score.value"]._refresh_company_scores(companies)
            self.env["lead.score.writer"]._store_lead_score_companies(companies)
        return result

    def _mail_track(self, tracked_fields, initial_values):
        # A score moves with every rule run, website form and email opened: a
        # message per change would bury the contact's chatter, and a rule run
        # over thousands of contacts would write thousands of messages. As the
        # stage of a lead, the tier is what salespeople follow: the score is
        # logged in the same message as a tier change, and when a person
        # adjusts it by hand (see lead.score.operation.create).
        self.ensure_one()
        tier_changed = (
            "lead_score_tier_id" in initial_values
            and initial_values["lead_score_tier_id"] != self.lead_score_tier_id
        )
        adjusted = self.env.cr.precommit.data.get(MANUAL_SCORE_KEY, ())
        if not tier_changed and self.id not in adjusted:
            tracked_fields = {
                name: info
                for name, info in tracked_fields.items()
                if name != "lead_score"
            }
        changes, tracking_values = super()._mail_track(tracked_fields, initial_values)
        # A move by a rule run names the run's rules (see lead.score.chatter._lead_score_run_lines),
        # as the engine's own messages do.
        run_lines = self.env.cr.precommit.data.get(RUN_LINES_KEY, {})
        if changes and self.id in run_lines:
            tracking_values.append(
                Command.create(
                    {
                        "field_id": self.env["lead.score.chatter"]
                        ._lead_score_run_lines_field()
                        .id,
                        "new_value_char": run_lines.pop(self.id),
                    }
                )
            )
        return changes, tracking_values

    def _lead_score_log(self, body, score_before, old_lines=(), new_lines=()):
        """Log a change of the ledger in the chatter: the text says what
        happened; points and lines go in tracking values, which Odoo shows
        only to those who may read these fields (Lead Scoring users)."""
        self.ensure_one()
        tracking = self.env["mail.tracking.value"].sudo()
        fields_info = self.fields_get(["lead_score", "lead_score_operation_ids"])
        values = [
            tracking._create_tracking_values(
                score_before,
                self.lead_score,
                "lead_score",
                fields_info["lead_score"],
                self,
            )
        ]
        if old_lines or new_lines:
            values.append(
                {
                    "field_id": self.env["ir.model.fields"]
                    ._get(self._name, "lead_score_operation_ids")
                    .id,
                    "old_value_char": "\n".join(old_lines),
                    "new_value_char": "\n".join(new_lines),
                }
            )
        self._message_log(
            body=body,
            tracking_value_ids=[Command.create(vals) for vals in values],
        )

    def action_open_lead_score_adjust(self):
        return {
            "type": "ir.actions.act_window",
            "name": _("Adjust score"),
            "res_model": "lead.score.adjust",
            "view_mode": "form",
            "target": "new",
            "context": {"default_partner_ids": self.ids},
        }

    def _set_lead_score_objection(self, objects):
        """Lead Scoring users record an objection, managers its withdrawal,
        even without the right to edit contacts."""
        self.check_access("read")
        if not self.env.user.has_group(SCORE_GROUP):
            raise AccessError(_("Only Lead Scoring users can record an objection."))
        if not objects:
            self._check_withdrawal(self.sudo().filtered("lead_score_objection"))
        self.sudo().write({"lead_score_objection": objects})
        return True

    def action_lead_score_object(self):
        return self._set_lead_score_objection(True)

    def action_lead_score_withdraw_objection(self):
        return self._set_lead_score_objection(False)

    def action_open_lead_score_erase(self):
        return {
            "type": "ir.actions.act_window",
            "name": _("Erase score history"),
            "res_model": "lead.score.erase",
            "view_mode": "form",
            "target": "new",
            "context": {"default_partner_ids": self.ids},
        }

    def action_open_lead_score_history(self):
        """The score over time, drawn as a step line per group and for the
        total, with the tiers (static/src/js/score_chart.js)."""
        self.ensure_one()
        return {
            "type": "ir.actions.client",
            "tag": "lead_scoring_score_chart",
            "name": _("Score of %s over time", self.display_name),
            "target": "new",
            "params": {"partner_id": self.id},
        }

    def action_view_lead_score_operations(self):
        """The contact's score history, expired lines included."""
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "lead_scoring.lead_score_operation_action"
        )
        action.update(
            name=_("Score history of %s", self.display_name),
            domain=[("partner_id", "=", self.id)],
            context={"default_partner_id": self.id},
        )
        return action

    @api.model
    def _get_view(self, view_id=None, view_type="form", **options):
        arch, view = super()._get_view(view_id, view_type, **options)
        if view_type == "search":
            # A preset per score group's tier ("Fit ≥ 35: Ideal").
            arch = self.env["lead.score.tier"]._add_search_presets(
                arch, "lead_score_positive", ""
            )
        return arch, view
