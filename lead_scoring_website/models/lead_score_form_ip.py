# Copyright 2026 Lead Scoring contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Guards of the website forms against what anyone can post.

A visitor can type any email into a form: without a limit, one network
address could create and score contacts without end (lead.score.form.ip);
two submissions with one new email at the same moment must not create two
contacts (lead.score.form.email). Only keyed hashes are stored, and only for
the last hour: Odoo's daily autovacuum forgets older rows (the limit only
counts the last hour's).
"""

from datetime import timedelta

from odoo import api, fields, models
from odoo.tools import SQL
from odoo.tools.misc import hmac

LIMIT_PARAM = "lead_scoring_website.max_scored_submissions_per_ip"
DEFAULT_LIMIT = 20
KEEP = timedelta(hours=1)


class LeadScoreFormIp(models.Model):
    _name = "lead.score.form.ip"
    _description = "Scored Form Submission per Address"
    _log_access = False

    ip_hash = fields.Char(string="Address hash", required=True)
    date = fields.Datetime(required=True)

    def init(self):
        self.env.cr.execute(
            "CREATE INDEX IF NOT EXISTS lead_score_form_ip_hash_date_idx"
            " ON lead_score_form_ip (ip_hash, date)"
        )

    @api.model
    def _limit(self):
        value = self.env["ir.config_parameter"].sudo().get_param(LIMIT_PARAM)
        try:
            return int(value or DEFAULT_LIMIT)
        except ValueError:
            return DEFAULT_LIMIT

    @api.model
    def _hash(self, address):
        """The keyed hash an address is known by."""
        return hmac(self.env(su=True), "lead_scoring_website.ip", address or "")

    @api.model
    def _recent_counts(self, ip_hashes):
        """{hash: submissions counted in the last hour} of these hashes."""
        self.env.cr.execute(
            SQL(
                """
                SELECT ip_hash, count(*) FROM lead_score_form_ip
                 WHERE ip_hash = ANY(%s) AND date > %s GROUP BY ip_hash
                """,
                list(ip_hashes),
                fields.Datetime.now() - KEEP,
            )
        )
        return dict(self.env.cr.fetchall())

    @api.model
    def _count_submission(self, address):
        """Record an anonymous submission from this address that scores;
        False once the address had its limit of them in the last hour."""
        return self._count_hash(self._hash(address))

    @api.model
    def _count_hash(self, ip_hash):
        """Count a submission that scores against the address of this hash;
        False, and nothing counted, once it had its limit in the last hour.

        Rows are only inserted, never updated: simultaneous submissions never
        wait for each other nor fail, and may each pass the limit by one.
        """
        now = fields.Datetime.now()
        cr = self.env.cr
        if self._recent_counts([ip_hash]).get(ip_hash, 0) >= self._limit():
            return False
        cr.execute(
            SQL(
                "INSERT INTO lead_score_form_ip (ip_hash, date) VALUES (%s, %s)",
                ip_hash,
                now,
            )
        )
        return True

    @api.autovacuum
    def _gc_past(self):
        self._forget_past()

    @api.model
    def _forget_past(self):
        self.env.cr.execute(
            SQL(
                "DELETE FROM lead_score_form_ip WHERE date <= %s",
                fields.Datetime.now() - KEEP,
            )
        )
        self.invalidate_model()


class LeadScoreFormEmail(models.Model):
    _name = "lead.score.form.email"
    _description = "Contact Created from a Form"
    _log_access = False

    email_hash = fields.Char(required=True)
    date = fields.Datetime(required=True, index=True)

    def init(self):
        self.env.cr.execute(
            "CREATE UNIQUE INDEX IF NOT EXISTS lead_score_form_email_hash_uniq"
            " ON lead_score_form_email (email_hash)"
        )

    @api.model
    def _claim(self, normalized_email):
        """Claim the creation of the contact of this email, before creating it.

        A transaction that created this email's contact and committed after
        this one began is invisible here (Odoo's transactions are REPEATABLE
        READ), and one still running may be creating it: in both cases the
        unique index makes PostgreSQL wait for it, then fail with a
        serialization failure, upon which Odoo retries the request, which
        then finds that contact.
        """
        email_hash = hmac(
            self.env(su=True), "lead_scoring_website.email", normalized_email
        )
        self.env.cr.execute(
            SQL(
                """
                INSERT INTO lead_score_form_email (email_hash, date) VALUES (%s, %s)
                ON CONFLICT (email_hash) DO UPDATE SET date = EXCLUDED.date
                """,
                email_hash,
                fields.Datetime.now(),
            ),
            # Its serialization failure is expected, and retried.
            log_exceptions=False,
        )

    @api.autovacuum
    def _gc_past(self):
        self._forget_past()

    @api.model
    def _forget_past(self):
        self.env.cr.execute(
            SQL(
                "DELETE FROM lead_score_form_email WHERE date <= %s",
                fields.Datetime.now() - KEEP,
            )
        )
        self.invalidate_model()
