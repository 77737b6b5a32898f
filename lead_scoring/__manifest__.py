# Copyright 2026 Lead Scoring contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
{
    "name": "Lead Scoring",
    "summary": "Score contacts from a ledger of points: manual, rules and a 5-minute job",
    "version": "18.0.1.0.0",
    "category": "Sales/CRM",
    "website": "https://github.com/lead-scoring/odoo-lead-scoring",
    "author": "Lead Scoring contributors",
    "maintainers": ["lead-scoring"],
    "license": "LGPL-3",
    "development_status": "Beta",
    "depends": ["contacts", "crm", "mail"],
    "data": [
        "security/lead_scoring_security.xml",
        "security/ir.model.access.csv",
        "views/lead_score_operation_views.xml",
        "views/lead_score_tier_views.xml",
        "views/lead_score_rule_views.xml",
        "views/res_partner_views.xml",
        "views/crm_lead_views.xml",
        "wizards/lead_score_adjust_views.xml",
        "views/lead_scoring_menus.xml",
        "views/lead_score_breakdown_views.xml",
        "data/ir_cron.xml",
    ],
    "demo": ["demo/lead_scoring_demo.xml"],
    "assets": {
        "web.assets_tests": ["lead_scoring/static/tests/tours/*.js"],
    },
    "uninstall_hook": "uninstall_hook",
    "installable": True,
    "application": False,
}
