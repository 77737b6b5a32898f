# Copyright 2026 Lead Scoring contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""What a server action and a campaign step share: which fields of a model can
hold the contact to score, and which contact a record points to."""

from odoo import _, api, models
from odoo.exceptions import ValidationError

PARTNER_MODEL = "res.partner"


class LeadScoreTarget(models.AbstractModel):
    _name = "lead.score.target"
    _description = "Lead Score: contact of a record"

    @api.model
    def _contact_field_domain(self, model_ids=None):
        """Fields able to hold the contact to score: stored many2one to contacts."""
        domain = [
            ("ttype", "=", "many2one"),
            ("relation", "=", PARTNER_MODEL),
            ("store", "=", True),
        ]
        if model_ids is not None:
            domain.append(("model_id", "in", list(model_ids)))
        return domain

    @api.model
    def _default_contact_field(self, ir_model):
        """The contact field to propose for a model: partner_id when it exists."""
        if not ir_model or ir_model.model == PARTNER_MODEL:
            return self.env["ir.model.fields"]
        candidates = (
            self.env["ir.model.fields"]
            .sudo()
            .search(self._contact_field_domain([ir_model.id]), order="id")
        )
        preferred = candidates.filtered(lambda field: field.name == "partner_id")
        return (preferred or candidates)[:1]

    @api.model
    def _scorable_models(self):
        """Models whose records can be scored: contacts, and the models having
        a stored field pointing to a contact."""
        fields_ = (
            self.env["ir.model.fields"].sudo().search(self._contact_field_domain())
        )
        models_ = fields_.model_id | self.env["ir.model"]._get(PARTNER_MODEL)
        return models_.filtered(lambda model: not model.transient)

    @api.model
    def _check_contact_field(self, ir_model, field, label):
        """Raise unless records of ir_model can be scored through field."""
        if ir_model.model == PARTNER_MODEL:
            return
        if ir_model.transient:
            raise ValidationError(
                _(
                    "%(label)s: %(model)s is not a model whose records are kept, "
                    "a score cannot be updated from it.",
                    label=label,
                    model=ir_model.name,
                )
            )
        if not self._default_contact_field(ir_model):
            raise ValidationError(
                _(
                    "%(label)s: the records of %(model)s do not point to a contact, "
                    "so there is no score to update. Use this on contacts or on a "
                    "model linked to a contact (leads, sales orders, event "
                    "registrations, mailing traces ...).",
                    label=label,
                    model=ir_model.name,
                )
            )
        if (
            not field
            or field.model_id != ir_model
            or field.ttype != "many2one"
            or field.relation != PARTNER_MODEL
            or not field.store
        ):
            raise ValidationError(
                _(
                    "%(label)s: choose the field of %(model)s that holds the contact "
                    "to score.",
                    label=label,
                    model=ir_model.name,
                )
            )

    @api.model
    def _contact_of(self, record, field_name=None):
        """The contact a record points to (empty if none)."""
        if record._name == PARTNER_MODEL:
            partner = record
        elif field_name and field_name in record._fields:
            partner = record[field_name]
        elif (
            "partner_id" in record._fields
            and record._fields["partner_id"].comodel_name == PARTNER_MODEL
        ):
            partner = record.partner_id
        elif hasattr(record, "_mail_get_partners"):
            partner = record._mail_get_partners()[record.id]
        else:
            partner = self.env[PARTNER_MODEL]
        return partner.sudo()[:1]
