# Copyright 2026 Lead Scoring contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Which contact a record belongs to, for everything that scores records:
rules, server actions, campaign steps, website forms and mailing traces.

A record's contact is the record itself for a contact, else the value of a
field linking it to one: a many2one to res.partner, stored (rules and jobs read
it in SQL) and not company dependent (its value would depend on who reads it).
"""

from odoo import _, api, models
from odoo.exceptions import ValidationError
from odoo.tools import SQL

PARTNER_MODEL = "res.partner"
DEFAULT_CONTACT_FIELD = "partner_id"


class LeadScoreContact(models.AbstractModel):
    _name = "lead.score.contact"
    _description = "Lead Score: contact of a record"

    # ------------------------------------------------------------------
    # Contact fields
    # ------------------------------------------------------------------
    @api.model
    def _contact_field_domain(self, model_ids=None):
        """The ir.model.fields able to hold the contact to score."""
        domain = [
            ("ttype", "=", "many2one"),
            ("relation", "=", PARTNER_MODEL),
            ("store", "=", True),
            ("company_dependent", "=", False),
        ]
        if model_ids is not None:
            domain.append(("model_id", "in", list(model_ids)))
        return domain

    @api.model
    def _is_contact_field(self, field, ir_model):
        """Whether this ir.model.fields of ir_model can hold the contact."""
        return bool(
            field
            and field.model_id == ir_model
            and field.ttype == "many2one"
            and field.relation == PARTNER_MODEL
            and field.store
            and not field.company_dependent
        )

    @api.model
    def _holds_contact(self, field):
        """The same rules for a field of the registry."""
        return bool(
            field
            and field.type == "many2one"
            and field.comodel_name == PARTNER_MODEL
            and field.store
            and not field.company_dependent
        )

    @api.model
    def _default_contact_field(self, ir_model):
        """The contact field to propose for a model: partner_id when it exists."""
        if not ir_model:
            return self.env["ir.model.fields"]
        candidates = (
            self.env["ir.model.fields"]
            .sudo()
            .search(self._contact_field_domain([ir_model.id]), order="id")
        )
        preferred = candidates.filtered(
            lambda field: field.name == DEFAULT_CONTACT_FIELD
        )
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
        if not self._is_contact_field(field, ir_model):
            raise ValidationError(
                _(
                    "%(label)s: choose the field of %(model)s that holds the contact "
                    "to score.",
                    label=label,
                    model=ir_model.name,
                )
            )

    # ------------------------------------------------------------------
    # The contact of records
    # ------------------------------------------------------------------
    @api.model
    def _contact_of(self, record, field_name=None):
        """The contact a record points to (empty if none), through field_name
        or else its partner_id."""
        if record._name == PARTNER_MODEL:
            partner = record
        elif field_name and field_name in record._fields:
            partner = record[field_name]
        elif self._holds_contact(record._fields.get(DEFAULT_CONTACT_FIELD)):
            partner = record[DEFAULT_CONTACT_FIELD]
        elif hasattr(record, "_mail_get_partners"):
            partner = record._mail_get_partners()[record.id]
        else:
            partner = self.env[PARTNER_MODEL]
        return partner.sudo()[:1]

    @api.model
    def _contact_sql(self, model_names, model, res_id):
        """SQL giving the contact of the record (model, res_id), two SQL
        columns, among records of model_names: the contact itself, or the
        partner_id of the record of any other model (NULL without one)."""
        branches = [SQL("WHEN %s THEN %s", PARTNER_MODEL, res_id)]
        for model_name in sorted(set(model_names) - {PARTNER_MODEL}):
            records = self.env.get(model_name)
            if (
                records is None
                or records._abstract
                or not records._auto
                or not self._holds_contact(records._fields.get(DEFAULT_CONTACT_FIELD))
            ):
                continue
            branches.append(
                SQL(
                    "WHEN %s THEN (SELECT d.partner_id FROM %s d WHERE d.id = %s)",
                    model_name,
                    SQL.identifier(records._table),
                    res_id,
                )
            )
        return SQL("CASE %s %s END", model, SQL(" ").join(branches))
