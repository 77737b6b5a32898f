from unittest.mock import patch

from odoo.tests import tagged

from .common import LeadScoringCase


@tagged("post_install", "-at_install")
class TestChatterRuns(LeadScoringCase):
    """A tier move by a rule run names, in the contact's chatter, the rules
    of the run that moved the score, with their points."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["res.lang"]._activate_lang("fr_FR")
        cls.warm = cls.Tier.create({"name": "Warm", "min_score": 25})
        cls.contacts = cls.env["res.partner"].create(
            [{"name": f"Chatter run {i}"} for i in range(3)]
        )
        cls.domain = "[('name', 'ilike', 'Chatter run')]"

    def run_logged(self, watched=False):
        """One run, tracking on, its messages logged; the new messages."""
        before = self.contacts.message_ids
        Writer = type(self.env["lead.score.writer"])
        env = self.env(context={"lang": "en_US"})  # tracking on, as the job
        with patch.object(Writer, "_lead_score_watched", return_value=watched):
            env["lead.score.run"]._run_rules(env["lead.score.rule"].search([]))
            env.flush_all()
            self.env.cr.precommit.run()
        return self.contacts.message_ids - before

    def shown(self, message, lang="en_US"):
        """The tracking lines of a message as the chatter shows them."""
        values = message.sudo().tracking_value_ids.with_context(lang=lang)
        return {
            info["changedField"]: (info["oldValue"]["value"], info["newValue"]["value"])
            for info in values._tracking_value_format()
        }

    def test_a_tier_move_names_the_rules_of_the_run(self):
        big = self.rule(name="Visited the pricing page", value=20, domain=self.domain)
        big.with_context(lang="fr_FR").name = "A visité la page des tarifs"
        self.rule(name="Opportunity created", value=10, domain=self.domain)
        # A rule that scores nobody here is not named.
        self.rule(name="Nobody", value=50, domain="[('id', '=', 0)]")
        messages = self.run_logged()
        self.assertEqual(len(messages), 3)
        message = messages.filtered(lambda m: m.res_id == self.contacts[0].id)
        shown = self.shown(message)
        self.assertEqual(shown["Lead Tier"], ("", "Warm"))
        self.assertEqual(
            shown["Rule run"],
            ("", "Visited the pricing page +20 · Opportunity created +10"),
        )
        # The rules' titles in the reader's language.
        self.assertEqual(
            self.shown(message, "fr_FR")["Passage des règles"][1],
            "A visité la page des tarifs +20 · Opportunity created +10",
        )

    def test_only_this_run_s_rules_are_named(self):
        self.rule(name="Earlier", value=10, domain=self.domain)
        self.assertFalse(self.run_logged())
        # An hour ago (a test is quicker than the time between two runs).
        self.env.flush_all()
        self.env.cr.execute(
            "UPDATE lead_score_operation SET date = date - interval '1 hour'"
            " WHERE partner_id = ANY(%s)",
            [self.contacts.ids],
        )
        self.env.invalidate_all()
        self.rule(name="Later", value=20, domain=self.domain)
        message = self.run_logged()[:1]
        self.assertEqual(self.shown(message)["Rule run"][1], "Later +20")

    def test_lines_of_other_sources_during_the_run_are_not_the_run_s(self):
        self.rule(name="Later", value=30, domain=self.domain)
        # Someone's adjustment, committed while the run is in progress.
        self.add(self.contacts[0], "add", 3)
        self.env.flush_all()
        self.env.cr.execute(
            "UPDATE lead_score_operation SET date = date + interval '1 minute'"
            " WHERE partner_id = %s",
            [self.contacts[0].id],
        )
        self.env.invalidate_all()
        message = self.run_logged().filtered(lambda m: m.res_id == self.contacts[0].id)
        self.assertEqual(self.shown(message)["Rule run"][1], "Later +30")

    def test_the_orm_s_tracking_names_them_too(self):
        # An automation rule watches scores: the ORM writes and logs them.
        self.rule(name="Visited the pricing page", value=30, domain=self.domain)
        message = self.run_logged(watched=True)[:1]
        self.assertEqual(
            self.shown(message)["Rule run"][1], "Visited the pricing page +30"
        )

    def test_only_lead_scoring_users_see_the_rules(self):
        self.rule(name="Visited the pricing page", value=30, domain=self.domain)
        message = self.run_logged()[:1]
        tracking = message.sudo().tracking_value_ids
        run_lines = tracking.filtered(
            lambda t: t.field_id.name == "lead_score_operation_ids"
        )
        self.assertTrue(run_lines)
        self.assertIn(
            run_lines, tracking._filter_has_field_access(self.env(user=self.user))
        )
        self.assertNotIn(
            run_lines, tracking._filter_has_field_access(self.env(user=self.internal))
        )

    def test_a_person_s_adjustment_names_no_rule(self):
        self.rule(name="Visited the pricing page", value=30, domain=self.domain)
        self.run_logged()
        before = self.contacts[0].message_ids
        env = self.env(context={"lang": "en_US"})
        env["lead.score.operation"].create(
            {"partner_id": self.contacts[0].id, "operation": "set", "value": 0}
        )
        env.flush_all()
        self.env.cr.precommit.run()
        message = self.contacts[0].message_ids - before
        self.assertEqual(len(message), 1)
        self.assertNotIn("Rule run", self.shown(message))
