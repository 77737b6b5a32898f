# Copyright 2026 Lead Scoring contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""A form's scoring as the website editor sets it up: what the editor's
options read (:meth:`editor_read`, :meth:`editor_groups`) and save
(:meth:`editor_save`), website designers only, on the websites of their
companies; and the demo's Contact Us form, set up as the editor would."""

from lxml import etree

from odoo import _, api, models
from odoo.exceptions import AccessError, ValidationError

from odoo.addons.lead_scoring.models.lead_score_operation import (
    MAX_POINTS,
    OPERATIONS,
)

from ..tools import SETTING_ATTRIBUTE
from .lead_score_form_setting import TEXT_LIMIT

DESIGNER_GROUP = "website.group_website_designer"
# The demo's Contact Us form creates leads: its inputs, as a lead's fields.
CONTACTUS_LEAD_FIELDS = {
    "name": "contact_name",
    "company": "partner_name",
    "subject": "name",
}
EDITOR_OPERATIONS = {"off", *dict(OPERATIONS)}


class LeadScoreFormSetting(models.Model):
    _inherit = "lead.score.form.setting"

    @api.model
    def _check_designer(self):
        if not self.env.user.has_group(DESIGNER_GROUP):
            raise AccessError(_("Only website designers can set up form scoring."))

    @api.model
    def _editor_website(self):
        """The website the editor works on, if the user may act on it.

        The website comes from the context or the session, which the caller
        writes: it is only taken when the user belongs to its company (a
        designer edits the websites of the companies they work for, whichever
        of them the company switcher shows)."""
        self._check_designer()
        website = self.env["website"].get_current_website().sudo().exists()
        if not website or website.company_id.id not in self.env.user._get_company_ids():
            raise AccessError(_("You cannot set up form scoring on this website."))
        return website

    @api.model
    def _editor_values(self, model, values):
        """The editor's values, checked, as field values."""
        vals = {"model_id": model.id}
        if "operation" in values:
            if values["operation"] not in EDITOR_OPERATIONS:
                raise ValidationError(_("Unknown operation %r.", values["operation"]))
            vals["active"] = values["operation"] != "off"
            if vals["active"]:
                vals["operation"] = values["operation"]
        if "value" in values:
            try:
                vals["value"] = int(str(values["value"]).strip() or 0)
            except ValueError as error:
                raise ValidationError(
                    _("Points must be a whole number, not %r.", values["value"])
                ) from error
            if not -MAX_POINTS <= vals["value"] <= MAX_POINTS:
                raise ValidationError(_("Points must stay within 1,000,000."))
        if "note" in values:
            vals["note"] = str(values["note"] or "").strip()[:TEXT_LIMIT] or False
        if "once" in values:
            vals["repeat"] = "once" if values["once"] else "every"
        if "repeat_hours" in values:
            try:
                vals["repeat_hours"] = int(str(values["repeat_hours"]).strip())
            except ValueError as error:
                raise ValidationError(
                    _("The period is a whole number of hours.")
                ) from error
        if values.get("group_id"):
            group = (
                self.env["lead.score.group"]
                .sudo()
                .browse(self._editor_id(values["group_id"]))
                .exists()
            )
            if not group.active:
                raise ValidationError(_("Choose an active score group."))
            vals["group_id"] = group.id
        for key in ("page_url", "name"):
            if values.get(key):
                vals[key] = str(values[key]).strip()[:TEXT_LIMIT]
        return vals

    @api.model
    def editor_save(self, setting_id, model_name, values):
        """Create or update the setting of a form from the website editor;
        returns its id (False when scoring is off and nothing was set up)."""
        website = self._editor_website()
        if not isinstance(values, dict):
            raise ValidationError(_("Invalid form scoring values."))
        model = (
            self.env["ir.model"]
            .sudo()
            .search(
                [("model", "=", model_name), ("website_form_access", "=", True)],
                limit=1,
            )
        )
        if not model:
            raise ValidationError(_("Website forms cannot create %s.", model_name))
        vals = self._editor_values(model, values)
        settings = self.sudo().with_context(active_test=False)
        setting = settings.browse()
        if setting_id:
            setting = settings.browse(self._editor_id(setting_id)).exists()
        # A form copied from another website gets its own setting.
        if setting and setting.website_id == website:
            setting.write(vals)
            return setting.id
        if vals.get("active") is False or "operation" not in vals:
            return False
        vals.setdefault(
            "name",
            _("%(form)s on %(page)s", form=model.name, page=vals.get("page_url", "?")),
        )
        return settings.create(dict(vals, website_id=website.id)).id

    @api.model
    def _demo_set_on_contactus_form(self):
        """Demo data: the Contact Us form creates leads and scores them, as a
        designer would set it up in the website editor."""
        setting = self.env.ref("lead_scoring_website.demo_form_setting_contactus")
        view = self.env.ref("website.contactus")
        arch = etree.fromstring(view.arch_db)
        for form in arch.iterfind(".//form[@id='contactus_form']"):
            form.set("data-model_name", "crm.lead")
            form.set(SETTING_ATTRIBUTE, str(setting.id))
            # The lead's fields, named as website_crm's form names them.
            for field in form.iterfind(".//*[@name]"):
                name = CONTACTUS_LEAD_FIELDS.get(field.get("name"), field.get("name"))
                field.set("name", name)
                if name == "email_to":
                    # The mail's recipient, meaningless for a lead.
                    block = field.xpath(
                        "ancestor::*[contains(@class, 's_website_form_field')][1]"
                    )[0]
                    block.getparent().remove(block)
        view.arch_db = etree.tostring(arch, encoding="unicode")

    @api.model
    def _editor_id(self, setting_id):
        try:
            return int(setting_id)
        except (TypeError, ValueError) as error:
            raise ValidationError(_("Invalid form scoring values.")) from error

    @api.model
    def editor_read(self, setting_id):
        """The setting as the editor's options show it; False for a setting
        of another website (a form copied from it gets its own setting)."""
        website = self._editor_website()
        setting = (
            self.sudo()
            .with_context(active_test=False)
            .browse(self._editor_id(setting_id))
            .exists()
        )
        if not setting or setting.website_id != website:
            return False
        return {
            "id": setting.id,
            "operation": setting.operation if setting.active else "off",
            "value": setting.value,
            "note": setting.note or "",
            "once": setting.repeat == "once",
            "repeat_hours": setting.repeat_hours,
            "group_id": setting.group_id.id,
            "model_name": setting.model_name,
        }

    @api.model
    def editor_groups(self):
        """The score groups a form may score in, for the editor's select:
        their names only (a designer configures forms, not groups)."""
        self._editor_website()
        return [
            (group.id, group.name)
            for group in self.env["lead.score.group"].sudo().search([])
        ]
