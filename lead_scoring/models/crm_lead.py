# Copyright 2026 Lead Scoring contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import _, api, fields, models
from odoo.exceptions import AccessError
from odoo.tools import SQL

from ..tools import int_array

SCORE_GROUP = "lead_scoring.group_lead_scoring_user"
# The leads' copies of their contact's score, tier and grade.
SCORE_COPIES = (
    "partner_lead_score",
    "partner_lead_score_tier_id",
    "partner_lead_score_grade",
)
# The copies the engine alone writes (the ORM's recompute when the contact's
# score changes, or _copy_partner_fields in SQL): a value written by a person
# would sort and filter the pipeline with no ledger line behind it.
PROTECTED_COPIES = frozenset((*SCORE_COPIES, "partner_company_score"))
# As OCA queue_job guards its jobs: only Python code holding this object may
# write the copies through the ORM (a context key alone can be sent over RPC).
EDIT_SENTINEL = object()


class CrmLead(models.Model):
    _inherit = "crm.lead"

    # Stored so that the pipeline can be sorted and grouped by them.
    partner_lead_score = fields.Integer(
        related="partner_id.lead_score",
        string="Contact's lead score",
        help="The points of the lead's contact in Lead Scoring, from their score "
        "history (rules, forms, emails, adjustments). Unlike the Probability, "
        "which Odoo's predictive lead scoring computes from past won and lost "
        "leads.",
        store=True,
        index=True,
        aggregator="avg",
        groups=SCORE_GROUP,
    )
    partner_lead_score_tier_id = fields.Many2one(
        related="partner_id.lead_score_tier_id",
        string="Contact Tier",
        store=True,
        groups=SCORE_GROUP,
    )
    partner_lead_score_grade = fields.Char(
        related="partner_id.lead_score_grade",
        string="Contact Grade",
        store=True,
        groups=SCORE_GROUP,
    )
    # A lead of a person shows their company's score.
    partner_company_score = fields.Integer(
        related="partner_id.lead_score_company",
        string="Company's score",
        help="The score of the contact's company, with its contacts' scores "
        "rolled up as each score group says.",
        store=True,
        index=True,
        aggregator="avg",
        groups=SCORE_GROUP,
    )
    # A contact never scored shows no tier or grade (the lowest tier and
    # grade would read as a verdict).
    partner_lead_score_last_date = fields.Datetime(
        related="partner_id.lead_score_last_date", groups=SCORE_GROUP
    )
    # The company's score shows for a company or a person of one.
    partner_in_company = fields.Boolean(
        related="partner_id.commercial_partner_id.is_company"
    )
    partner_lead_score_tier_color = fields.Integer(
        related="partner_id.lead_score_tier_id.color", groups=SCORE_GROUP
    )
    # The contact's score in each group, as tags in its tier's color.
    partner_lead_score_value_ids = fields.Many2many(
        "lead.score.value",
        string="Contact Group Scores",
        compute="_compute_partner_lead_score_value_ids",
        groups=SCORE_GROUP,
    )

    def _engine_edit(self):
        """These leads as the engine's own code may write their copies."""
        return self.with_context(lead_scoring_lead_edit=EDIT_SENTINEL)

    def _check_score_copies(self, fnames):
        if self.env.context.get("lead_scoring_lead_edit") is EDIT_SENTINEL:
            return
        written = sorted(PROTECTED_COPIES & set(fnames))
        if written:
            raise AccessError(
                _(
                    "These fields copy the contact's score and cannot be written: "
                    "%s. They follow the lead's contact.",
                    ", ".join(written),
                )
            )

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            self._check_score_copies(vals)
        return super().create(vals_list)

    def write(self, vals):
        self._check_score_copies(vals)
        return super().write(vals)

    @api.model
    def _copy_partner_fields(self, fnames=SCORE_COPIES):
        """The leads whose copies ``fnames`` (partner_...) of their contact's
        fields the ORM is to recompute, after the engine wrote the contacts
        in SQL and marked them modified: copied by one UPDATE, in half the
        time of the ORM's recompute lead by lead; unless an automation rule
        on leads would react to a copy, which must then change through the
        ORM."""
        copies = [self._fields[name] for name in fnames]
        leads = self.browse(
            sorted(
                {
                    lead_id
                    for field in copies
                    for lead_id in self.env.records_to_compute(field).ids
                    if isinstance(lead_id, int)  # not a form's new record
                }
            )
        )
        if not leads or self.env["lead.score.writer"]._automation_watches(
            self._name, fnames
        ):
            return
        for field in copies:
            self.env.remove_to_compute(field, leads)
        self.flush_model(["partner_id"])
        partner_model = self.env["res.partner"]

        def copy(field):
            source = partner_model._fields[field.related.split(".")[-1]]
            value = SQL.identifier("p", source.name)
            # A lead without a contact: 0 for a number, as the ORM stores it.
            if source.type == "integer":
                value = SQL("COALESCE(%s, 0)", value)
            return SQL("%s = %s", SQL.identifier(field.name), value)

        self.env.cr.execute(
            SQL(
                """
                UPDATE crm_lead l SET %s
                  FROM crm_lead l2
                  LEFT JOIN res_partner p ON p.id = l2.partner_id
                 WHERE l.id = l2.id AND l.id = ANY(%s)
                """,
                SQL(", ").join(copy(field) for field in copies),
                int_array(leads.ids),
            )
        )
        leads.invalidate_recordset(fnames)

    @api.depends("partner_id.lead_score_value_ids.score")
    def _compute_partner_lead_score_value_ids(self):
        # Read for all the leads shown at once; as on the contact's form, only
        # with several groups (one: the score says it all) and not for a
        # contact who objects to scoring.
        for lead in self:
            partner = lead.partner_id
            lead.partner_lead_score_value_ids = (
                partner.lead_score_grouped
                and not partner.lead_score_objection
                and partner.lead_score_value_ids.filtered("group_id.active")
            )

    @api.model
    def _get_view(self, view_id=None, view_type="form", **options):
        arch, view = super()._get_view(view_id, view_type, **options)
        if view_type == "search":
            # A preset per score group's tier ("Fit ≥ 35: Ideal").
            arch = self.env["lead.score.tier"]._add_search_presets(
                arch, "partner_lead_score_100", "partner_id."
            )
        return arch, view
