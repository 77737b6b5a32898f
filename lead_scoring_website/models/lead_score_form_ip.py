# Copyright 2026 Lead Scoring contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""How many anonymous submissions one network address had scored this hour.

A visitor can type any email into a form: without a limit, one address could
create and score contacts without end. Only a keyed hash of the address is
stored, one row per address and hour, and the scheduler forgets past hours.
"""

from odoo import api, fields, models
from odoo.tools import SQL
from odoo.tools.misc import hmac

LIMIT_PARAM = "lead_scoring_website.max_scored_submissions_per_ip"
DEFAULT_LIMIT = 20
HASH_SCOPE = "lead_scoring_website.ip"


class LeadScoreFormIp(models.Model):
    _name = "lead.score.form.ip"
    _description = "Scored Form Submissions per Address"
    _log_access = False

    ip_hash = fields.Char(string="Address hash", required=True)
    hour = fields.Datetime(required=True, index=True)
    count = fields.Integer(string="Scored submissions", default=0)

    def init(self):
        # The counter's upsert relies on it.
        self.env.cr.execute(
            "CREATE UNIQUE INDEX IF NOT EXISTS lead_score_form_ip_hash_hour_uniq"
            " ON lead_score_form_ip (ip_hash, hour)"
        )

    @api.model
    def _limit(self):
        value = self.env["ir.config_parameter"].sudo().get_param(LIMIT_PARAM)
        try:
            return int(value or DEFAULT_LIMIT)
        except ValueError:
            return DEFAULT_LIMIT

    @api.model
    def _count_submission(self, address):
        """Count one anonymous submission from this address; False when the
        address is past its hourly limit and the submission must not score."""
        ip_hash = hmac(self.env(su=True), HASH_SCOPE, address or "")
        hour = fields.Datetime.now().replace(minute=0, second=0, microsecond=0)
        # One statement: concurrent submissions from one address wait for
        # each other on the row (and Odoo retries the one that loses).
        self.env.cr.execute(
            SQL(
                """
                INSERT INTO lead_score_form_ip (ip_hash, hour, count)
                VALUES (%s, %s, 1)
                ON CONFLICT (ip_hash, hour)
                DO UPDATE SET count = lead_score_form_ip.count + 1
                RETURNING count
                """,
                ip_hash,
                hour,
            )
        )
        count = self.env.cr.fetchone()[0]
        self.invalidate_model()
        return count <= self._limit()

    @api.model
    def _forget_past_hours(self):
        hour = fields.Datetime.now().replace(minute=0, second=0, microsecond=0)
        self.env.cr.execute(SQL("DELETE FROM lead_score_form_ip WHERE hour < %s", hour))
        self.invalidate_model()
