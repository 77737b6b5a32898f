# Copyright 2026 Lead Scoring contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Web leads that a form linked to a contact which existed before the
submission (found by the email the visitor typed) no longer update that
contact: they are marked as the form now marks them. A lead whose contact
the submission created shares that contact's creation time (one
transaction) and stays in sync."""


def migrate(cr, version):
    if not version:
        return
    cr.execute(
        """
        UPDATE crm_lead l SET lead_score_typed_partner = TRUE
          FROM res_partner p
         WHERE p.id = l.partner_id
           AND p.create_date < l.create_date
           AND l.lead_score_typed_partner IS NOT TRUE
           AND EXISTS (SELECT 1 FROM lead_score_operation o
                        WHERE o.res_model = 'crm.lead' AND o.res_id = l.id
                          AND o.partner_id = l.partner_id
                          AND o.source = 'website'
                          AND o.idempotency_key LIKE 'website-form:%')
        """
    )
