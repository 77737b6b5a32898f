"""Takes the README's screenshots from the running product (`make run`), in
headless Chromium driven over the DevTools protocol.

Usage: make screenshots   (Odoo must be running: make run)
"""

import base64
import json
import os
import re
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import requests
import websocket

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "screenshots"
# Shots that also illustrate an addon on Odoo's Apps screen live in the addon.
ADDON_SHOTS = {
    "contact_score_history": "lead_scoring",
    "contact_score_over_time": "lead_scoring",
    "score_quality": "lead_scoring",
    "suggested_points": "lead_scoring",
    "rule_form_domain": "lead_scoring",
    "website_form_scoring": "lead_scoring_website",
    "campaign_scoring_step": "lead_scoring_marketing",
}
BASE = os.environ.get("LEAD_SCORING_URL", "http://localhost:8069")
PORT = 9339


class Page:
    def __init__(self, ws_url):
        self.ws = websocket.create_connection(ws_url, timeout=60, suppress_origin=True)
        self.next_id = 0

    def send(self, method, **params):
        self.next_id += 1
        self.ws.send(
            json.dumps({"id": self.next_id, "method": method, "params": params})
        )
        return self.next_id

    def call(self, method, **params):
        call_id = self.send(method, **params)
        while True:
            message = json.loads(self.ws.recv())
            if message.get("method") == "Fetch.requestPaused":
                # Google Fonts, imported by the website editor's CSS, may be out
                # of reach (CI, offline machines); a failed import stops the
                # editor, so answer with an empty stylesheet, as Odoo's own
                # browser tests do.
                self.send(
                    "Fetch.fulfillRequest",
                    requestId=message["params"]["requestId"],
                    responseCode=200,
                    responseHeaders=[{"name": "Content-Type", "value": "text/css"}],
                    body="",
                )
            elif message.get("id") == call_id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})

    def evaluate(self, expression):
        result = self.call(
            "Runtime.evaluate",
            expression=expression,
            awaitPromise=True,
            returnByValue=True,
        )
        return result.get("result", {}).get("value")

    def wait_for(self, selector, timeout=30):
        deadline = time.time() + timeout
        check = f"!!document.querySelector({json.dumps(selector)})"
        while time.time() < deadline:
            if self.evaluate(check):
                return
            time.sleep(0.3)
        raise TimeoutError(f"{selector} did not appear")

    def click(self, selector):
        self.wait_for(selector)
        self.evaluate(f"document.querySelector({json.dumps(selector)}).click()")

    def shot(self, name):
        time.sleep(1.5)  # let animations and lazy widgets settle
        # Toasts are not the subject; the bus's "page is out of date" one shows up
        # when a scripted browser navigates quickly between the backend and the editor.
        self.evaluate(
            "document.querySelectorAll('.o_notification_close').forEach(b => b.click())"
        )
        time.sleep(0.5)
        data = self.call("Page.captureScreenshot", format="png")["data"]
        folder = (
            ROOT / ADDON_SHOTS[name] / "static" / "description"
            if name in ADDON_SHOTS
            else OUT
        )
        (folder / f"{name}.png").write_bytes(base64.b64decode(data))
        print(f"  {name}.png")


def login():
    session = requests.Session()
    response = session.post(
        f"{BASE}/web/session/authenticate",
        json={
            "jsonrpc": "2.0",
            "params": {
                "db": os.environ.get("LEAD_SCORING_DB", "lead_scoring"),
                "login": "admin",
                "password": "admin",
            },
        },
        timeout=60,
    )
    response.raise_for_status()
    return session.cookies["session_id"]


def call(session_id, model, method, args, **kwargs):
    response = requests.post(
        f"{BASE}/web/dataset/call_kw",
        json={
            "jsonrpc": "2.0",
            "params": {
                "model": model,
                "method": method,
                "args": args,
                "kwargs": kwargs,
            },
        },
        cookies={"session_id": session_id},
        timeout=60,
    )
    return response.json().get("result")


def record_id(session_id, model, domain):
    return (call(session_id, model, "search", [domain], limit=1) or [None])[0]


