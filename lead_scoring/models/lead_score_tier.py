# Copyright 2026 Lead Scoring contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Score bands (Cold, Warm, Hot ...): a contact is in the band with the
highest minimum score that its score reaches. Each score group has its own
bands; the total score is ranked by the bands of the group chosen as the
total, else by those of the default group. Like score groups, tiers are
shared by every company (see lead.score.group)."""

from lxml.builder import E

from odoo import _, api, fields, models
from odoo.exceptions import ValidationError
from odoo.tools import SQL

from ..tools import int_array
from .lead_score_group import default_group


class LeadScoreTier(models.Model):
    _name = "lead.score.tier"
    _description = "Lead Score Tier"
    _order = "min_score, id"

    name = fields.Char(required=True, translate=True)
    min_score = fields.Integer(
        string="Minimum score",
        required=True,
        help="Contacts whose score is at least this value are in this tier, "
        "up to the next tier's minimum.",
    )
    color = fields.Integer(default=0)
    group_id = fields.Many2one(
        "lead.score.group",
        string="Score group",
        required=True,
        index=True,
        ondelete="cascade",
        default=default_group,
    )
    active = fields.Boolean(default=True)
    partner_count = fields.Integer(compute="_compute_partner_count", string="Contacts")

    _sql_constraints = [
        (
            "min_score_range",
            "CHECK (min_score BETWEEN -1000000 AND 1000000)",
            "A tier's minimum score must stay between -1,000,000 and 1,000,000.",
        ),
    ]

    @api.constrains("min_score", "name", "active", "group_id")
    def _check_bands(self):
        tiers = self.search([])
        for tier in self.filtered("active"):
            twins = tiers.filtered(lambda t, tier=tier: t.group_id == tier.group_id)
            twins -= tier
            if twins.filtered(lambda t, tier=tier: t.min_score == tier.min_score):
                raise ValidationError(
                    _("Two tiers cannot start at the same score (%s).", tier.min_score)
                )
            if twins.filtered(lambda t, tier=tier: t.name.lower() == tier.name.lower()):
                raise ValidationError(_("A tier named %s already exists.", tier.name))

    @api.depends("name", "group_id.name")
    @api.depends_context("lead_score_tier_group_name")
    def _compute_display_name(self):
        # A tier's name alone on badges; with its group's where tiers of
        # several groups stand side by side (the contacts' "Tier in a group").
        if not self.env.context.get("lead_score_tier_group_name"):
            return super()._compute_display_name()
        for tier in self:
            tier.display_name = f"{tier.group_id.name}: {tier.name}"
        return None

    def _compute_partner_count(self):
        # The total's tiers count the contacts' total; the others, a group's.
        counts = dict(
            self.env["res.partner"]._read_group(
                [("lead_score_tier_id", "in", self.ids)],
                ["lead_score_tier_id"],
                ["__count"],
            )
        )
        total_group = self.env["lead.score.group"]._tier_group()
        counts.update(
            self.env["lead.score.value"]._read_group(
                [
                    (
                        "tier_id",
                        "in",
                        self.filtered(lambda t: t.group_id != total_group).ids,
                    )
                ],
                ["tier_id"],
                ["__count"],
            )
        )
        for tier in self:
            tier.partner_count = counts.get(tier, 0)

    def action_view_partners(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "lead_scoring.res_partner_action_by_tier"
        )
        action["domain"] = [("lead_score_tier_id", "=", self.id)]
        if self.group_id != self.env["lead.score.group"]._tier_group():
            action["domain"] = [("lead_score_value_ids.tier_id", "=", self.id)]
        action["context"] = {"default_is_company": False}
        action["name"] = self.name
        return action

    @api.model
    def _tier_for_scores(self, scores):
        """{score: tier} for the given (total) scores, with one read of the tiers."""
        group = self.env["lead.score.group"]._tier_group()
        tiers = self.search([("group_id", "=", group.id)], order="min_score desc")
        return {
            score: next((t for t in tiers if t.min_score <= score), self.browse())
            for score in set(scores)
        }

    @api.model_create_multi
    def create(self, vals_list):
        self.env["lead.score.group"]._check_shared_configuration()
        tiers = super().create(vals_list)
        self.env["lead.score.recompute"]._recompute_all()
        # The search views' presets (see _add_search_presets).
        self.env.registry.clear_cache("templates")
        return tiers

    def write(self, vals):
        self.env["lead.score.group"]._check_shared_configuration()
        result = super().write(vals)
        if {"min_score", "active", "group_id"} & set(vals):
            self.env["lead.score.recompute"]._recompute_all()
        if {"min_score", "active", "group_id", "name"} & set(vals):
            self.env.registry.clear_cache("templates")
        return result

    def unlink(self):
        self.env["lead.score.group"]._check_shared_configuration()
        result = super().unlink()
        self.env["lead.score.recompute"]._recompute_all()
        self.env.registry.clear_cache("templates")
        return result

    @api.model
    def _search_presets(self, partner_path=""):
        """One filter per tier of each score group above zero: the
        contacts at least in that tier ("Fit ≥ 35: Ideal"), as (name, label,
        domain); ``partner_path`` leads from the searched record to its
        contact."""
        total = self.env["lead.score.group"]._tier_group()
        tiers = self.sudo().search(
            [("group_id.active", "=", True)], order="min_score desc, id"
        )
        # The total's tiers rank the total score, under its own label.
        total_label = (
            self.env["res.partner"]._fields["lead_score"]._description_string(self.env)
        )
        presets = []
        for group in tiers.group_id.sorted(lambda g: (g.sequence, g.id)):
            group_tiers = tiers.filtered(lambda t, group=group: t.group_id == group)
            for tier in group_tiers:
                if tier.min_score <= 0:
                    # Every contact (but those below zero): nothing to filter.
                    continue
                if group == total:
                    # The total score is ranked by this group's tiers.
                    domain = [(f"{partner_path}lead_score", ">=", tier.min_score)]
                else:
                    domain = [
                        (
                            f"{partner_path}lead_score_value_ids",
                            "any",
                            [
                                ("group_id", "=", group.id),
                                ("score", ">=", tier.min_score),
                            ],
                        )
                    ]
                presets.append(
                    (
                        f"lead_score_tier_{tier.id}",
                        f"{total_label if group == total else group.name}"
                        f" ≥ {tier.min_score}: {tier.name}",
                        domain,
                    )
                )
        return presets

    @api.model
    def _add_search_presets(self, arch, anchor, partner_path=""):
        """Put the tiers' presets (_search_presets) before the filter named
        ``anchor`` of a search view's ``arch``, for Lead Scoring users: the
        groups and tiers are the user's, which no view can list in advance.
        The views are cached: a change of tiers or groups empties the cache."""
        node = arch.find(f".//filter[@name='{anchor}']")
        presets = self._search_presets(partner_path)
        if node is None or not presets:
            return arch
        parent, index = node.getparent(), node.getparent().index(node)
        nodes = [
            E.filter(
                name=name,
                string=label,
                domain=repr(domain),
                groups="lead_scoring.group_lead_scoring_user",
            )
            for name, label, domain in presets
        ]
        for offset, new in enumerate([*nodes, E.separator()]):
            parent.insert(index + offset, new)
        return arch

    @api.model
    def _reassign_partners(self, partner_ids):
        """Put these contacts in their band after the bands changed: one
        UPDATE, since a change of configuration is not a change of the
        contacts (and one for the group scores' bands)."""
        # Imported here: the engine's package extends the models, once defined.
        from ..engine.snippets import tier_of

        def among(column):
            return SQL("%s = ANY(%s)", SQL(column), int_array(partner_ids))

        self.flush_model()
        self.env["res.partner"].flush_model(
            ["lead_score", "lead_score_tier_id", "lead_score_objection"]
        )
        self.env.cr.execute(
            SQL(
                """
                UPDATE res_partner p
                   SET lead_score_tier_id = band.id
                  FROM res_partner p2
                  LEFT JOIN LATERAL (%s) band ON TRUE
                 WHERE p.id = p2.id AND %s
                   AND p.lead_score_tier_id IS DISTINCT FROM band.id
             RETURNING p.id
                """,
                tier_of(
                    SQL("p2.lead_score"),
                    self.env["lead.score.group"]._tier_group().id or None,
                    SQL("p2.lead_score_objection IS NOT TRUE"),
                ),
                among("p2.id"),
            )
        )
        moved = self.env["res.partner"].browse(row[0] for row in self.env.cr.fetchall())
        self.env.cr.execute(
            SQL(
                """
                UPDATE lead_score_value v
                   SET tier_id = band.id
                  FROM lead_score_value v2
                  JOIN res_partner p ON p.id = v2.partner_id
                  LEFT JOIN LATERAL (%s) band ON TRUE
                 WHERE v.id = v2.id AND %s AND v.tier_id IS DISTINCT FROM band.id
                """,
                tier_of(
                    SQL("v2.score"),
                    SQL("v2.group_id"),
                    SQL("p.lead_score_objection IS NOT TRUE"),
                ),
                among("v2.partner_id"),
            )
        )
        self.env["lead.score.value"].invalidate_model(["tier_id"])
        self.env["res.partner"].invalidate_model(["lead_score_tier_id"])
        moved.modified(["lead_score_tier_id"])
        self.env["crm.lead"]._copy_partner_fields(["partner_lead_score_tier_id"])
        # The grade ranks contacts by their group tiers.
        self.env["lead.score.writer"]._recompute_lead_score_grades(partner_ids)
