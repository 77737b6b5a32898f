import { registry } from "@web/core/registry";

// After a rule run moved a contact's tier, the chatter says which rules of the
// run moved the score, with their points: a list, not an old and a new value.
const runLine = ".o-mail-Message-tracking:contains('Rule run')";

registry.category("web_tour.tours").add("lead_scoring_chatter_run_tour", {
    steps: () => [
        {
            content: "The tier move is in the chatter",
            trigger: ".o-mail-Message-tracking:contains('Lead Tier')",
        },
        {
            content: "with the rules of the run and their points",
            trigger: `${runLine} .o_lead_score_run_lines:contains('Tour pricing page +300 · Tour demo booked +20')`,
        },
        {
            content: "shown as a list, without an arrow from an old value",
            trigger: `${runLine}:not(:has(.o-mail-Message-trackingSeparator)):not(:has(.o-mail-Message-trackingOld))`,
        },
    ],
});