def submit_contact_us():
    """An anonymous visitor sends the demo's Contact Us form: a web lead, whose
    contact the form scores (the pipeline shot shows it)."""
    visitor = requests.Session()
    page = visitor.get(f"{BASE}/contactus", timeout=60).text
    token = re.search(r'name="lead_scoring_token"[^>]*value="([^"]+)"', page)
    token = token or re.search(r'value="([^"]+)"[^>]*name="lead_scoring_token"', page)
    response = visitor.post(
        f"{BASE}/website/form/crm.lead",
        data={
            "contact_name": "Jeanne Reviewer",
            "partner_name": "UI Review SA",
            "email_from": "jeanne.reviewer@example.com",
            "name": "Pricing for 40 seats",
            "description": "Could you call me this week?",
            "lead_scoring_token": token.group(1) if token else "",
        },
        timeout=60,
    )
    response.raise_for_status()


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    session_id = login()
    profile = tempfile.mkdtemp()
    browser = (
        shutil.which("chromium") or shutil.which("chromium-browser") or "google-chrome"
    )
    chrome = subprocess.Popen(
        [
            browser,
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
            f"--remote-debugging-port={PORT}",
            f"--user-data-dir={profile}",
            "--window-size=1440,900",
            "about:blank",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(50):
            try:
                targets = requests.get(
                    f"http://127.0.0.1:{PORT}/json", timeout=2
                ).json()
                break
            except requests.RequestException:
                time.sleep(0.2)
        page = Page(
            next(t for t in targets if t["type"] == "page")["webSocketDebuggerUrl"]
        )
        page.call("Network.enable")
        page.call(
            "Fetch.enable", patterns=[{"urlPattern": "https://fonts.googleapis.com/*"}]
        )
        page.call("Network.setCookie", name="session_id", value=session_id, url=BASE)
        page.call(
            "Emulation.setDeviceMetricsOverride",
            width=1440,
            height=900,
            deviceScaleFactor=1,
            mobile=False,
        )

        def open_url(path, selector, timeout=30):
            page.call("Page.navigate", url=f"{BASE}{path}")
            page.wait_for(selector, timeout)

        hot = record_id(session_id, "res.partner", [["lead_score", ">=", 100]])
        open_url(f"/odoo/contacts/{hot}", ".o_form_view")
        page.evaluate(
            "[...document.querySelectorAll('.o_notebook a.nav-link')]"
            ".find(a => a.textContent.includes('Lead Scoring')).click()"
        )
        page.wait_for("div[name='lead_score_operation_ids'] .o_data_row")
        page.shot("contact_score_history")
        page.click("button[name='action_open_lead_score_history']")
        page.wait_for(".o_lead_score_chart canvas")
        page.shot("contact_score_over_time")

        # A company with a grade, its scores per group and its contacts' roll-up.
        graded = record_id(
            session_id,
            "res.partner",
            [["is_company", "=", True], ["lead_score_grade", "!=", False]],
        )
        open_url(f"/odoo/contacts/{graded}", ".o_form_view")
        page.evaluate(
            "[...document.querySelectorAll('.o_notebook a.nav-link')]"
            ".find(a => a.textContent.includes('Lead Scoring')).click()"
        )
        page.wait_for("div[name='lead_score_value_ids'] .o_data_row")
        page.shot("contact_score_groups")
        open_url("/odoo/action-lead_scoring.lead_score_group_action", ".o_list_view")
        page.shot("score_groups")

        open_url("/odoo/action-lead_scoring.lead_score_rule_action", ".o_list_view")
        page.shot("rules_list")
        page.click(".o_data_row td.o_data_cell[name='name']")
        page.wait_for(".o_form_view .o_field_domain")
        page.shot("rule_form_domain")

        open_url("/odoo/contacts?view_type=list", ".o_list_view")
        page.click(".o_searchview_dropdown_toggler")
        page.wait_for(".o_filter_menu .o_menu_item")
        page.evaluate(
            "[...document.querySelectorAll('.o_filter_menu .o_menu_item')]"
            ".find(e => e.textContent.includes('Score at least 100')).click()"
        )
        page.wait_for(".o_searchview_facet")
        page.shot("contacts_filtered_by_score")

        open_url(
            "/odoo/action-lead_scoring.lead_score_operation_action?view_type=pivot",
            ".o_pivot",
        )
        page.shot("operations_pivot")

        submit_contact_us()
        open_url("/odoo/crm?view_type=list", ".o_list_view")
        # All opportunities, the visitor's unassigned web lead included.
        page.click(".o_searchview_facet .o_facet_remove")
        page.wait_for(".o_list_view .o_data_row")
        time.sleep(1)
        page.shot("crm_pipeline_scores")

        open_url("/odoo/action-lead_scoring.lead_score_quality_action", ".o_form_view")
        page.click("button[name='action_compute']")
        page.wait_for(".o_list_view .o_data_row, .o_pivot table, .o_graph_renderer")
        page.shot("score_quality")

        # Suggested points on the demo's deals, with Industry as a candidate.
        industry = record_id(
            session_id,
            "ir.model.fields",
            [["model", "=", "res.partner"], ["name", "=", "industry_id"]],
        )
        suggestion = call(
            session_id,
            "lead.score.suggestion",
            "create",
            [{"candidate_field_ids": [[6, 0, [industry]]]}],
        )
        open_url(
            f"/odoo/action-lead_scoring.lead_score_suggestion_action/{suggestion}",
            ".o_form_view",
        )
        page.click("button[name='action_compute']")
        page.wait_for("div[name='rule_line_ids'] .o_data_row", timeout=120)
        page.shot("suggested_points")

        campaign = record_id(
            session_id,
            "automation.configuration",
            [["name", "=", "Nurture warm contacts"]],
        )
        open_url(
            f"/odoo/action-automation_oca.automation_configuration_act_window/{campaign}",
            ".o_form_view",
        )
        page.shot("campaign_scoring_step")

        open_url(
            "/odoo/action-website.website_preview?path=%2Fcontactus&enable_editor=1",
            ".o_website_preview.editor_enable.editor_has_snippets",
            timeout=120,
        )
        # The snippet editor selects a block on the pointer events of a real click.
        page.evaluate(
            """(() => {
                const doc = document.querySelector('iframe.o_iframe').contentDocument;
                const form = doc.querySelector('#wrap.o_editable section.s_website_form');
                for (const type of ['pointerdown', 'mousedown', 'pointerup', 'mouseup', 'click']) {
                    form.dispatchEvent(new MouseEvent(type, {bubbles: true, view: doc.defaultView}));
                }
            })()"""
        )
        option = "we-customizeblock-option.snippet-option-LeadScoringFormOption"
        page.wait_for(option)
        page.evaluate(
            f"document.querySelector({json.dumps(option)})"
            ".scrollIntoView({block: 'center'})"
        )
        page.shot("website_form_scoring")

    finally:
        chrome.terminate()
        shutil.rmtree(profile, ignore_errors=True)


if __name__ == "__main__":
    main()
