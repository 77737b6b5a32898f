from odoo.exceptions import AccessError, UserError
from odoo.tests import new_test_user, tagged

from .common import LeadScoringCase


@tagged("post_install", "-at_install")
class TestAccess(LeadScoringCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.portal = new_test_user(cls.env, "ls_portal", groups="base.group_portal")
        cls.public = cls.env.ref("base.public_user")
        cls.operation = cls.Operation.create(
            {"partner_id": cls.partner.id, "operation": "add", "value": 5}
        )
        cls.tier = cls.Tier.create({"name": "Hot", "min_score": 100})
        cls.rule = cls.Rule.create(
            {"name": "All", "value": 1, "domain": "[('id', '=', 0)]"}
        )

    def test_portal_and_public_never_read_a_score(self):
        for user in (self.portal, self.public, self.internal):
            with self.subTest(user=user.login):
                partner = self.partner.with_user(user)
                for fname in (
                    "lead_score",
                    "lead_score_change_7d",
                    "lead_score_change_30d",
                ):
                    with self.assertRaises(AccessError):
                        partner.read([fname])
                    with self.assertRaises(AccessError):
                        partner.search([(fname, ">=", 30)])
                    with self.assertRaises(AccessError):
                        partner.read_group([], [fname], [fname])
                with self.assertRaises(AccessError):
                    self.Operation.with_user(user).search([])
                with self.assertRaises(AccessError):
                    self.Operation.with_user(user).create(
                        {"partner_id": self.partner.id, "operation": "add", "value": 1}
                    )

    def test_user_sees_and_adjusts_but_cannot_delete_or_configure(self):
        Operation = self.Operation.with_user(self.user)
        self.assertEqual(self.partner.with_user(self.user).lead_score, 5)
        Operation.create(
            {"partner_id": self.partner.id, "operation": "add", "value": 1}
        )
        with self.assertRaises(AccessError):
            self.operation.with_user(self.user).unlink()
        with self.assertRaises(AccessError):
            self.Rule.with_user(self.user).create(
                {"name": "x", "value": 1, "match_all": True}
            )
        with self.assertRaises(AccessError):
            self.tier.with_user(self.user).write({"min_score": 1})
        self.assertTrue(self.rule.with_user(self.user).read(["name"]))

    def test_manager_configures_and_deletes(self):
        self.Rule.with_user(self.manager).create(
            {"name": "x", "value": 1, "match_all": True}
        )
        self.tier.with_user(self.manager).write({"min_score": 90})
        self.operation.with_user(self.manager).unlink()
        self.assertEqual(self.partner.lead_score, 0)

    def test_operations_follow_the_contacts_company(self):
        other_company = self.env["res.company"].create({"name": "Other Co"})
        foreign = self.env["res.partner"].create(
            {"name": "Foreign", "company_id": other_company.id}
        )
        foreign_operation = self.Operation.create(
            {"partner_id": foreign.id, "operation": "add", "value": 3}
        )
        self.assertEqual(foreign_operation.company_id, other_company)
        visible = self.Operation.with_user(self.user).search([])
        self.assertNotIn(foreign_operation, visible)
        self.assertIn(self.operation, visible)


@tagged("post_install", "-at_install")
class TestAccessMatrix(LeadScoringCase):
    """Every model and action, for every kind of user: what is allowed."""

    # (model, action) -> users allowed among public, portal, internal, user, manager
    EXPECTED = {
        ("lead.score.operation", "read"): {"user", "manager"},
        ("lead.score.operation", "create"): {"user", "manager"},
        ("lead.score.operation", "write"): {"manager"},
        ("lead.score.operation", "write points"): set(),
        ("lead.score.operation", "create rule line"): set(),
        ("lead.score.operation", "create reserved key"): set(),
        ("lead.score.operation", "create dated later"): {"manager"},
        ("lead.score.operation", "unlink"): {"manager"},
        ("lead.score.rule", "read"): {"user", "manager"},
        ("lead.score.rule", "create"): {"manager"},
        ("lead.score.rule", "write"): {"manager"},
        ("lead.score.rule", "unlink"): {"manager"},
        ("lead.score.rule", "run"): {"manager"},
        # A rule's preview reads scores: managers only, however it is asked.
        ("lead.score.rule", "preview"): {"manager"},
        ("lead.score.rule", "preview values"): {"manager"},
        ("lead.score.tier", "read"): {"user", "manager"},
        ("lead.score.tier", "create"): {"manager"},
        ("lead.score.tier", "write"): {"manager"},
        ("lead.score.tier", "unlink"): {"manager"},
        ("lead.score.group", "read"): {"user", "manager"},
        ("lead.score.group", "create"): {"manager"},
        ("lead.score.group", "write"): {"manager"},
        ("lead.score.group", "unlink"): {"manager"},
        # Written by the engine only.
        ("lead.score.value", "read"): {"user", "manager"},
        ("lead.score.value", "create"): set(),
        ("lead.score.value", "write"): set(),
        ("lead.score.value", "unlink"): set(),
        ("lead.score.adjust", "create"): {"user", "manager"},
        ("lead.score.quality", "create"): {"user", "manager"},
        ("lead.score.erase", "count"): {"manager"},
        ("res.partner", "read score"): {"user", "manager"},
    }

    FORGED = {
        "create rule line": {"source": "rule", "rule_key": "once"},
        "create reserved key": {"idempotency_key": "mailing-trace:1:click"},
        "create dated later": {"date": "2999-01-01 00:00:00"},
    }

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.users = {
            "public": cls.env.ref("base.public_user"),
            "portal": new_test_user(cls.env, "ls_portal_m", groups="base.group_portal"),
            "internal": cls.internal,
            "user": cls.user,
            "manager": cls.manager,
        }
        cls.group = cls.env["lead.score.group"].create({"name": "Fit"})

    def _attempt(self, model, action, user):
        env = self.env(user=user)
        with self.env.cr.savepoint():
            if model == "res.partner":
                env["res.partner"].browse(self.partner.id).read(["lead_score"])
            elif model == "lead.score.adjust":
                env[model].create(
                    {"partner_ids": [self.partner.id], "value": 1, "note": "x"}
                )
            elif action == "preview values":
                draft = env[model].new(
                    {"name": "Draft", "domain": f"[('id', '=', {self.partner.id})]"}
                )
                # Nothing to see is a refusal.
                return bool(draft.match_count or draft.condition_summary)
            elif action == "count":
                self.Operation.sudo().create(self._new_vals("lead.score.operation"))
                wizard = env[model].new({"partner_ids": [(6, 0, self.partner.ids)]})
                return bool(wizard.operation_count)
            elif action == "create":
                env[model].create(self._new_vals(model))
            elif action.startswith("create "):
                env[model].create(dict(self._new_vals(model), **self.FORGED[action]))
            elif action == "write points":
                env[model].browse(self._sample(model).id).write({"value": 500})
            else:
                record = env[model].browse(self._sample(model).id)
                if action == "read":
                    record.read(["display_name"])
                elif action == "write":
                    record.write(
                        {"note": "n"}
                        if model == "lead.score.operation"
                        else {"name": "n"}
                    )
                elif action == "unlink":
                    record.unlink()
                elif action == "run":
                    record.action_run_now()
                elif action == "preview":
                    record.action_preview_contacts()
            return True

    def _new_vals(self, model):
        return {
            "lead.score.operation": {"partner_id": self.partner.id, "value": 1},
            "lead.score.rule": {"name": "New", "value": 1, "match_all": True},
            "lead.score.tier": {"name": "New tier", "min_score": 7},
            "lead.score.group": {"name": "New group"},
            "lead.score.value": {
                "partner_id": self.partner.id,
                "group_id": self.group.id,
            },
            "lead.score.quality": {"band_width": 10},
        }[model]

    def _sample(self, model):
        sudo_model = self.env[model].sudo()
        if model == "lead.score.operation":
            return sudo_model.create(self._new_vals(model))
        if model == "lead.score.rule":
            return sudo_model.create(
                {"name": "Sample", "value": 1, "domain": "[('id', '=', 0)]"}
            )
        self.samples = getattr(self, "samples", 0) + 1
        if model == "lead.score.group":
            return sudo_model.create({"name": f"Sample {self.samples}"})
        if model == "lead.score.value":
            partner = self.partner.sudo().copy()
            return sudo_model.create(
                {"partner_id": partner.id, "group_id": self.group.id}
            )
        return sudo_model.create(
            {"name": f"Sample {self.samples}", "min_score": 1000 + self.samples}
        )

    def test_access_matrix(self):
        for (model, action), allowed in self.EXPECTED.items():
            for kind, user in self.users.items():
                with self.subTest(model=model, action=action, user=kind):
                    error = None
                    try:
                        done = self._attempt(model, action, user)
                    except (AccessError, UserError) as refused:
                        done, error = False, refused
                    self.assertEqual(
                        done, kind in allowed, f"{kind} {action} {model}: {error}"
                    )
