# Copyright 2026 Lead Scoring contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The default score group reads "General": a group named "Score" inside the
total "Lead Score" read as the total itself. Renamed only if nobody renamed
it: its name is still "Score" in every language. The update then loads its
French and Dutch names from the addon's translations."""


def migrate(cr, version):
    if not version:
        return
    cr.execute(
        """UPDATE lead_score_group g
              SET name = '{"en_US": "General"}'::jsonb
             FROM ir_model_data d
            WHERE d.module = 'lead_scoring' AND d.name = 'score_group_default'
              AND d.model = 'lead.score.group' AND g.id = d.res_id
              AND NOT EXISTS (SELECT 1 FROM jsonb_each_text(g.name) n
                               WHERE n.value <> 'Score')"""
    )
