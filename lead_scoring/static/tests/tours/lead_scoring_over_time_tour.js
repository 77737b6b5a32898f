import { registry } from "@web/core/registry";

registry.category("web_tour.tours").add("lead_scoring_over_time_tour", {
    steps: () => [
        {
            content: "Open the Lead Scoring tab of the contact",
            trigger: ".o_notebook a.nav-link:contains('Lead Scoring')",
            run: "click",
        },
        {
            content: "Open the score over time",
            trigger: "button[name='action_open_lead_score_history']",
            run: "click",
        },
        {
            content: "A chart is drawn in the dialog",
            trigger: ".modal .o_lead_score_chart canvas",
        },
    ],
});
