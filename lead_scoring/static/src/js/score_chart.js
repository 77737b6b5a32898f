// Copyright 2026 Lead Scoring contributors
// License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import { Component, onMounted, onWillStart, onWillUnmount, useRef } from "@odoo/owl";
import { loadBundle } from "@web/core/assets";
import { getColor } from "@web/core/colors/colors";
import { _t } from "@web/core/l10n/translation";
import { registry } from "@web/core/registry";
import { useService } from "@web/core/utils/hooks";

/**
 * A contact's score over time: the total and each group's score as step
 * lines (a score holds until its next change), and the total's tiers as
 * dashed lines at their minimum score.
 */
export class LeadScoreChart extends Component {
    static template = "lead_scoring.LeadScoreChart";
    static props = ["*"];

    setup() {
        this.orm = useService("orm");
        this.canvas = useRef("canvas");
        onWillStart(async () => {
            await loadBundle("web.chartjs_lib");
            this.data = await this.orm.call("lead.score.history", "get_chart_data", [
                this.props.action.params.partner_id,
            ]);
        });
        onMounted(() => {
            if (this.data.dates.length) {
                this.chart = new window.Chart(this.canvas.el, this.config());
            }
        });
        onWillUnmount(() => this.chart?.destroy());
    }

    config() {
        const { dates, total, groups, tiers } = this.data;
        const points = (scores) => scores.map((y, index) => ({ x: dates[index], y }));
        const line = (label, scores, color, width) => ({
            label,
            data: points(scores),
            stepped: "after",
            borderColor: color,
            backgroundColor: color,
            borderWidth: width,
            pointRadius: 2,
        });
        const datasets = [line(_t("Total"), total, getColor(0), 3)];
        groups.forEach((group, index) =>
            datasets.push(line(group.name, group.scores, getColor(index + 2), 1.5))
        );
        for (const tier of tiers) {
            datasets.push({
                label: `${tier.name} ≥ ${tier.min_score}`,
                data: [
                    { x: dates[0], y: tier.min_score },
                    { x: dates[dates.length - 1], y: tier.min_score },
                ],
                borderColor: getColor(tier.color || 1),
                borderDash: [6, 4],
                borderWidth: 1,
                pointRadius: 0,
            });
        }
        return {
            type: "line",
            data: { datasets },
            options: {
                maintainAspectRatio: false,
                animation: false,
                scales: {
                    x: { type: "time", time: { unit: "day", tooltipFormat: "DD" } },
                    y: { title: { display: true, text: _t("Score") } },
                },
                plugins: { legend: { position: "bottom" } },
            },
        };
    }
}

registry.category("actions").add("lead_scoring_score_chart", LeadScoreChart);
