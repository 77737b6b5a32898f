# Copyright 2026 Lead Scoring contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
{
    "name": "Lead Scoring: Website",
    "summary": "Website form submissions and page visits change the lead score",
    "version": "18.0.1.0.0",
    "category": "Website/Website",
    "website": "https://github.com/lead-scoring/odoo-lead-scoring",
    "author": "Lead Scoring contributors",
    "maintainers": ["lead-scoring"],
    "license": "LGPL-3",
    "development_status": "Beta",
    "depends": ["lead_scoring", "website", "website_crm"],
    "data": [],
    "installable": True,
}
