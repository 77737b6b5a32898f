"""The access matrix of the website and marketing addons' models and actions,
for public, portal, internal user without the group, Lead Scoring User and
Manager (the core models' matrix is in lead_scoring/tests/test_access.py)."""

from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import TransactionCase, new_test_user, tagged


@tagged("post_install", "-at_install")
class TestAddonsAccessMatrix(TransactionCase):
    EXPECTED = {
        ("lead.score.form.setting", "read"): {"user", "manager"},
        ("lead.score.form.setting", "create"): {"manager"},
        ("lead.score.form.setting", "write"): {"manager"},
        ("lead.score.form.setting", "unlink"): {"manager"},
        ("lead.score.form.setting", "editor_save"): set(),  # website designers only
        # Write access to the records is not enough: scoring needs the group.
        ("ir.actions.server", "run lead score"): {"user", "manager"},
        # The forms' guards (address and email hashes): administrators only.
        ("lead.score.form.ip", "read"): set(),
        ("lead.score.form.ip", "create"): set(),
        ("lead.score.form.email", "read"): set(),
        ("lead.score.form.email", "create"): set(),
        # Held form submissions: managers see and score or discard them.
        ("lead.score.form.held", "read"): {"manager"},
        ("lead.score.form.held", "create"): set(),
        ("lead.score.form.held", "unlink"): {"manager"},
        ("lead.score.form.held", "release"): {"manager"},
        ("ir.actions.server", "create lead score"): set(),  # administrators only
        # Written by the engagement job only.
        ("lead.score.mailing.watermark", "read"): {"manager"},
        ("lead.score.mailing.watermark", "write"): set(),
    }

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.partner = cls.env["res.partner"].create({"name": "Scored"})
        cls.users = {
            "public": cls.env.ref("base.public_user"),
            "portal": new_test_user(cls.env, "lsa_portal", groups="base.group_portal"),
            "internal": new_test_user(
                cls.env,
                "lsa_internal",
                groups="base.group_user,base.group_partner_manager",
            ),
            "user": new_test_user(
                cls.env,
                "lsa_user",
                groups="base.group_user,base.group_partner_manager,lead_scoring.group_lead_scoring_user",
            ),
            "manager": new_test_user(
                cls.env,
                "lsa_manager",
                groups="base.group_user,base.group_partner_manager,lead_scoring.group_lead_scoring_manager",
            ),
        }
        cls.setting = cls.env["lead.score.form.setting"].create(
            {
                "name": "Contact form",
                "website_id": cls.env["website"].search([], limit=1).id,
                "model_id": cls.env.ref("crm.model_crm_lead").id,
                "value": 5,
            }
        )
        cls.action = cls.env["ir.actions.server"].create(
            {
                "name": "Score +3",
                "model_id": cls.env.ref("base.model_res_partner").id,
                "state": "lead_score",
                "lead_score_operation": "add",
                "lead_score_value": 3,
            }
        )
        held_setting = cls.env["lead.score.form.setting"].create(
            {
                "name": "Held form",
                "website_id": cls.setting.website_id.id,
                "model_id": cls.env.ref("crm.model_crm_lead").id,
            }
        )
        cls.held_vals = {
            "setting_id": held_setting.id,
            "res_model": "crm.lead",
            "res_id": cls.env["crm.lead"].create({"name": "Held"}).id,
            "ip_hash": "x",
            "submitted": {"email_from": "held@example.com"},
        }
        cls.watermark = cls.env["lead.score.mailing.watermark"].create(
            {"scored_until": "2026-01-01 00:00:00"}
        )
        cls.setting_vals = {
            "name": "Other form",
            "website_id": cls.setting.website_id.id,
            "model_id": cls.env.ref("crm.model_crm_lead").id,
        }

    def _attempt(self, model, action, env):
        if model == "lead.score.mailing.watermark":
            watermark = env[model].browse(self.watermark.id)
            if action == "read":
                watermark.read(["scored_until"])
            else:
                watermark.write({"scored_until": "2000-01-01 00:00:00"})
        elif model in ("lead.score.form.ip", "lead.score.form.email"):
            if action == "read":
                env[model].search([])
            else:
                hash_field = (
                    "ip_hash" if model == "lead.score.form.ip" else "email_hash"
                )
                env[model].create({hash_field: "x", "date": "2026-01-01 10:00:00"})
        elif model == "lead.score.form.held":
            # A held submission of its own for each attempt: a manager's
            # release or deletion removes it.
            held = env[model].browse(self.env[model].create(self.held_vals).id)
            if action == "read":
                held.read(["date"])
            elif action == "create":
                env[model].create(self.held_vals)
            elif action == "unlink":
                held.unlink()
            else:
                held.action_release()
        elif model == "lead.score.form.setting":
            settings = env[model]
            if action == "read":
                settings.browse(self.setting.id).read(["value"])
            elif action == "create":
                settings.create(self.setting_vals)
            elif action == "write":
                settings.browse(self.setting.id).write({"value": 7})
            elif action == "unlink":
                settings.browse(self.setting.id).unlink()
            else:
                settings.editor_save(
                    False, "crm.lead", {"operation": "add", "value": 9}
                )
        elif action == "run lead score":
            env["ir.actions.server"].browse(self.action.id).with_context(
                active_model="res.partner", active_ids=self.partner.ids
            ).run()
        else:
            env["ir.actions.server"].create(
                {
                    "name": "x",
                    "model_id": self.env.ref("base.model_res_partner").id,
                    "state": "lead_score",
                    "lead_score_value": 1,
                }
            )
        return True

    def test_access_matrix(self):
        for (model, action), allowed in self.EXPECTED.items():
            for kind, user in self.users.items():
                with self.subTest(model=model, action=action, user=kind):
                    error = None
                    try:
                        with self.env.cr.savepoint():
                            done = self._attempt(model, action, self.env(user=user))
                    except (AccessError, UserError, ValidationError) as refused:
                        done, error = False, refused
                    self.assertEqual(
                        done, kind in allowed, f"{kind} {action} {model}: {error}"
                    )
