import { registry } from "@web/core/registry";

// A contact never scored shows no tier or grade; once scored, both show, the
// grade with a tooltip that says what it means.
registry.category("web_tour.tours").add("lead_scoring_never_scored_tour", {
    steps: () => [
        {
            content: "The score button shows no tier",
            trigger:
                ".oe_stat_button[name='action_view_lead_score_operations']:not(:has(div[name='lead_score_tier_id']))",
        },
        {
            content: "Open the Lead Scoring tab of the contact",
            trigger: ".o_notebook a.nav-link:contains('Lead Scoring')",
            run: "click",
        },
        {
            content: "No score yet: no tier, no grade",
            trigger:
                ".o_notebook .tab-pane.active:has(.alert:contains('No score yet')):not(:has(div[name='lead_score_tier_id'])):not(:has(.o_lead_score_grade_badge))",
        },
        {
            content: "A person of a company sees the company's score",
            trigger: ".o_lead_score_company:contains(\"Company's score\")",
        },
        {
            content: "Open the adjustment wizard",
            trigger: "button[name='action_open_lead_score_adjust']",
            run: "click",
        },
        {
            content: "Set 60 points",
            trigger: ".modal div[name='value'] input",
            run: "edit 60",
        },
        {
            content: "Say why",
            trigger: ".modal div[name='note'] textarea",
            run: "edit Met at the fair",
        },
        {
            content: "Apply",
            trigger: ".modal button[name='action_apply']",
            run: "click",
        },
        {
            content: "Scored: the tier shows",
            trigger: ".o_notebook .tab-pane.active div[name='lead_score_tier_id']:contains('Hot')",
        },
        {
            content: "The grade shows with what it means",
            trigger:
                ".o_lead_score_grade_badge[title^='Grade: the letter for the fit'] div[name='lead_score_grade']:contains('C1')",
        },
    ],
});
