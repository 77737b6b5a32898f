# Copyright 2026 Lead Scoring contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import models
from odoo.tools import SQL


class WebsiteVisitor(models.Model):
    _inherit = "website.visitor"

    def _upsert_visitor(self, access_token, force_track_values=None):
        result = super()._upsert_visitor(access_token, force_track_values)
        # website inserts the page view in SQL, out of the ORM's sight: fill
        # its contact here. Only a logged-in visitor (a token that is not 32
        # characters, see website) has one.
        if force_track_values and len(str(access_token)) != 32:
            self.env.cr.execute(
                SQL(
                    """
                    UPDATE website_track t SET partner_id = v.partner_id
                      FROM website_visitor v
                     WHERE v.id = %s AND t.visitor_id = v.id
                       AND v.partner_id IS NOT NULL AND t.partner_id IS NULL
                    """,
                    result[0],
                )
            )
            self.env["website.track"].invalidate_model(["partner_id"])
        return result
