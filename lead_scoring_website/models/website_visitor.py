# Copyright 2026 Lead Scoring contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import models
from odoo.tools import SQL


class WebsiteVisitor(models.Model):
    _inherit = "website.visitor"

    def _upsert_visitor(self, access_token, force_track_values=None):
        result = super()._upsert_visitor(access_token, force_track_values)
        # website inserts the page view in SQL, out of the ORM's sight: fill
        # the contact of that newest view here. Only a logged-in visitor (a token that is not 32
        # characters, see website) has one.
        if force_track_values and len(str(access_token)) != 32:
            self.env.cr.execute(
                SQL(
                    """
                    UPDATE website_track t SET partner_id = v.partner_id
                      FROM website_visitor v
                     WHERE v.id = %(visitor)s AND v.partner_id IS NOT NULL
                       AND t.id = (SELECT max(id) FROM website_track
                                    WHERE visitor_id = %(visitor)s)
                    """,
                    visitor=result[0],
                )
            )
            linked = self.env.cr.rowcount
            self.env["website.track"].invalidate_model(["partner_id"])
            if linked:
                # A contact's page view: scored within seconds (engine/realtime.py).
                self.env["lead.score.realtime"]._realtime_note("website.track")
        return result
