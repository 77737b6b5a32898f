# Copyright 2026 Lead Scoring contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, fields, models
from odoo.tools import SQL

SCORE_GROUP = "lead_scoring.group_lead_scoring_user"


class CrmLead(models.Model):
    _inherit = "crm.lead"

    # Stored so that the pipeline can be sorted and grouped by them.
    partner_lead_score = fields.Integer(
        related="partner_id.lead_score",
        string="Contact Score",
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
        string="Company Score",
        store=True,
        index=True,
        aggregator="avg",
        groups=SCORE_GROUP,
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

    @api.model
    def _copy_partner_field(self, field, partner_ids):
        """Bring the leads' stored copy ``field`` (partner_...) of their
        contact's field up to date, for the leads of these contacts, in one
        UPDATE: the engine writes contacts in SQL."""
        source = self._fields[field].related.split(".")[-1]
        self.flush_model(["partner_id", field])
        self.env.cr.execute(
            SQL(
                """
                UPDATE crm_lead l SET %(field)s = p.%(source)s
                  FROM res_partner p
                 WHERE l.partner_id = p.id AND p.id = ANY(%(ids)s)
                   AND l.%(field)s IS DISTINCT FROM p.%(source)s
                """,
                field=SQL.identifier(field),
                source=SQL.identifier(source),
                ids=list(partner_ids),
            )
        )
        self.invalidate_model([field])

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
