import { registry } from "@web/core/registry";

const row = (name) => `.o_data_row:contains('${name}') .o_list_record_selector input`;

// Adjusting several contacts from the list: the group selector shows as the
// dialog opens.
registry.category("web_tour.tours").add("lead_scoring_bulk_adjust_tour", {
    steps: () => [
        {
            content: "Select the first contact",
            trigger: row("AAA Bulk One"),
            run: "click",
        },
        {
            content: "and the second",
            trigger: row("AAA Bulk Two"),
            run: "click",
        },
        {
            content: "Open the actions",
            trigger: ".o_cp_action_menus button",
            run: "click",
        },
        {
            content: "Adjust their score",
            trigger: ".o-dropdown--menu .o-dropdown-item:contains('Adjust lead score')",
            run: "click",
        },
        {
            content: "The dialog lists both contacts",
            trigger: ".modal div[name='partner_ids'] .o_tag:contains('AAA Bulk Two')",
        },
        {
            content: "The group selector shows as the dialog opens",
            trigger: ".modal .o_form_label:contains('Score group')",
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
            content: "Add 5 points",
            trigger: ".modal div[name='value'] input",
            run: "edit 5",
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
            content: "The dialog closes",
            trigger: "body:not(:has(.modal))",
        },
    ],
});
