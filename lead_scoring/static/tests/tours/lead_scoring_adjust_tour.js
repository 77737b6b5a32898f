import { registry } from "@web/core/registry";

registry.category("web_tour.tours").add("lead_scoring_adjust_tour", {
    steps: () => [
        {
            content: "Open the Lead Scoring tab of the contact",
            trigger: ".o_notebook a.nav-link:contains('Lead Scoring')",
            run: "click",
        },
        {
            content: "Open the adjustment wizard",
            trigger: "button[name='action_open_lead_score_adjust']",
            run: "click",
        },
        {
            content: "The wizard shows the contact's current score",
            trigger: ".modal div[name='current_score']:contains('91')",
        },
        {
            content: "Set 25 points",
            trigger: ".modal div[name='value'] input",
            run: "edit 25",
        },
        {
            content: "Say why",
            trigger: ".modal div[name='note'] textarea",
            run: "edit Asked for a demo on the phone",
        },
        {
            content: "Apply",
            trigger: ".modal button[name='action_apply']",
            run: "click",
        },
        {
            content: "The score shows the new balance",
            trigger: ".o_lead_score_value div[name='lead_score']:contains('116')",
        },
        {
            content: "The history shows the operation with its note",
            trigger:
                "div[name='lead_score_operation_ids'] .o_data_row:contains('Asked for a demo on the phone')",
        },
    ],
});
