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
            content: "The lead's tags are pills",
            trigger: `${card} .o_field_many2many_tags .o_tag:contains('Tour tag')`,
        },
        {
            content: "the tier and grade are not tags",
            trigger: `${card}:not(:has(.o_lead_score_card .o_tag))`,
        },
        {
            content: "nor badges",
            trigger: `${card}:not(:has(.o_lead_score_card .badge))`,
        },
        {
            content: "and the group scores are not on the card",
            trigger: `${card}`,
            run() {
                if (this.anchor.textContent.includes("Engagement")) {
                    throw new Error("The card shows the group scores");
                }
                const tier = this.anchor.querySelector(".o_lead_score_tier");
                const grade = this.anchor.querySelector(".o_lead_score_grade_badge");
                const tag = this.anchor.querySelector(".o_field_many2many_tags .o_tag");
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
                    ".o_lead_score_badges div[name='partner_lead_score_tier_id'] .badge"
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
