"""Odoo's Apps screen shows each addon's description and its screenshots."""

from pathlib import Path

from lxml import html

from odoo.tests import HttpCase, tagged

ROOT = Path(__file__).resolve().parent.parent
ADDONS = ["lead_scoring", "lead_scoring_website", "lead_scoring_marketing"]


@tagged("post_install", "-at_install")
class TestAppsScreen(HttpCase):
    def test_apps_screen_shows_description_and_screenshots(self):
        for addon in ADDONS:
            module = self.env["ir.module.module"].search([("name", "=", addon)])
            page = html.fromstring(module.description_html)
            first_words = " ".join(
                (ROOT / addon / "readme" / "DESCRIPTION.md").read_text().split()[:6]
            )
            self.assertIn(first_words, " ".join(page.text_content().split()), addon)
            screenshots = [
                src
                for src in page.xpath("//img/@src")
                if src.startswith(f"/{addon}/static/description/")
            ]
            self.assertTrue(screenshots, f"{addon} shows no screenshot")
            for src in screenshots:
                response = self.url_open(src)
                self.assertEqual(response.status_code, 200, src)
                self.assertEqual(response.headers["Content-Type"], "image/png", src)
