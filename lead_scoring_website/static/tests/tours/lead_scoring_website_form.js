/** @odoo-module **/

import {registry} from "@web/core/registry";
import {clickOnSave, registerWebsitePreviewTour} from "@website/js/tours/tour_utils";

const OPTION = "we-customizeblock-option.snippet-option-LeadScoringFormOption";

registerWebsitePreviewTour(
    "lead_scoring_website_form_editor_tour",
    {url: "/contactus", edition: true},
    () => [
        {
            content: "Select the contact form",
            trigger: ":iframe #wrap.o_editable section.s_website_form",
            run: "click",
        },
        {
            content: "Open the Lead scoring select",
            trigger: `${OPTION} we-select[data-name='lead_scoring_operation_opt'] we-toggler`,
            run: "click",
        },
        {
            content: "Add points",
            trigger: `${OPTION} we-button[data-lead-scoring-operation='add']`,
            run: "click",
        },
        {
            content: "The form now has a scoring setting",
            trigger: ":iframe section.s_website_form form[data-lead-scoring-setting-id]",
        },
        {
            content: "Set 15 points",
            trigger: `${OPTION} we-input[data-name='lead_scoring_value_opt'] input`,
            run: "edit 15 && click body",
        },
        {
            content: "Say why",
            trigger: `${OPTION} we-input[data-name='lead_scoring_note_opt'] input`,
            run: "edit Asked us a question && click body",
        },
        {
            content: "The points are kept",
            trigger: `${OPTION} we-input[data-name='lead_scoring_value_opt'] input:value(15)`,
        },
        {
            content: "The form scores once per period, as its setting says",
            trigger: `${OPTION} we-select[data-name='lead_scoring_repeat_opt'] we-toggler:contains('Once per period')`,
        },
        {
            content: "Every 48 hours",
            trigger: `${OPTION} we-input[data-name='lead_scoring_hours_opt'] input`,
            run: "edit 48 && click body",
        },
        {
            content: "Open the score group select",
            trigger: `${OPTION} we-select[data-name='lead_scoring_group_opt'] we-toggler`,
            run: "click",
        },
        {
            content: "Score in the Webinars group",
            trigger: `${OPTION} we-select[data-name='lead_scoring_group_opt'] we-button:contains('Webinars')`,
            run: "click",
        },
        {
            content: "The group is chosen",
            trigger: `${OPTION} we-select[data-name='lead_scoring_group_opt'] we-toggler:contains('Webinars')`,
        },
        {
            content: "Open the form's action select",
            trigger: "we-select:has(we-button:contains('Create an Opportunity')) we-toggler",
            run: "click",
        },
        {
            content: "Make the form create opportunities",
            trigger: "we-select we-button:contains('Create an Opportunity')",
            run: "click",
        },
        {
            content: "The form creates opportunities",
            trigger: ":iframe section.s_website_form form[data-model_name='crm.lead']",
        },
        ...clickOnSave(),
        {
            content: "The saved page signs the form",
            trigger:
                ":iframe form[data-model_name='crm.lead'][data-lead-scoring-setting-id] input[name='lead_scoring_token']:not(:visible)",
        },
    ]
);

registry.category("web_tour.tours").add("lead_scoring_website_form_submit_tour", {
    url: "/contactus",
    steps: () => [
        {
            content: "Name",
            trigger: "input[name=contact_name]",
            run: "edit Grace Hopper",
        },
        {
            content: "Phone",
            trigger: "input[name=phone]",
            run: "edit +32 485 11 22 33",
        },
        {
            content: "Email",
            trigger: "input[name=email_from]",
            run: "edit grace.hopper@example.com",
        },
        {
            content: "Company",
            trigger: "input[name=partner_name]",
            run: "edit Navy",
        },
        {
            content: "Subject",
            trigger: "input[name=name]",
            run: "edit Compilers",
        },
        {
            content: "Question",
            trigger: "textarea[name=description]",
            run: "edit Can we talk?",
        },
        {
            content: "Send",
            trigger: ".s_website_form_send",
            run: "click",
        },
        {
            content: "The thank-you page shows",
            trigger: "#wrap:has(h1:contains('Thank You!'))",
        },
    ],
});
