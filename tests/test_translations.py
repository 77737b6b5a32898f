"""Every user-visible string of our addons has a French and a Dutch translation."""

from pathlib import Path

import polib

from odoo.tests import TransactionCase, tagged
from odoo.tools.translate import TranslationModuleReader

ROOT = Path(__file__).resolve().parent.parent
ADDONS = [
    "lead_scoring",
    "lead_scoring_website",
    "lead_scoring_marketing",
]
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
                    set(self._po_translations(addon, lang)) if path.exists() else set()
                )
                missing += [
                    f"{addon} {lang}: {source!r}"
                    for source in sorted(sources - translated)
                ]
        self.assertFalse(
            missing, f"{len(missing)} untranslated strings:\n" + "\n".join(missing[:40])
        )

    def test_our_screens_show_no_english_label_in_french_or_dutch(self):
        """Every translatable value our addons put in the database (views, menus,
        actions, field labels and help, selections, groups, crons, demo records)
        reads in the user's language once it is installed."""
        data = self.env["ir.model.data"].search(
            [("module", "in", ADDONS), ("model", "in", list(self.env.registry))]
        )
        records_by_model = {}
        for entry in data:
            records_by_model.setdefault((entry.module, entry.model), set()).add(
                entry.res_id
            )
        for lang, po_lang in (("fr_FR", "fr"), ("nl_NL", "nl")):
            self.env["res.lang"]._activate_lang(lang)
            self.env["ir.module.module"].search(
                [("name", "in", ADDONS)]
            )._update_translations([lang])
            # Field labels and view archs are cached per registry.
            self.env.registry.clear_cache()
            self.env.invalidate_all()
            translations = {
                addon: self._po_translations(addon, po_lang) for addon in ADDONS
            }
            english, checked = [], 0
            for (addon, model), ids in records_by_model.items():
                records = self.env[model].browse(ids).exists()
                for name, field in records._fields.items():
                    if not field.translate or not field.store:
                        continue
                    for record in records:
                        source = field.get_trans_terms(
                            record.with_context(lang="en_US")[name] or ""
                        )
                        shown = field.get_trans_terms(
                            record.with_context(lang=lang)[name] or ""
                        )
                        expected = [
                            translations[addon].get(term, term) for term in source
                        ]
                        if shown != expected:
                            english.append(
                                f"{lang} {model},{record.id}.{name}: "
                                f"{[s for s in shown if s not in expected][:3]}"
                            )
                        checked += len(source)
            self.assertFalse(english, "\n".join(english[:40]))
            self.assertGreater(checked, 300, f"{lang}: too little was checked")
            # What the web client receives for a French or Dutch user: the views'
            # archs and the field labels of our screens.
            user = self.env["res.users"].create(
                {
                    "name": f"Scorer {lang}",
                    "login": f"scorer_{lang}",
                    "lang": lang,
                    "groups_id": [
                        (4, self.env.ref("lead_scoring.group_lead_scoring_manager").id),
                        (4, self.env.ref("base.group_partner_manager").id),
                    ],
                }
            )
            arch_terms = self.env["ir.ui.view"]._fields["arch_db"].get_trans_terms
            # An English source shown as is, where our translation differs.
            english_sources = {
                msgid
                for addon_translations in translations.values()
                for msgid, msgstr in addon_translations.items()
                if msgstr != msgid
            }
            leaked = []
            for model in ("lead.score.rule", "lead.score.operation", "lead.score.tier"):
                result = (
                    self.env[model]
                    .with_user(user)
                    .with_context(lang=lang)
                    .get_views([(False, "form"), (False, "list"), (False, "search")])
                )
                for view_type, view in result["views"].items():
                    leaked += [
                        f"{lang} {model} {view_type}: {term!r}"
                        for term in arch_terms(view["arch"])
                        if term in english_sources
                    ]
                for name, field in result["models"][model]["fields"].items():
                    label = field.get("string")
                    if label in english_sources:
                        leaked.append(f"{lang} {model}.{name}: {label!r}")
            self.assertFalse(leaked, "\n".join(leaked[:40]))

    @staticmethod
    def _po_translations(addon, po_lang):
        return {
            entry.msgid: entry.msgstr
            for entry in polib.pofile(str(ROOT / addon / "i18n" / f"{po_lang}.po"))
            if entry.msgstr.strip()
            and not entry.obsolete
            and "fuzzy" not in entry.flags
        }
