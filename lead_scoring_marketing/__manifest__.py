# Copyright 2026 Lead Scoring contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
{
    "name": "Lead Scoring: Marketing",
    "summary": "Score from automation steps and email engagement, act on score changes",
    "version": "18.0.1.2.0",
    "category": "Marketing/Email Marketing",
    "website": "https://github.com/lead-scoring/odoo-lead-scoring",
    "author": "Lead Scoring contributors",
    "maintainers": ["lead-scoring"],
    "license": "LGPL-3",
    "development_status": "Beta",
    "depends": ["lead_scoring", "mass_mailing", "base_automation", "automation_oca"],
    "data": [
        "security/ir.model.access.csv",
        "views/ir_actions_server_views.xml",
        "views/automation_configuration_step_views.xml",
        "views/mailing_mailing_views.xml",
        "views/res_config_settings_views.xml",
        "data/ir_cron.xml",
        "data/mailing_filter_data.xml",
        "data/base_automation_data.xml",
    ],
    "demo": ["demo/lead_scoring_marketing_demo.xml"],
    "uninstall_hook": "uninstall_hook",
    "installable": True,
}
