// Copyright 2026 Lead Scoring contributors
// License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import { browser } from "@web/core/browser/browser";
import { _t } from "@web/core/l10n/translation";
import { registry } from "@web/core/registry";

const POLL_DELAY = 2000;
const GIVE_UP_AFTER = 15 * 60 * 1000;

/**
 * Follows a run asked for with "Run all rules now": while it goes on, the
 * rules' screen is reloaded so that its progress shows; once it is over, the
 * screen is reloaded a last time and a notification says so.
 */
export function watchLeadScoreRun(env, action) {
    const { notification, orm } = env.services;
    const { asked_at: askedAt, message, was_running: wasRunning } = action.params;
    notification.add(message, { type: "info" });
    const started = Date.now();
    let sawRunning = wasRunning;
    const reloadRulesScreen = () => {
        const controller = env.services.action.currentController;
        if (controller?.props?.resModel === "lead.score.rule") {
            env.services.action.doAction({ type: "ir.actions.client", tag: "soft_reload" });
        }
    };
    const poll = async () => {
        let state;
        try {
            state = await orm.silent.call("lead.score.rule", "get_run_state", []);
        } catch {
            return;
        }
        if (state.running) {
            sawRunning = true;
            reloadRulesScreen();
        } else if (sawRunning || (state.last_run && state.last_run >= askedAt)) {
            reloadRulesScreen();
            notification.add(_t("The rules have been applied."), { type: "success" });
            return;
        }
        if (Date.now() - started < GIVE_UP_AFTER) {
            browser.setTimeout(poll, POLL_DELAY);
        }
    };
    browser.setTimeout(poll, POLL_DELAY);
}

registry.category("actions").add("lead_scoring_watch_run", watchLeadScoreRun);
