# Copyright 2026 Lead Scoring contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo.addons.lead_scoring.tests.common import LeadScoringCase


class MarketingCase(LeadScoringCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.model_partner = cls.env.ref("base.model_res_partner")
        cls.model_lead = cls.env.ref("crm.model_crm_lead")

    @classmethod
    def score_action(cls, model=None, **vals):
        """A server action of type "Update lead score"."""
        return cls.env["ir.actions.server"].create(
            {
                "name": "Engaged",
                "model_id": (model or cls.model_partner).id,
                "state": "lead_score",
                "lead_score_operation": "add",
                "lead_score_value": 15,
                **vals,
            }
        )

    @staticmethod
    def run_on(action, records):
        """Run an action on records as the web client and automations do."""
        return action.with_context(
            active_model=records._name,
            active_id=records[:1].id,
            active_ids=records.ids,
        ).run()
