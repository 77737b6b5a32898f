# Copyright 2026 Lead Scoring contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import json

from lxml import html

from odoo.tests import HttpCase

from odoo.addons.lead_scoring_website.tools import form_token

FORM_ARCH = """
<t t-name="%(key)s">
    <t t-call="website.layout">
        <div id="wrap">
            <section class="s_website_form" data-snippet="s_website_form">
                <form id="scored_form" action="/website/form/" method="post"
                      data-model_name="%(model)s" %(attribute)s>
                    <input type="hidden" name="lead_scoring_token" value="1:stale"/>
                    <input type="text" class="s_website_form_input" name="contact_name"/>
                </form>
            </section>
        </div>
    </t>
</t>
"""


class FormScoringCase(HttpCase):
    """A website with a lead form that adds 10 points per submission."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(context=dict(cls.env.context, tracking_disable=True))
        cls.website = cls.env["website"].get_current_website()
        cls.Setting = cls.env["lead.score.form.setting"]
        cls.Operation = cls.env["lead.score.operation"]
        cls.lead_model = cls.env["ir.model"]._get("crm.lead")
        cls.setting = cls.Setting.create(
            {
                "name": "Contact us",
                "website_id": cls.website.id,
                "model_id": cls.lead_model.id,
                "operation": "add",
                "value": 10,
                "note": "Filled in the contact form",
            }
        )

    def token(self, setting=None, model_name="crm.lead"):
        setting = setting or self.setting
        return form_token(self.env(su=True), setting.id, model_name)

    def create_page(self, url, model="crm.lead", setting=None):
        attribute = f'data-lead-scoring-setting-id="{setting.id}"' if setting else ""
        key = f"lead_scoring_website.test_page_{url.strip('/').replace('-', '_')}"
        return self.env["website.page"].create(
            {
                "url": url,
                "website_id": self.website.id,
                "is_published": True,
                "type": "qweb",
                "key": key,
                "arch": FORM_ARCH
                % {"key": key, "model": model, "attribute": attribute},
            }
        )

    def rendered_tokens(self, url):
        response = self.url_open(url)
        self.assertEqual(response.status_code, 200)
        tree = html.fromstring(response.content)
        return tree.xpath(
            "//form[@id='scored_form']//input[@name='lead_scoring_token']"
        )

    def submit(self, model_name="crm.lead", token=None, **values):
        """Post the lead form as a browser does; returns the created record."""
        data = {
            "contact_name": "Ada Lovelace",
            "email_from": "ada@example.com",
            "name": "A question",
            "description": "Hello",
            **values,
        }
        if token is not False:
            data["lead_scoring_token"] = token or self.token()
        response = self.url_open(f"/website/form/{model_name}", data=data)
        self.assertEqual(response.status_code, 200)
        record_id = json.loads(response.content).get("id")
        self.assertTrue(record_id, f"the form did not create a record: {response.text}")
        return self.env[model_name].browse(record_id)

    def operations(self, partner=None):
        domain = [("source", "=", "website")]
        if partner is not None:
            domain.append(("partner_id", "=", partner.id))
        return self.Operation.search(domain)
