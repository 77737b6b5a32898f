# Copyright 2026 Lead Scoring contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
{
    "name": "Lead Scoring: Queue Job",
    "summary": "Rule runs shared by several workers or servers through OCA queue_job",
    "version": "18.0.1.0.0",
    "category": "Sales/CRM",
    "website": "https://github.com/lead-scoring/odoo-lead-scoring",
    "author": "Lead Scoring contributors",
    "maintainers": ["lead-scoring"],
    "license": "LGPL-3",
    "development_status": "Beta",
    "depends": ["lead_scoring", "queue_job"],
    "data": ["data/queue_job_data.xml"],
    "auto_install": True,
    "installable": True,
}
