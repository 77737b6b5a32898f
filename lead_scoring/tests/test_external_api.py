import xmlrpc.client

from odoo.tests import HttpCase, new_test_user, tagged


@tagged("post_install", "-at_install")
class TestExternalApi(HttpCase):
    """Other systems score through Odoo's ordinary external API."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.partner = cls.env["res.partner"].create({"name": "From the CRM sync"})
        cls.api_user = new_test_user(
            cls.env,
            "ls_api",
            password="ls_api_password",
            groups="base.group_user,lead_scoring.group_lead_scoring_user",
        )
        cls.outsider = new_test_user(
            cls.env,
            "ls_outsider",
            password="ls_outsider_password",
            groups="base.group_user",
        )

    def create_over_xmlrpc(self, login, password, vals):
        uid = self.xmlrpc_common.authenticate(self.env.cr.dbname, login, password, {})
        return self.xmlrpc_object.execute_kw(
            self.env.cr.dbname, uid, password, "lead.score.operation", "create", [vals]
        )

    def test_create_with_an_idempotency_key_scores_once(self):
        vals = {
            "partner_id": self.partner.id,
            "operation": "add",
            "value": 30,
            "note": "Webinar attended",
            "idempotency_key": "webinar-2026-11-1234",
        }
        first = self.create_over_xmlrpc("ls_api", "ls_api_password", vals)
        retried = self.create_over_xmlrpc("ls_api", "ls_api_password", vals)
        self.assertEqual(first, retried)
        self.assertEqual(self.partner.lead_score, 30)
        operation = self.env["lead.score.operation"].browse(first)
        self.assertEqual((operation.source, operation.user_id), ("api", self.api_user))

    def test_access_rights_apply(self):
        with self.assertRaises(xmlrpc.client.Fault) as error:
            self.create_over_xmlrpc(
                "ls_outsider",
                "ls_outsider_password",
                {"partner_id": self.partner.id, "operation": "add", "value": 5},
            )
        self.assertIn("not allowed", error.exception.faultString)
        self.assertEqual(self.partner.lead_score, 0)

    def test_bad_values_are_refused_over_the_api(self):
        with self.assertRaises(xmlrpc.client.Fault) as error:
            self.create_over_xmlrpc(
                "ls_api",
                "ls_api_password",
                {"partner_id": self.partner.id, "operation": "add", "value": 2.5},
            )
        self.assertIn("whole number", error.exception.faultString)
        self.assertFalse(self.partner.lead_score_operation_ids)

    def test_a_score_cannot_be_written_by_hand_over_the_api(self):
        """The stored score, tier, grade, company score and velocity follow
        the ledger:
        a Lead Scoring user who may edit contacts cannot set them, on a
        contact or on a new one (the score would have no history)."""
        self.api_user.groups_id += self.env.ref("base.group_partner_manager")
        uid = self.xmlrpc_common.authenticate(
            self.env.cr.dbname, "ls_api", "ls_api_password", {}
        )

        def call(method, *args):
            return self.xmlrpc_object.execute_kw(
                self.env.cr.dbname,
                uid,
                "ls_api_password",
                "res.partner",
                method,
                list(args),
            )

        for field, value in [
            ("lead_score", 999),
            ("lead_score_company", 999),
            ("lead_score_grade", "A1"),
            ("lead_score_date", "2000-01-01 00:00:00"),
            ("lead_score_change_7d", 999),
            ("lead_score_change_30d", 999),
        ]:
            with self.subTest(field=field):
                with self.assertRaises(xmlrpc.client.Fault) as error:
                    call("write", [self.partner.id], {field: value, "comment": "x"})
                self.assertIn("follow the score history", error.exception.faultString)
                with self.assertRaises(xmlrpc.client.Fault):
                    call("create", {"name": "Forged", field: value})
        self.partner.invalidate_recordset()
        self.assertEqual(
            (self.partner.lead_score, self.partner.lead_score_company), (0, 0)
        )
        self.assertFalse(self.partner.comment)
        # Editing the contact itself is still allowed.
        call("write", [self.partner.id], {"comment": "called back"})
        self.assertEqual(self.partner.comment, "<p>called back</p>")
