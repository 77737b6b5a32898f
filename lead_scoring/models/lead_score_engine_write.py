# Copyright 2026 Lead Scoring contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, fields, models
from odoo.tools import SQL


class LeadScoreEngineWrite(models.Model):
    """The transaction times at which the rule engine wrote scores.

    Records written then carry one of these times as their write_date, and
    only their scores changed: a run that looks at what changed since the
    last one leaves them out (see lead.score.rule._incremental_filter).
    """

    _name = "lead.score.engine.write"
    _description = "Lead Scoring Engine Write"
    _log_access = False
    _rec_name = "date"

    date = fields.Datetime(required=True, readonly=True)

    _sql_constraints = [("date_uniq", "unique(date)", "One line per transaction.")]

    @api.model
    def _note(self):
        """This transaction writes scores for the engine."""
        self.env.cr.execute(
            SQL(
                "INSERT INTO lead_score_engine_write (date) VALUES (%s)"
                " ON CONFLICT DO NOTHING",
                self.env.cr.now(),
            )
        )

    @api.model
    def _forget_before(self, date):
        self.env.cr.execute(
            SQL("DELETE FROM lead_score_engine_write WHERE date < %s", date)
        )

    @api.model
    def _left_out(self, column):
        """SQL: ``column`` is not one of these times."""
        return SQL(
            "NOT EXISTS (SELECT 1 FROM lead_score_engine_write w WHERE w.date = %s)",
            column,
        )
