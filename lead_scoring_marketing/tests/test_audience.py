# Copyright 2026 Lead Scoring contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import ast
from pathlib import Path

from odoo.tests import new_test_user, tagged
from odoo.tools import parse_version

from odoo.addons.lead_scoring.tests.common import load_migration

from .common import MarketingCase


@tagged("post_install", "-at_install")
class TestAudience(MarketingCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        Partner = cls.env["res.partner"]
        cls.hot = cls.Tier.create({"name": "Hot", "min_score": 100})
        cls.high = Partner.create({"name": "High", "email": "high@example.com"})
        cls.edge = Partner.create({"name": "Edge", "email": "edge@example.com"})
        cls.low = Partner.create({"name": "Low", "email": "low@example.com"})
        for partner, points in [(cls.high, 150), (cls.edge, 100), (cls.low, 20)]:
            cls.Operation.create(
                {"partner_id": partner.id, "operation": "add", "value": points}
            )
        cls.marketer = new_test_user(
            cls.env,
            "ls_marketer",
            groups="base.group_user,mass_mailing.group_mass_mailing_user",
        )

    def mailing(self, **vals):
        return self.env["mailing.mailing"].create(
            {
                "subject": "For our best contacts",
                "mailing_model_id": self.model_partner.id,
                **vals,
            }
        )

    def partners_where(self, condition):
        self.env.flush_all()
        self.env.cr.execute(f"SELECT id FROM res_partner WHERE active AND {condition}")
        return {row[0] for row in self.env.cr.fetchall()}

    def test_recipients_are_exactly_the_contacts_above_a_score(self):
        mailing = self.mailing(mailing_domain="[('lead_score', '>', 100)]")
        recipients = set(mailing._get_recipients())
        self.assertEqual(recipients, self.partners_where("lead_score > 100"))
        self.assertIn(self.high.id, recipients)
        self.assertNotIn(self.edge.id, recipients)
        self.assertNotIn(self.low.id, recipients)

    def test_marketing_user_targets_by_score(self):
        # Without being a Lead Scoring user (see test_security_marketing).
        self.assertFalse(
            self.marketer.has_group("lead_scoring.group_lead_scoring_user")
        )
        mailing = self.mailing(mailing_domain="[('lead_score', '>=', 100)]")
        recipients = set(mailing.with_user(self.marketer)._get_recipients())
        self.assertEqual(recipients, self.partners_where("lead_score >= 100"))
        self.assertIn(self.edge.id, recipients)

    def test_favorite_filter_score_at_least_100(self):
        """As the contacts' filter "Score at least 100": 100 points is in."""
        mailing_filter = self.env.ref(
            "lead_scoring_marketing.mailing_filter_score_above_100"
        )
        self.assertEqual(mailing_filter.name, "Score at least 100")
        contacts_search = self.env.ref(
            "lead_scoring.view_res_partner_filter_lead_scoring"
        ).arch
        self.assertIn(
            "string=\"Score at least 100\" domain=\"[('lead_score', '&gt;=', 100)]\"",
            contacts_search,
        )
        mailing = self.mailing(mailing_filter_id=mailing_filter.id)
        self.assertEqual(mailing.mailing_domain, mailing_filter.mailing_domain)
        recipients = set(mailing._get_recipients())
        self.assertEqual(recipients, self.partners_where("lead_score >= 100"))
        self.assertIn(self.edge.id, recipients)
        self.assertNotIn(self.low.id, recipients)

    def test_upgrade_brings_the_favorite_filter_to_at_least_100(self):
        migration = load_migration("lead_scoring_marketing", "18.0.1.2.0")
        mailing_filter = self.env.ref(
            "lead_scoring_marketing.mailing_filter_score_above_100"
        )
        # As installed by an earlier version (its data is not updated).
        mailing_filter.write(
            {
                "name": "Contacts with a score above 100",
                "mailing_domain": '[("lead_score", ">", 100)]',
            }
        )
        migration.migrate(self.env.cr, "18.0.1.1.0")
        self.assertEqual(mailing_filter.name, "Score at least 100")
        self.assertEqual(mailing_filter.mailing_domain, '[("lead_score", ">=", 100)]')
        # A filter someone changed stays theirs.
        mailing_filter.write(
            {"name": "Our best", "mailing_domain": '[("lead_score", ">", 500)]'}
        )
        migration.migrate(self.env.cr, "18.0.1.1.0")
        self.assertEqual(mailing_filter.name, "Our best")
        self.assertEqual(mailing_filter.mailing_domain, '[("lead_score", ">", 500)]')
        # The version in the manifest runs the migration on upgrade.
        manifest = ast.literal_eval(
            (Path(__file__).parent.parent / "__manifest__.py").read_text()
        )
        self.assertGreaterEqual(
            parse_version(manifest["version"]), parse_version("18.0.1.2.0")
        )

    def test_favorite_filter_hot_contacts(self):
        mailing_filter = self.env.ref("lead_scoring_marketing.mailing_filter_hot")
        mailing = self.mailing(mailing_filter_id=mailing_filter.id)
        recipients = set(mailing.with_user(self.marketer)._get_recipients())
        self.assertEqual(
            recipients, self.partners_where(f"lead_score_tier_id = {self.hot.id}")
        )
        self.assertEqual(
            recipients & set((self.high | self.edge | self.low).ids),
            {self.high.id, self.edge.id},
        )

    def test_favorite_filter_hot_contacts_in_french(self):
        """The tier's name is translated; the filter must not depend on it."""
        self.env["res.lang"]._activate_lang("fr_FR")
        self.hot.with_context(lang="fr_FR").name = "Chaud"
        self.marketer.lang = "fr_FR"
        mailing_filter = self.env.ref("lead_scoring_marketing.mailing_filter_hot")
        mailing = self.mailing(mailing_filter_id=mailing_filter.id)
        recipients = set(
            mailing.with_user(self.marketer)
            .with_context(lang="fr_FR")
            ._get_recipients()
        )
        self.assertEqual(
            recipients & set((self.high | self.edge | self.low).ids),
            {self.high.id, self.edge.id},
        )
