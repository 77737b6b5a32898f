# Copyright 2026 Lead Scoring contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo.exceptions import AccessError, ValidationError
from odoo.tests import tagged

from odoo.addons.mail.tests.common import MockEmail

from .common import MarketingCase


@tagged("post_install", "-at_install")
class TestAutomationStep(MarketingCase, MockEmail):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["automation.configuration"].search([]).active = False
        cls.template = cls.env["mail.template"].create(
            {
                "name": "Offer",
                "model_id": cls.model_partner.id,
                "subject": "Our offer",
                "partner_to": "{{ object.id }}",
                "body_html": '<p>See <a href="https://example.com/pricing">pricing</a></p>',
            }
        )
        cls.configuration = cls.env["automation.configuration"].create(
            {
                "name": "Nurture",
                "model_id": cls.model_partner.id,
                "editable_domain": f"[('id', '=', {cls.partner.id})]",
            }
        )

    def step(self, **vals):
        return self.env["automation.configuration.step"].create(
            {
                "name": "Step",
                "configuration_id": self.configuration.id,
                "trigger_type": "start",
                **vals,
            }
        )

    def start(self):
        self.configuration.start_automation()
        self.configuration.run_automation()
        with self.mock_mail_gateway():
            self.env["automation.record.step"]._cron_automation_steps()

    def record_step(self, step):
        return self.env["automation.record.step"].search(
            [("configuration_step_id", "=", step.id)]
        )

    def test_click_in_campaign_mail_adds_points_once(self):
        mail = self.step(
            name="Offer", step_type="mail", mail_template_id=self.template.id
        )
        engagement = self.env["lead.score.group"].create({"name": "Engagement"})
        score = self.step(
            name="Clicked the offer",
            step_type="lead_score",
            lead_score_value=25,
            lead_score_group_id=engagement.id,
            parent_id=mail.id,
            trigger_type="mail_click",
        )
        self.start()
        sent = self.record_step(mail)
        self.assertEqual(sent.mail_status, "sent")
        self.assertEqual(self.partner.lead_score, 0)
        sent._set_mail_open()
        self.env["automation.record.step"]._cron_automation_steps()
        self.assertEqual(self.partner.lead_score, 0, "an open is not a click")
        sent._set_mail_clicked()
        self.env["automation.record.step"]._cron_automation_steps()
        scored = self.record_step(score)
        self.assertEqual(scored.state, "done")
        self.assertEqual(self.partner.lead_score, 25)
        operation = self.partner.lead_score_operation_ids
        self.assertEqual(
            (operation.source, operation.res_model, operation.res_id),
            ("automation", "automation.record.step", scored.id),
        )
        self.assertEqual(operation.group_id, engagement)
        self.assertIn("Nurture", operation.note)
        self.assertIn("Clicked the offer", operation.note)
        # A step run again (retried by hand, or a crash after scoring) scores once.
        scored.write({"state": "scheduled"})
        scored.run()
        self.assertEqual(scored.state, "done")
        self.assertEqual(self.partner.lead_score, 25)

    def test_step_on_leads_scores_the_lead_contact(self):
        lead = self.env["crm.lead"].create(
            {"name": "Big deal", "partner_id": self.partner.id}
        )
        self.configuration.write(
            {
                "model_id": self.model_lead.id,
                "editable_domain": f"[('id', '=', {lead.id})]",
            }
        )
        step = self.step(
            step_type="lead_score", lead_score_operation="set", lead_score_value=70
        )
        self.assertEqual(
            step.lead_score_partner_field_id,
            self.env.ref("crm.field_crm_lead__partner_id"),
        )
        self.start()
        self.assertEqual(self.record_step(step).state, "done")
        self.assertEqual(self.partner.lead_score, 70)

    def test_step_error_is_recorded_on_the_step(self):
        step = self.step(step_type="lead_score")
        self.partner.active = False
        self.configuration.editable_domain = (
            f"[('id', '=', {self.partner.id}), ('active', 'in', [True, False])]"
        )
        self.start()
        record_step = self.record_step(step)
        self.assertEqual(record_step.state, "error")
        self.assertIn("archived contact", record_step.error_trace)
        self.assertFalse(self.partner.lead_score_operation_ids)

    def test_user_cannot_claim_a_step_key(self):
        """A Lead Scoring User recording a line as over RPC cannot pre-claim
        a scheduled step's key (the step would then score nothing) nor pass a
        line for a campaign's."""
        step = self.step(step_type="lead_score", lead_score_value=25)
        self.configuration.start_automation()
        self.configuration.run_automation()
        record_step = self.record_step(step)
        self.assertEqual(record_step.state, "scheduled")
        operations = self.env["lead.score.operation"].with_user(self.user)
        for vals in (
            {"idempotency_key": record_step._lead_score_idempotency_key()},
            {"source": "automation"},
            {"res_model": record_step._name, "res_id": record_step.id},
        ):
            with self.subTest(vals=vals):
                with self.assertRaises(AccessError):
                    operations.create(
                        {"partner_id": self.partner.id, "value": 1, **vals}
                    )
        self.assertFalse(self.partner.lead_score_operation_ids)
        self.env["automation.record.step"]._cron_automation_steps()
        self.assertEqual(record_step.state, "done")
        self.assertEqual(self.partner.lead_score, 25)

    def test_test_run_does_not_score(self):
        step = self.step(step_type="lead_score")
        self.configuration.start_automation()
        self.configuration._create_record(self.partner, is_test=True)
        self.env["automation.record.step"]._cron_automation_steps()
        self.assertEqual(self.record_step(step).state, "done")
        self.assertEqual(self.partner.lead_score, 0)

    def test_step_type_icon_and_form(self):
        step = self.step(step_type="lead_score")
        self.assertEqual(step.step_icon, "fa fa-line-chart")
        arch = self.env["automation.configuration.step"].get_view(view_type="form")[
            "arch"
        ]
        self.assertIn('name="lead_score"', arch)
        self.assertIn("lead_score_value", arch)

    def test_bad_step_values_are_refused(self):
        with self.assertRaisesRegex(ValidationError, "out of range"):
            self.step(step_type="lead_score", lead_score_value=-1)
        self.configuration.model_id = self.env.ref("base.model_res_partner_bank")
        with self.assertRaisesRegex(ValidationError, "holds the contact"):
            self.step(
                step_type="lead_score",
                lead_score_partner_field_id=self.env.ref(
                    "crm.field_crm_lead__partner_id"
                ).id,
            )

    def test_export_and_import_keep_the_score_settings(self):
        fit = self.env["lead.score.group"].create({"name": "Fit"})
        self.step(
            step_type="lead_score",
            lead_score_value=33,
            lead_score_note="Hi",
            lead_score_group_id=fit.id,
        )
        data = self.configuration._export_configuration()
        copy = self.env["automation.configuration"]._create_document_from_data(data)
        step = copy.automation_step_ids
        self.assertEqual(
            (
                step.step_type,
                step.lead_score_value,
                step.lead_score_note,
                step.lead_score_group_id,
            ),
            ("lead_score", 33, "Hi", fit),
        )
