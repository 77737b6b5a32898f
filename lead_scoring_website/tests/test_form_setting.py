# Copyright 2026 Lead Scoring contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from lxml import etree, html

from odoo.exceptions import AccessError, ValidationError
from odoo.tests import new_test_user, tagged
from odoo.tests.common import TransactionCase

from odoo.addons.lead_scoring_website.tools import (
    add_lead_scoring_token,
    form_token,
    verify_form_token,
)


@tagged("post_install", "-at_install")
class TestFormSetting(TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.website = cls.env["website"].get_current_website()
        cls.designer = new_test_user(
            cls.env,
            "ls_designer",
            groups="base.group_user,website.group_website_designer",
        )
        cls.restricted = new_test_user(
            cls.env,
            "ls_restricted",
            groups="base.group_user,website.group_website_restricted_editor",
        )
        cls.Setting = cls.env["lead.score.form.setting"]

    def save(self, setting_id=False, model_name="crm.lead", **values):
        values = {"operation": "add", "value": "15", **values}
        return (
            self.Setting.with_user(self.designer)
            .with_context(website_id=self.website.id)
            .editor_save(setting_id, model_name, values)
        )

    def test_designer_creates_a_setting(self):
        setting = self.Setting.browse(
            self.save(note=" Asked a question ", once=True, page_url="/contactus")
        )
        self.assertEqual(
            (setting.operation, setting.value, setting.note, setting.repeat),
            ("add", 15, "Asked a question", "once"),
        )
        self.assertEqual(setting.model_name, "crm.lead")
        self.assertEqual(setting.website_id, self.website)
        self.assertEqual(setting.page_url, "/contactus")

    def test_new_settings_score_once_per_contact(self):
        setting = self.Setting.browse(self.save())
        self.assertEqual((setting.repeat, setting.repeat_hours), ("once", 24))
        self.save(setting.id, once=False)
        self.assertEqual(setting.repeat, "every")

    def test_period_must_be_sensible(self):
        setting = self.Setting.browse(self.save(once=False))
        for hours in (0, -1, 24 * 367):
            with (
                self.subTest(hours=hours),
                self.assertRaises(ValidationError),
                self.env.cr.savepoint(),
            ):
                setting.repeat_hours = hours

    def test_editor_updates_and_turns_off(self):
        setting_id = self.save()
        self.assertEqual(self.save(setting_id, operation="set", value="-5"), setting_id)
        setting = self.Setting.with_context(active_test=False).browse(setting_id)
        self.assertEqual((setting.operation, setting.value), ("set", -5))
        self.save(setting_id, operation="off")
        self.assertFalse(setting.active)
        read = self.Setting.with_user(self.designer).editor_read(setting_id)
        self.assertEqual(read["operation"], "off")
        self.save(setting_id, operation="remove")
        self.assertTrue(setting.active)

    def test_off_without_setting_creates_nothing(self):
        settings = self.Setting.with_context(active_test=False)
        before = settings.search([])
        self.assertFalse(self.save(operation="off"))
        self.assertEqual(settings.search([]), before)

    def test_form_action_change_follows(self):
        setting_id = self.save()
        self.save(setting_id, model_name="mail.mail")
        self.assertEqual(self.Setting.browse(setting_id).model_name, "mail.mail")

    def test_setting_of_another_website_is_not_reused(self):
        other = self.env["website"].create({"name": "Other"})
        setting = self.Setting.create(
            {
                "name": "Other form",
                "website_id": other.id,
                "model_id": self.env["ir.model"]._get("crm.lead").id,
            }
        )
        new_id = self.save(setting.id, value="49")
        self.assertNotEqual(new_id, setting.id)
        self.assertEqual(setting.value, 10)

    def test_only_designers_configure(self):
        with self.assertRaises(AccessError):
            self.Setting.with_user(self.restricted).editor_save(
                False, "crm.lead", {"operation": "add", "value": 5}
            )
        with self.assertRaises(AccessError):
            self.Setting.with_user(self.restricted).editor_read(1)

    def test_invalid_values_are_refused(self):
        for model_name, values in [
            ("res.users", {}),
            ("crm.lead", {"value": "ten"}),
            ("crm.lead", {"value": "2000000"}),
            ("crm.lead", {"operation": "double"}),
            ("crm.lead", {"operation": "add", "value": "-3"}),
        ]:
            with (
                self.subTest(model=model_name, values=values),
                self.assertRaises(ValidationError),
                self.env.cr.savepoint(),
            ):
                self.save(model_name=model_name, **values)

    def test_token_is_bound_to_setting_and_model(self):
        env_sudo = self.env(su=True)
        token = form_token(env_sudo, 7, "crm.lead")
        self.assertEqual(verify_form_token(env_sudo, token, "crm.lead"), 7)
        self.assertIsNone(verify_form_token(env_sudo, token, "mail.mail"))
        self.assertIsNone(
            verify_form_token(env_sudo, "8:" + token.split(":")[1], "crm.lead")
        )
        self.assertIsNone(verify_form_token(env_sudo, ["7", "x"], "crm.lead"))
        signature = token.split(":")[1]
        for malformed in ("²:x", "1:é", "7:" + signature[:-1] + "é", "７:" + signature):
            with self.subTest(token=malformed):
                self.assertIsNone(verify_form_token(env_sudo, malformed, "crm.lead"))

    def test_renderer_replaces_stale_tokens(self):
        root = etree.fromstring(
            '<div><form action="/website/form/" data-model_name="crm.lead"'
            ' data-lead-scoring-setting-id="7">'
            '<input type="hidden" name="lead_scoring_token" value="7:forged"/></form>'
            '<form action="/website/form/" data-model_name="crm.lead">'
            '<input type="hidden" name="lead_scoring_token" value="7:old"/></form>'
            '<form action="/shop/cart" data-lead-scoring-setting-id="7"/>'
            '<form action="/website/form/" data-model_name="crm.lead"'
            ' data-lead-scoring-setting-id="²"/></div>'
        )
        add_lead_scoring_token(root, self.env(su=True))
        tokens = [[node.get("value") for node in form.iter("input")] for form in root]
        self.assertEqual(
            tokens, [[form_token(self.env(su=True), 7, "crm.lead")], [], [], []]
        )

    def test_html_field_forms_are_signed(self):
        value = (
            '<form action="/website/form/" data-model_name="crm.lead" '
            'data-lead-scoring-setting-id="3"><input name="email_from"/></form>'
        )
        rendered = self.env["ir.qweb.field.html"].value_to_html(value, {})
        tokens = html.fromstring(str(rendered)).xpath(
            "//input[@name='lead_scoring_token']/@value"
        )
        self.assertEqual(tokens, [form_token(self.env(su=True), 3, "crm.lead")])

    def test_contacts_and_crm_have_the_same_lead_scoring_menus(self):
        def actions(menu_xmlid):
            children = self.env.ref(menu_xmlid).child_id
            return sorted(menu.action.id for menu in children)

        crm = actions("lead_scoring.menu_lead_scoring_crm")
        self.assertEqual(actions("lead_scoring.menu_lead_scoring_contacts"), crm)
        form_settings = self.env.ref(
            "lead_scoring_website.lead_score_form_setting_action"
        )
        self.assertIn(form_settings.id, crm)
