import { registry } from "@web/core/registry";

function box(selector) {
    const element = document.querySelector(selector);
    if (!element) {
        throw new Error(`${selector} is not on the screen`);
    }
    return element.getBoundingClientRect();
}

// In a rule's condition, the value's tags stay on their condition's line;
// in the rules list, the title and what the rule does are read in full.
registry.category("web_tour.tours").add("lead_scoring_rule_layout_tour", {
    steps: () => [
        {
            content: "The rules list shows the tour's rule",
            trigger: ".o_list_view .o_data_row td[name='name']:contains('Tour rule in our five countries')",
            run() {
                for (const name of ["name", "scoring_summary", "last_run_date"]) {
                    const cell = this.anchor.closest(".o_data_row").querySelector(`td[name='${name}']`);
                    if (cell.scrollWidth > cell.clientWidth + 1) {
                        throw new Error(`The ${name} column cuts "${cell.textContent.trim()}"`);
                    }
                }
            },
        },
        {
            content: "Open the rule",
            trigger: ".o_data_row td[name='name']:contains('Tour rule in our five countries')",
            run: "click",
        },
        {
            content: "Its condition lists the countries as tags",
            trigger: ".o_lead_score_rule_domain .o_tree_editor_condition .o_tag:contains('Luxembourg')",
            run() {
                const condition = ".o_lead_score_rule_domain .o_tree_editor_condition";
                const path = box(`${condition} .o_tree_editor_editor`);
                const tag = box(`${condition} .o_tag`);
                if (tag.top < path.top - 4 || tag.top > path.bottom) {
                    throw new Error(
                        `The tags float away from their line (tags at ${tag.top}px, the field at ${path.top}-${path.bottom}px)`
                    );
                }
            },
        },
    ],
});
