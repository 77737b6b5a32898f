# Copyright 2026 Lead Scoring contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import fields, models
from odoo.tools.sql import column_exists, create_column


class WebsiteTrack(models.Model):
    _inherit = "website.track"

    # Stored so that "each matching record" scoring rules can use page views.
    partner_id = fields.Many2one(
        related="visitor_id.partner_id",
        string="Contact",
        store=True,
        index="btree_not_null",
    )

    def _auto_init(self):
        # One UPDATE instead of the ORM's recomputation of every page view.
        cr = self.env.cr
        if not column_exists(cr, "website_track", "partner_id"):
            create_column(cr, "website_track", "partner_id", "int4")
            cr.execute(
                """
                UPDATE website_track t SET partner_id = v.partner_id
                  FROM website_visitor v
                 WHERE v.id = t.visitor_id AND v.partner_id IS NOT NULL
                """
            )
        return super()._auto_init()
