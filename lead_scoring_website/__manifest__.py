# Copyright 2026 Lead Scoring contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
{
    "name": "Lead Scoring: Website",
    "summary": "Website form submissions and page visits change the lead score",
    "version": "18.0.1.2.0",
    "category": "Website/Website",
    "website": "https://github.com/lead-scoring/odoo-lead-scoring",
    "author": "Lead Scoring contributors",
    "maintainers": ["lead-scoring"],
    "license": "LGPL-3",
    "development_status": "Beta",
    "depends": ["lead_scoring", "website", "website_crm"],
    "data": [
        "security/ir.model.access.csv",
        "security/lead_scoring_website_security.xml",
        "views/lead_score_form_setting_views.xml",
        "views/lead_score_form_held_views.xml",
        "views/crm_lead_views.xml",
        "views/res_config_settings_views.xml",
        "views/website_page_views.xml",
        "views/snippets.xml",
        "data/lead_score_rule_data.xml",
        "data/ir_cron.xml",
    ],
    "assets": {
        "website.assets_wysiwyg": [
            "lead_scoring_website/static/src/js/lead_scoring_form_option.js",
        ],
        "web.assets_tests": ["lead_scoring_website/static/tests/tours/*.js"],
    },
    "demo": ["demo/lead_scoring_website_demo.xml"],
    "installable": True,
}
