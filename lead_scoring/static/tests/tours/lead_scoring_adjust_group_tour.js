import { registry } from "@web/core/registry";

// A contact scored in two groups: the dialog names the group the points go
// to, its score there, and the total, from the moment it opens.
registry.category("web_tour.tours").add("lead_scoring_adjust_group_tour", {
    steps: () => [
        {
            content: "Open the Lead Scoring tab of the contact",
            trigger: ".o_notebook a.nav-link:contains('Lead Scoring')",
            run: "click",
        },
        {
            content: "Open the adjustment dialog",
            trigger: "button[name='action_open_lead_score_adjust']",
            run: "click",
        },
        {
            content: "The group selector shows as the dialog opens",
            trigger: ".modal div[name='group_id'] input",
        },
        {
            content: "The contact's score is labelled as the total",
            trigger: ".modal .o_form_label:contains('Total score')",
        },
        {
            content: "and shows the total of the groups",
            trigger: ".modal div[name='total_score']:contains('225')",
        },
        {
            content: "next to the score in that group",
            trigger: ".modal div[name='current_score']:contains('45')",
        },
        {
            content: "labelled as such",
            trigger: ".modal .o_form_label:contains('Score in this group')",
        },
        {
            content: "Choose the Webinars group",
            trigger: ".modal div[name='group_id'] input",
            run: "edit Webinars",
        },
        {
            content: "in the list of groups",
            trigger: ".o-autocomplete--dropdown-item > a:contains('Webinars')",
            run: "click",
        },
        {
            content: "The dialog shows the score in Webinars",
            trigger: ".modal div[name='current_score']:contains('180')",
        },
        {
            content: "Add 20 points",
            trigger: ".modal div[name='value'] input",
            run: "edit 20",
        },
        {
            content: "Say why",
            trigger: ".modal div[name='note'] textarea",
            run: "edit Came to the spring webinar",
        },
        {
            content: "Apply",
            trigger: ".modal button[name='action_apply']",
            run: "click",
        },
        {
            content: "The total follows",
            trigger: ".o_lead_score_value div[name='lead_score']:contains('245')",
        },
    ],
});
