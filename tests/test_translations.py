"""Every user-visible string of our addons has a French and a Dutch translation."""

from pathlib import Path

import polib

from odoo.tests import TransactionCase, tagged
from odoo.tools.translate import TranslationModuleReader

ROOT = Path(__file__).resolve().parent.parent
ADDONS = ["lead_scoring", "lead_scoring_website", "lead_scoring_marketing"]
LANGUAGES = ["fr", "nl"]


@tagged("post_install", "-at_install")
class TestTranslations(TransactionCase):
    def test_every_string_is_translated_in_french_and_dutch(self):
        missing = []
        for addon in ADDONS:
            reader = TranslationModuleReader(self.env.cr, modules=[addon])
            # What Odoo would export for the addon: labels, help, menus,
            # views, messages, errors, data and demo records.
            sources = {
                entry[4]
                for entry in reader
                if entry[0] == addon and entry[4] and entry[4].strip()
            }
            self.assertTrue(sources, f"{addon} has nothing to translate?")
            for lang in LANGUAGES:
                path = ROOT / addon / "i18n" / f"{lang}.po"
                translated = (
                    {
                        entry.msgid
                        for entry in polib.pofile(str(path))
                        if entry.msgstr.strip()
                        and not entry.obsolete
                        and "fuzzy" not in entry.flags
                    }
                    if path.exists()
                    else set()
                )
                missing += [
                    f"{addon} {lang}: {source!r}"
                    for source in sorted(sources - translated)
                ]
        self.assertFalse(
            missing, f"{len(missing)} untranslated strings:\n" + "\n".join(missing[:40])
        )

    def test_our_screens_show_no_english_label_in_french_or_dutch(self):
        our_models = [
            "lead.score.operation",
            "lead.score.rule",
            "lead.score.tier",
            "lead.score.adjust",
            "lead.score.form.setting",
        ]
        for lang, po_lang in (("fr_FR", "fr"), ("nl_NL", "nl")):
            self.env["res.lang"]._activate_lang(lang)
            self.env["ir.module.module"].search(
                [("name", "in", ADDONS)]
            )._update_translations([lang])
            # Field labels are cached per registry.
            self.env.registry.clear_cache()
            translations = {}
            for addon in ADDONS:
                for entry in polib.pofile(str(ROOT / addon / "i18n" / f"{po_lang}.po")):
                    translations[entry.msgid] = entry.msgstr
            english, translated = [], 0
            for model in our_models:
                labels = (
                    self.env[model]
                    .with_context(lang=lang)
                    .fields_get(attributes=["string"])
                )
                source = (
                    self.env[model]
                    .with_context(lang="en_US")
                    .fields_get(attributes=["string"])
                )
                for name, field in self.env[model]._fields.items():
                    if field._module not in ADDONS or name not in labels:
                        continue
                    expected = translations.get(
                        source[name]["string"], source[name]["string"]
                    )
                    if labels[name]["string"] != expected:
                        english.append(
                            f"{lang} {model}.{name}: {labels[name]['string']!r}"
                        )
                    translated += labels[name]["string"] != source[name]["string"]
            menus = (
                self.env["ir.ui.menu"]
                .with_context(lang=lang)
                .search(
                    [
                        (
                            "id",
                            "in",
                            [
                                self.env.ref(xmlid).id
                                for xmlid in (
                                    "lead_scoring.menu_lead_scoring_rules",
                                    "lead_scoring.menu_lead_scoring_tiers",
                                    "lead_scoring.menu_lead_scoring_operations",
                                )
                            ],
                        )
                    ]
                )
            )
            english += [
                f"{lang} menu {menu.name!r}"
                for menu in menus
                if menu.name in ("Scoring rules", "Tiers", "Score operations")
            ]
            self.assertFalse(english, "\n".join(english))
            self.assertGreater(translated, 40, f"{lang}: translations were not loaded")
