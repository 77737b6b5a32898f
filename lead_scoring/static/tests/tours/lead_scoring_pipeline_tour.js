import { registry } from "@web/core/registry";

const card = ".o_kanban_record:contains('Pipeline Tour Deal')";

// A pipeline card shows the contact's tier (with the score) and grade, told
// apart from the lead's tags; the group scores are on the opportunity's form.
registry.category("web_tour.tours").add("lead_scoring_pipeline_tour", {
    steps: () => [
        {
            content: "The card shows the contact's tier in its color, with the score",
            trigger: `${card} .o_lead_score_card .o_lead_score_tier[class*='text-']:contains('Tour tier'):contains('52')`,
        },
        {
            content: "and the grade, framed",
            trigger: `${card} .o_lead_score_card .o_lead_score_grade_badge`,
        },
        {
            content: "neither as pills like the lead's tags, nor the group scores",
            trigger: `${card}:has(.o_field_many2many_tags .o_tag:contains('Tour tag')):not(:has(.o_lead_score_card .o_tag)):not(:has(.o_lead_score_card .badge)):not(:has(.o_tag:contains('Engagement 12')))`,
            run() {
                const tier = document.querySelector(`${card} .o_lead_score_tier`);
                const grade = document.querySelector(`${card} .o_lead_score_grade_badge`);
                const tag = document.querySelector(`${card} .o_field_many2many_tags .o_tag`);
                const gap = grade.getBoundingClientRect().left - tier.getBoundingClientRect().right;
                if (gap > 24) {
                    throw new Error(`The grade stands ${gap}px away from the tier`);
                }
                const radius = (el) => parseFloat(getComputedStyle(el).borderTopLeftRadius);
                if (radius(grade) >= radius(tag)) {
                    throw new Error("The grade is drawn as round as a tag");
                }
            },
        },
        {
            content: "Open the opportunity",
            trigger: `${card}`,
            run: "click",
        },
        {
            content: "The form shows the group scores",
            trigger: ".o_form_view div[name='partner_lead_score_value_ids'] .o_tag:contains('Engagement 12')",
        },
        {
            content: "and the grade beside the tier, not at the far end of the line",
            trigger: ".o_form_view .o_lead_score_badges .o_lead_score_grade_badge",
            run() {
                const tier = document.querySelector(
                    ".o_lead_score_badges div[name='partner_lead_score_tier_id']"
                );
                const grade = document.querySelector(".o_lead_score_badges .o_lead_score_grade_badge");
                const gap = grade.getBoundingClientRect().left - tier.getBoundingClientRect().right;
                if (gap > 24) {
                    throw new Error(`The grade stands ${gap}px away from the tier`);
                }
            },
        },
    ],
});
