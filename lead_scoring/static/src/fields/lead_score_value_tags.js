import { registry } from "@web/core/registry";
import { many2ManyTagsField } from "@web/views/fields/many2many_tags/many2many_tags_field";

// A contact's group scores on a kanban card ("Fit 40", "Engagement 12"), each
// in its tier's color: the kanban's tags would hide a score without a colored
// tier, these show it grey.
registry.category("fields").add("lead_score_value_tags", many2ManyTagsField);
