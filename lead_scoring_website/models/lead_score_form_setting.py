# Copyright 2026 Lead Scoring contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""What a submission of one website form does to the score of whoever sent it.

A setting is made from the website editor (see :meth:`editor_save`, in
``lead_score_form_setting_editor.py``) and referenced by the form's
``data-lead-scoring-setting-id``; the controller applies it through
:meth:`_score_submission`.
"""

from datetime import timedelta

from odoo import _, api, fields, models
from odoo.exceptions import AccessError, ValidationError
from odoo.tools import email_normalize

from odoo.addons.lead_scoring.models.lead_score_contact import DEFAULT_CONTACT_FIELD
from odoo.addons.lead_scoring.models.lead_score_group import default_group
from odoo.addons.lead_scoring.models.lead_score_operation import (
    MAX_POINTS,
    OPERATIONS,
)

from ..tools import LINK_CONTEXT, UNSYNCED_FIELD

MANAGER_GROUP = "lead_scoring.group_lead_scoring_manager"
# The most points a website designer may put on a form; more needs a Lead
# Scoring manager.
CEILING_PARAM = "lead_scoring_website.designer_max_points"
DEFAULT_CEILING = 50
REPEATS = [("once", "Once per contact"), ("every", "Once per contact per period")]
MAX_REPEAT_HOURS = 24 * 366
# Where forms put the sender's details, most specific first.
EMAIL_KEYS = ("email_from", "email", "partner_email")
PHONE_KEYS = ("phone", "partner_phone", "mobile")
NAME_KEYS = ("contact_name", "partner_name", "name")
# Where the sender's company is, on models without a field for the person's name
# (a lead has one and keeps the company in partner_name, as website_crm's form).
COMPANY_KEYS = ("company_name", "company")
# What scoring reads of a submission (kept while its scoring is held).
SCORING_KEYS = frozenset(
    {*EMAIL_KEYS, *PHONE_KEYS, *NAME_KEYS, *COMPANY_KEYS, "first_name", "last_name"}
)
# What a new contact takes of the visitor's typed values, at most.
NAME_LIMIT = 128
PHONE_LIMIT = 64
# Any other text read of a submission or of the editor, at most.
TEXT_LIMIT = 256


class LeadScoreFormSetting(models.Model):
    _name = "lead.score.form.setting"
    _description = "Website Form Scoring"
    _order = "website_id, page_url, id"

    name = fields.Char(string="Form", required=True)
    active = fields.Boolean(default=True)
    website_id = fields.Many2one(
        "website", required=True, ondelete="cascade", index=True
    )
    company_id = fields.Many2one(related="website_id.company_id", store=True)
    model_id = fields.Many2one(
        "ir.model",
        string="Creates",
        required=True,
        ondelete="cascade",
        domain=[("website_form_access", "=", True)],
        help="The kind of record the form creates; it follows the form's action "
        "when the form is saved in the website editor.",
    )
    model_name = fields.Char(related="model_id.model", store=True, index=True)
    page_url = fields.Char(string="Page", help="The page where the form was set up.")
    operation = fields.Selection(OPERATIONS, required=True, default="add")
    value = fields.Integer(string="Points", required=True, default=10)
    group_id = fields.Many2one(
        "lead.score.group",
        string="Score group",
        required=True,
        ondelete="restrict",
        default=default_group,
    )
    note = fields.Char(
        string="Internal note",
        help="Recorded on each score operation; the form's name when empty.",
    )
    repeat = fields.Selection(
        REPEATS,
        string="Scores",
        required=True,
        default="once",
        help="Once per contact: later submissions of the same contact score nothing. "
        "Once per contact per period: a contact scores again in the next period, "
        "however often the form is sent meanwhile.",
    )
    repeat_hours = fields.Integer(
        string="Period (hours)",
        default=24,
        help="A contact scores again once this many hours have passed since "
        "the form last scored them.",
    )
    operation_count = fields.Integer(compute="_compute_operation_count")
    held_count = fields.Integer(
        string="Held",
        compute="_compute_held_count",
        help="Submissions of this form whose scoring is held: too many came from "
        "one network address within an hour.",
    )

    _sql_constraints = [
        (
            "value_range",
            f"CHECK (value BETWEEN {-MAX_POINTS} AND {MAX_POINTS})",
            "Points must stay between -1,000,000 and 1,000,000.",
        ),
    ]

    @api.constrains("operation", "value", "repeat", "repeat_hours")
    def _check_value(self):
        for setting in self:
            if setting.operation != "set" and setting.value < 0:
                raise ValidationError(
                    _("Points to add or remove cannot be negative (%s).", setting.name)
                )
            if setting.repeat == "every" and not (
                1 <= setting.repeat_hours <= MAX_REPEAT_HOURS
            ):
                raise ValidationError(
                    _(
                        "The period of %(form)s must be 1 to %(max)s hours.",
                        form=setting.name,
                        max=MAX_REPEAT_HOURS,
                    )
                )

    @api.model
    def _designer_ceiling(self):
        value = self.env["ir.config_parameter"].sudo().get_param(CEILING_PARAM)
        try:
            return int(value) if value not in (None, False, "") else DEFAULT_CEILING
        except ValueError:
            return DEFAULT_CEILING

    def _check_points_ceiling(self):
        """Forms worth more than the ceiling (either way) need a Lead Scoring
        manager: a website designer may not hand out more points than that."""
        ceiling = self._designer_ceiling()
        above = self.filtered(lambda setting: abs(setting.value) > ceiling)
        if above and not self.env.user.has_group(MANAGER_GROUP):
            raise AccessError(
                _(
                    "Only a Lead Scoring manager can make a form worth more than "
                    "%(max)s points (%(form)s).",
                    max=ceiling,
                    form=", ".join(above.mapped("name")),
                )
            )

    @api.model_create_multi
    def create(self, vals_list):
        settings = super().create(vals_list)
        settings._check_points_ceiling()
        return settings

    def write(self, vals):
        # Only what changes what a form is worth: anyone may still rename or
        # turn off a form a manager made worth more.
        worth = ("value", "operation")
        if not any(name in vals for name in (*worth, "active", "website_id")):
            return super().write(vals)
        before = {s.id: ([s[name] for name in worth], s.active) for s in self}
        result = super().write(vals)
        self.filtered(
            lambda s: [s[name] for name in worth] != before[s.id][0]
            or (s.active and not before[s.id][1])
        )._check_points_ceiling()
        if "website_id" in vals and not self.env.su:
            # Record rules are checked on the records as they were: a setting
            # moved to a website of another company must pass them as it is.
            self.check_access("write")
        return result

    def _key_prefix(self):
        self.ensure_one()
        return f"website-form:{self.id}:"

    def _idempotency_key(self, partner):
        """What makes a submission score once: the key is unique per contact,
        so one submission replayed any number of times scores once.

        In the "every" mode a line's key names the contact's previous line of
        this form: two submissions racing after the period make the same key
        and only one scores, and within the period the key is the last line's
        own, so nothing is added (a window sliding from the last scoring:
        no replay around a fixed boundary scores twice)."""
        self.ensure_one()
        prefix = self._key_prefix()
        if self.repeat == "once":
            return f"{prefix}once"
        last = (
            self.env["lead.score.operation"]
            .sudo()
            .with_context(active_test=False)
            .search(
                [("partner_id", "=", partner.id), *self._operations_domain()],
                order="date desc, id desc",
                limit=1,
            )
        )
        period = timedelta(hours=self.repeat_hours)
        if last and last.date > fields.Datetime.now() - period:
            return last.idempotency_key
        return f"{prefix}after:{last.id or 0}"

    def _operations_domain(self):
        self.ensure_one()
        return [
            ("source", "=", "website"),
            ("idempotency_key", "=like", self._key_prefix() + "%"),
        ]

    def _compute_operation_count(self):
        operations = self.env["lead.score.operation"]
        for setting in self:
            setting.operation_count = (
                operations.search_count(setting._operations_domain())
                if setting.id
                else 0
            )

    def _compute_held_count(self):
        counts = dict(
            self.env["lead.score.form.held"]
            .sudo()
            ._read_group([("setting_id", "in", self.ids)], ["setting_id"], ["__count"])
        )
        for setting in self:
            setting.held_count = counts.get(setting, 0)

    def action_view_held(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "lead_scoring_website.lead_score_form_held_action"
        )
        action["domain"] = [("setting_id", "=", self.id)]
        return action

    def action_view_operations(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "lead_scoring.lead_score_operation_action"
        )
        action["domain"] = self._operations_domain()
        action["context"] = {}
        return action

    # ------------------------------------------------------------------
    # Scoring
    # ------------------------------------------------------------------
    @api.model
    def _submitted(self, submitted, keys, limit=TEXT_LIMIT):
        """The first value posted under keys, on one line, cut to limit."""
        for key in keys:
            value = submitted.get(key)
            value = " ".join(value.split())[:limit] if isinstance(value, str) else ""
            if value.strip():
                return value.strip()
        return False

    def _find_partner(self, record, submitted, user):
        """The contact behind a submission, and how it was found: the
        record's contact ("record"), the logged-in user ("user"), the contact
        with the submitted email ("email": anyone can type anyone's email);
        else no contact, and the normalized email to create it with (None
        without a valid email)."""
        self.ensure_one()
        partners = self.env["res.partner"].sudo()
        if not record or (record._name != "res.partner" and "partner_id" in submitted):
            # A contact chosen by the visitor in the post is not trusted.
            partner = partners
        else:
            partner = self.env["lead.score.contact"]._contact_of(record)
        if partner.active:
            return partner, "record"
        if user and not user._is_public() and user.partner_id.active:
            return user.partner_id.sudo(), "user"
        email = self._submitted(submitted, EMAIL_KEYS)
        normalized = email_normalize(email) if email else False
        if not normalized:
            return partners, None
        partner = partners.search(
            [
                ("email_normalized", "=", normalized),
                ("company_id", "in", [False, self.website_id.company_id.id]),
            ],
            order="id",
            limit=1,
        )
        if partner:
            return partner, "email"
        return partners, normalized

    def _find_or_create_partner(self, record, submitted, user):
        """The contact behind a submission (see _find_partner), created from
        the submission when none is found; and how it was found ("new" when
        created)."""
        self.ensure_one()
        partner, how = self._find_partner(record, submitted, user)
        if partner or not how:
            return partner, how
        normalized = how
        # Simultaneous submissions with this new email make one contact.
        self.env["lead.score.form.email"].sudo()._claim(normalized)
        values = self._new_contact_values(record, submitted)
        email = self._submitted(submitted, EMAIL_KEYS)
        new_partner = (
            self.env["res.partner"]
            .sudo()
            .create(dict(values, name=values["name"] or normalized, email=email))
        )
        return new_partner, "new"

    def _would_score(self, record, submitted, user=None):
        """Whether this submission would create a contact or change a score:
        only those count against an address's limit (a replay, or a
        submission without an email, changes nothing)."""
        self.ensure_one()
        partner, how = self._find_partner(record, submitted, user)
        if not partner:
            return bool(how)
        if how == "email" and self.operation != "add":
            return False
        if partner.lead_score_objection:
            return False
        key = self._idempotency_key(partner)
        return not (
            self.env["lead.score.operation"]
            .sudo()
            .with_context(active_test=False)
            .search_count(
                [("partner_id", "=", partner.id), ("idempotency_key", "=", key)],
                limit=1,
            )
        )

    @api.model
    def _new_contact_values(self, record, submitted):
        """Name, company and phone of a new contact, from what the visitor typed
        (only ever written on a contact the submission creates)."""
        if "contact_name" in record._fields:
            # A lead keeps its subject in `name` and the company in partner_name.
            name_keys, company_keys = ("contact_name",), ("partner_name",)
        else:
            name_keys, company_keys = NAME_KEYS, COMPANY_KEYS
        first_last = [
            self._submitted(submitted, (key,), NAME_LIMIT)
            for key in ("first_name", "last_name")
        ]
        name = self._submitted(submitted, name_keys, NAME_LIMIT) or " ".join(
            filter(None, first_last)
        )
        return {
            "name": name[:NAME_LIMIT],
            "company_name": self._submitted(submitted, company_keys, NAME_LIMIT),
            "phone": self._submitted(submitted, PHONE_KEYS, PHONE_LIMIT),
        }

    @api.model
    def _link_contact(self, record, partner, submitted, synced=True):
        """Give a record created without a contact (a web lead) the contact
        with its email, so that it shows the contact's score, as website_crm
        links a lead to the logged-in visitor with its email. The record keeps
        the values the visitor typed and the contact is left unchanged.

        A contact that the submission did not create (synced=False) is not
        the visitor's to change: the record takes none of its values and
        never writes to it (a lead marks it, see crm.lead); a model that
        cannot keep that promise is not linked to it."""
        field = record._fields.get(DEFAULT_CONTACT_FIELD)
        email = email_normalize(self._submitted(submitted, EMAIL_KEYS) or "")
        if (
            not record
            or not self.env["lead.score.contact"]._holds_contact(field)
            or record[field.name]
            or not email
            or partner.email_normalized != email
        ):
            return
        if not synced and UNSYNCED_FIELD not in record._fields:
            return
        company = record["company_id"] if "company_id" in record._fields else None
        if partner.company_id and partner.company_id != company:
            return
        # Without this, the record would take the contact's name, phone...
        # over the ones typed in the form (crm.lead computes them from its
        # contact); unsynced, it takes nothing of the contact.
        typed = [
            record._fields[name]
            for name in submitted
            if name in record._fields
            and record._fields[name].compute
            and record._fields[name].store
            and not record._fields[name].readonly
        ]
        if not synced:
            typed += [
                dependent
                for dependent in self.env.registry.get_dependent_fields(field)
                if dependent.model_name == record._name
                and dependent.compute
                and dependent.store
                and not dependent.readonly
            ]
        values = {field.name: partner.id}
        if not synced:
            values[UNSYNCED_FIELD] = True
        with self.env.protecting(typed, record):
            record.with_context(**{LINK_CONTEXT: True}).write(values)

    def _operation_note(self):
        # Out of _score_submission, whose `user` (None without a visitor)
        # _() would take for the language's user.
        self.ensure_one()
        return self.note or _("Website form: %s", self.name)

    def _score_submission(self, record, submitted, user=None, res_id=None):
        """Score the contact behind this submission; returns the operation.
        res_id: the record's id when it no longer exists (a held submission
        of an email sent and deleted since)."""
        self.ensure_one()
        partner, how = self._find_or_create_partner(record, submitted, user)
        self._link_contact(record, partner, submitted, synced=how == "new")
        by_email_only = how == "email"
        if not partner or (by_email_only and self.operation != "add"):
            # Typing someone's email must not lower or reset their score.
            return self.env["lead.score.operation"]
        return (
            self.env["lead.score.operation"]
            ._engine()
            .create(
                {
                    "partner_id": partner.id,
                    "operation": self.operation,
                    "value": self.value,
                    "group_id": self.group_id.id,
                    "note": self._operation_note(),
                    "source": "website",
                    "res_model": record._name,
                    "res_id": record.id or res_id,
                    "idempotency_key": self._idempotency_key(partner),
                    # The clock the key was computed with.
                    "date": fields.Datetime.now(),
                }
            )
        )
