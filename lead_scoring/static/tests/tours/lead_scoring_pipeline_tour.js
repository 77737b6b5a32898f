import { registry } from "@web/core/registry";

const card = ".o_kanban_record:contains('Pipeline Tour Deal')";

registry.category("web_tour.tours").add("lead_scoring_pipeline_tour", {
    steps: () => [
        {
            content: "The card shows the contact's Fit score in its tier's color",
            trigger: `${card} .o_field_lead_score_value_tags .o_tag.o_tag_color_10:contains('Fit 40')`,
        },
        {
            content: "and its Engagement score, with no tier, in grey",
            trigger: `${card} .o_field_lead_score_value_tags .o_tag:contains('Engagement 12')`,
        },
        {
            content: "Open the opportunity",
            trigger: `${card}`,
            run: "click",
        },
        {
            content: "The form shows the group scores too",
            trigger: ".o_form_view div[name='partner_lead_score_value_ids'] .o_tag:contains('Engagement 12')",
        },
    ],
});
