import { registry } from "@web/core/registry";

registry.category("web_tour.tours").add("lead_scoring_run_now_tour", {
    steps: () => [
        {
            content: "The rule has not scored anyone yet",
            trigger: ".o_data_row:contains('Tour run rule') td[name='operation_count']:contains('0')",
        },
        {
            content: "Run all rules now",
            trigger: ".o_list_view button[name='action_run_now']",
            run: "click",
        },
        {
            content: "The screen says what happens",
            trigger: ".o_notification:contains('being applied in the background')",
        },
        {
            content: "It says when the run is over",
            trigger: ".o_notification:contains('The rules have been applied.')",
        },
        {
            content: "The list shows what the run did, without reloading by hand",
            trigger: ".o_data_row:contains('Tour run rule') td[name='operation_count']:contains('3')",
        },
    ],
});
