# Copyright 2026 Lead Scoring contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Once-per-contact form keys no longer name the contact (keys are unique per
contact): website-form:<setting>:<contact id> becomes website-form:<setting>:once,
so that a contact who already scored a form does not score it again."""


def migrate(cr, version):
    if not version:
        return
    # One line per contact and form takes the new key (a contact merged from
    # several keeps the others' lines under their old, unused keys).
    cr.execute(
        r"""
        WITH old AS (
            SELECT id, partner_id,
                   substring(idempotency_key from '^website-form:\d+:') || 'once' AS new_key
              FROM lead_score_operation
             WHERE idempotency_key ~ '^website-form:\d+:\d+$'
        ), chosen AS (
            SELECT DISTINCT ON (partner_id, new_key) id, new_key
              FROM old
             WHERE NOT EXISTS (SELECT 1 FROM lead_score_operation d
                                WHERE d.partner_id = old.partner_id
                                  AND d.idempotency_key = old.new_key)
             ORDER BY partner_id, new_key, id
        )
        UPDATE lead_score_operation o SET idempotency_key = chosen.new_key
          FROM chosen WHERE o.id = chosen.id
        """
    )
