# Copyright 2026 Lead Scoring contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The signed token that ties a rendered website form to its scoring setting.

The page only carries ``data-lead-scoring-setting-id`` on the ``<form>``; when
the page is rendered, a hidden input holding ``<id>:<hmac>`` is added, the HMAC
covering the setting and the model the form posts to. The controller accepts a
submission's setting only with a valid token, so a visitor can neither invent
a setting nor reuse one on another model; what a submission is worth is read
on the server.
"""

from lxml import etree

from odoo.tools.misc import consteq, hmac

TOKEN_FIELD = "lead_scoring_token"
TOKEN_SCOPE = "lead_scoring_website"
SETTING_ATTRIBUTE = "data-lead-scoring-setting-id"
# The lead's mark of a contact linked by the email a visitor typed, and the
# context of the form's own link (see crm.lead).
UNSYNCED_FIELD = "lead_score_typed_partner"
LINK_CONTEXT = "lead_scoring_website_link"


def form_token(env_sudo, setting_id, model_name):
    signature = hmac(env_sudo, TOKEN_SCOPE, f"{int(setting_id)}:{model_name}")
    return f"{int(setting_id)}:{signature}"


def verify_form_token(env_sudo, token, model_name):
    """The setting id the token was signed for with this model, else None;
    anything a visitor may post is only refused, never an error."""
    # ASCII only: str.isdigit() accepts "²" that int() refuses, and consteq()
    # raises on non-ASCII text.
    if not isinstance(token, str) or not token.isascii() or len(token) > 200:
        return None
    setting_id, __, signature = token.partition(":")
    if not setting_id.isdigit() or len(setting_id) > 18 or not signature:
        return None
    if not consteq(token, form_token(env_sudo, int(setting_id), model_name)):
        return None
    return int(setting_id)


def _form_model(form):
    # The model the browser posts to (see s_website_form/000.js).
    return form.attrib.get("data-force_action") or form.attrib.get("data-model_name")


def add_lead_scoring_token(html_fragment, env_sudo):
    """Sign the website forms of this tree that have a scoring setting; drop
    any token saved with the page by the editor, which may be stale."""
    for form in html_fragment.iter("form"):
        if "/website/form/" not in form.attrib.get("action", ""):
            continue
        for node in form.xpath(f'.//input[@name="{TOKEN_FIELD}"]'):
            node.getparent().remove(node)
        setting_id = form.attrib.get(SETTING_ATTRIBUTE, "")
        model_name = _form_model(form)
        if not (setting_id.isascii() and setting_id.isdigit()) or not model_name:
            continue
        node = etree.Element(
            "input",
            attrib={
                "type": "hidden",
                "name": TOKEN_FIELD,
                "value": form_token(env_sudo, setting_id, model_name),
            },
        )
        form.insert(0, node)
