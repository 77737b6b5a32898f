# Copyright 2026 Lead Scoring contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The ledgers of contacts merged by Odoo's merge wizard: the service
``lead.score.merge``."""

from odoo import _, api, models
from odoo.tools import SQL


class LeadScoreMerge(models.AbstractModel):
    """The ledgers of contacts merged by Odoo's merge wizard.

    :meth:`_merge_ledgers` moves every line of the merged contacts (a
    res.partner recordset) to the surviving contact; a key that two of them
    hold counts once (:meth:`_expire_merged_duplicates`), and the surviving
    contact's ledger is replayed and its scores refreshed.

    The caller's environment is kept. Nothing here commits.
    """

    _name = "lead.score.merge"
    _description = "Lead scoring: the ledgers of merged contacts"

    @api.model
    def _merge_ledgers(self, src_partners, dst_partner):
        """Move the ledgers of merged contacts to the one that survives.

        A rule earned by several of them stays in the history but counts once:
        the duplicates no longer count (as if expired) and lose their rule key.
        """
        operations = self.env["lead.score.operation"]
        operations.flush_model()
        sources = list(src_partners.ids)
        self._expire_merged_duplicates(
            sources,
            dst_partner.id,
            ("rule_id", "rule_key"),
            _("Earned again by a merged duplicate contact: counts once."),
        )
        # The same for the keys of forms, mailings and API calls (unique per
        # contact): a form scored "once per contact" stays scored once.
        self._expire_merged_duplicates(
            sources,
            dst_partner.id,
            ("idempotency_key",),
            _("Recorded again for a merged duplicate contact: counts once."),
        )
        self.env.cr.execute(
            SQL(
                """
                UPDATE lead_score_operation SET partner_id = %s, company_id = %s
                 WHERE partner_id = ANY(%s) RETURNING id
                """,
                dst_partner.id,
                dst_partner.company_id.id or None,
                sources,
            )
        )
        moved = len(self.env.cr.fetchall())
        operations.invalidate_model()
        score_before = dst_partner.sudo().lead_score
        self.env["lead.score.ledger"]._refresh_scores(dst_partner.ids)
        if moved:
            dst_partner.sudo()._lead_score_log(
                _(
                    "Score history merged from %s.",
                    ", ".join(src_partners.mapped("display_name")),
                ),
                score_before,
                new_lines=[_("%s operations moved", moved)],
            )

    @api.model
    def _expire_merged_duplicates(self, sources, destination, key, why):
        """Lines of merged contacts whose key (the last of ``key``'s columns)
        the surviving contact or an earlier merged line holds already: they
        stay in the history, count no more, and lose their key."""
        key_column = SQL.identifier(key[-1])
        same_key = SQL(" AND ").join(
            SQL("d.%s = o.%s", SQL.identifier(column), SQL.identifier(column))
            for column in key
        )
        self.env.cr.execute(
            SQL(
                """
                UPDATE lead_score_operation o
                   SET %(key)s = NULL, expired = TRUE,
                       note = concat_ws(E'\n', note, %(why)s)
                 WHERE o.partner_id = ANY(%(src)s) AND o.%(key)s IS NOT NULL
                   AND EXISTS (SELECT 1 FROM lead_score_operation d
                                WHERE %(same_key)s
                                  AND (d.partner_id = %(dst)s
                                       OR (d.partner_id = ANY(%(src)s) AND d.id < o.id)))
                """,
                key=key_column,
                same_key=same_key,
                src=sources,
                dst=destination,
                why=why,
            )
        )
