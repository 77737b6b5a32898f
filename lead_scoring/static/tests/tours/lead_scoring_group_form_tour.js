import { registry } from "@web/core/registry";

// The list of score groups opens each group's form, where all its settings
// are; a decay of points per period takes the numbers given, none by default.
registry.category("web_tour.tours").add("lead_scoring_group_form_tour", {
    steps: () => [
        {
            content: "Open the group from the list",
            trigger: ".o_data_row .o_data_cell[name='name']:contains('Tour Decay Group')",
            run: "click",
        },
        {
            content: "Its form opens, with the decay settings",
            trigger: ".o_form_view div[name='decay'] select",
            run: "selectByLabel Points per period",
        },
        {
            content: "The points lost show",
            trigger: ".o_form_view div[name='decay_points'] input",
        },
        {
            content: "and the period, and whether scores go below zero",
            trigger: ".o_form_view div[name='decay_below_zero'] input",
        },
        {
            content: "Save without the points and the period",
            trigger: ".o_form_view .o_form_button_save",
            run: "click",
        },
        {
            content: "The points and the period are asked for",
            trigger:
                ".modal .modal-body:contains('needs the points lost and the period in days')",
        },
        {
            content: "Close the message",
            trigger: ".modal .modal-footer .btn-primary",
            run: "click",
        },
        {
            content: "Give the points lost",
            trigger: ".o_form_view div[name='decay_points'] input",
            run: "edit 5",
        },
        {
            content: "and the period",
            trigger: ".o_form_view div[name='decay_period_days'] input",
            run: "edit 14",
        },
        {
            content: "Save",
            trigger: ".o_form_view .o_form_button_save",
            run: "click",
        },
        {
            content: "Saved",
            trigger: ".o_form_view .o_form_saved",
        },
    ],
});
