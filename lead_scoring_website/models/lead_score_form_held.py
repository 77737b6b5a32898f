# Copyright 2026 Lead Scoring contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Website form submissions whose scoring waits.

An address that sent its hourly limit of submissions that create a contact
or add points (see lead.score.form.ip) does not lose the next ones: the
record the form created is kept as always, and what scoring reads of the
submission waits here. A salesperson scores it from the lead in one click,
or the scheduler does once the address is under its limit again, each
release counting against the limit as the submission would have.
"""

import logging

from psycopg2 import IntegrityError

from odoo import _, api, fields, models
from odoo.service.model import PG_CONCURRENCY_EXCEPTIONS_TO_RETRY
from odoo.tools import SQL

from .lead_score_form_ip import KEEP
from .lead_score_form_setting import SCORING_KEYS

_logger = logging.getLogger(__name__)

# What a posted value keeps, at most (scoring cuts it further).
VALUE_LIMIT = 4096
# Held submissions the scheduler scores per run, at most.
RELEASE_BATCH = 500


class _OverLimit(Exception):
    """The address has had its limit: the submission stays held."""


class LeadScoreFormHeld(models.Model):
    _name = "lead.score.form.held"
    _description = "Held Form Submission"
    _order = "date desc, id desc"
    _rec_name = "setting_id"

    setting_id = fields.Many2one(
        "lead.score.form.setting",
        string="Form",
        required=True,
        ondelete="cascade",
        index=True,
        readonly=True,
    )
    website_id = fields.Many2one(related="setting_id.website_id")
    company_id = fields.Many2one(related="setting_id.company_id", store=True)
    res_model = fields.Char(string="Model", required=True, readonly=True)
    res_id = fields.Many2oneReference(
        string="Record ID", model_field="res_model", required=True, readonly=True
    )
    record_name = fields.Char(string="Record", compute="_compute_record_name")
    date = fields.Datetime(
        string="Sent on", required=True, default=fields.Datetime.now, readonly=True
    )
    # Keyed hash of the address, as lead.score.form.ip keeps it.
    ip_hash = fields.Char(
        string="Address hash", required=True, groups="base.group_system"
    )
    submitted = fields.Json(string="Posted values", groups="base.group_system")

    def init(self):
        self.env.cr.execute(
            "CREATE INDEX IF NOT EXISTS lead_score_form_held_record_idx"
            " ON lead_score_form_held (res_model, res_id)"
        )
        self.env.cr.execute(
            "CREATE INDEX IF NOT EXISTS lead_score_form_held_ip_hash_idx"
            " ON lead_score_form_held (ip_hash, date)"
        )

    @api.depends("res_model", "res_id")
    def _compute_record_name(self):
        for held in self:
            records = self.env.get(held.res_model)
            record = (
                records.sudo().browse(held.res_id).exists()
                if records is not None
                else None
            )
            held.record_name = (
                record.display_name if record else _("%s (deleted)", held.res_id)
            )

    @api.model
    def _held_ids(self, model_name, ids=None):
        """The ids of the records of model_name (among ids) held."""
        domain = [("res_model", "=", model_name)]
        if ids is not None:
            domain.append(("res_id", "in", list(ids)))
        return set(self.search(domain).mapped("res_id"))

    @api.model
    def _hold(self, setting, record, submitted, address):
        """Keep what scoring reads of this submission, for later."""
        kept = {
            key: value[:VALUE_LIMIT]
            for key, value in submitted.items()
            if key in SCORING_KEYS and isinstance(value, str)
        }
        # Scoring only asks whether these were posted (see _link_contact).
        kept.update(
            {
                key: ""
                for key in submitted
                if key not in kept and (key in record._fields or key == "partner_id")
            }
        )
        return self.create(
            {
                "setting_id": setting.id,
                "res_model": record._name,
                "res_id": record.id,
                "ip_hash": self.env["lead.score.form.ip"]._hash(address),
                "submitted": kept,
            }
        )

    def _release(self, count_address=False):
        """Score these held submissions as their form would have, each once;
        returns those scored. With count_address, as the scheduler does, a
        submission that scores counts against its address, and one over the
        limit stays held."""
        released = self.browse()
        blocked = set()
        cr = self.env.cr
        addresses = self.env["lead.score.form.ip"]
        for held in self.sorted(lambda held: (held.date, held.id)):
            setting, ip_hash = held.setting_id, held.ip_hash
            if ip_hash in blocked:
                continue
            submitted = dict(held.submitted or {})
            model_name, res_id = held.res_model, held.res_id
            try:
                with cr.savepoint():
                    # The row is the right to score: taken once, whoever
                    # releases at the same time.
                    cr.execute(
                        SQL(
                            "DELETE FROM lead_score_form_held WHERE id = %s"
                            " RETURNING id",
                            held.id,
                        )
                    )
                    if not cr.fetchone():
                        continue
                    records = self.env.get(model_name)
                    if records is None:
                        # Its model was uninstalled: nothing left to score.
                        continue
                    record = records.sudo().browse(res_id).exists()
                    if (
                        count_address
                        and setting._would_score(record, submitted)
                        and not addresses._count_hash(ip_hash)
                    ):
                        raise _OverLimit()
                    setting._score_submission(record, submitted, res_id=res_id)
                released |= held
            except _OverLimit:
                blocked.add(ip_hash)
            except PG_CONCURRENCY_EXCEPTIONS_TO_RETRY:
                raise
            except IntegrityError:
                # A concurrent submission scored the same key first.
                _logger.info("Lead scoring: held submission %s already scored", held.id)
            except Exception:
                _logger.exception(
                    "Lead scoring: held submission %s could not be scored", held.id
                )
        self.invalidate_model()
        return released

    @api.model
    def _cron_release(self):
        """Score the held submissions of the addresses under their limit
        again, oldest first, as many as each address may send now."""
        addresses = self.env["lead.score.form.ip"]
        self.flush_model()
        self.env.cr.execute(
            SQL(
                """
                SELECT h.id
                  FROM (SELECT h.id, h.ip_hash, h.date,
                               row_number() OVER (PARTITION BY h.ip_hash
                                                  ORDER BY h.date, h.id) AS rank
                          FROM lead_score_form_held h
                          JOIN lead_score_form_setting s
                            ON s.id = h.setting_id AND s.active) h
                  LEFT JOIN (SELECT ip_hash, count(*) AS n
                               FROM lead_score_form_ip WHERE date > %(since)s
                              GROUP BY ip_hash) r ON r.ip_hash = h.ip_hash
                 WHERE h.rank <= %(limit)s - COALESCE(r.n, 0)
                 ORDER BY h.date, h.id
                 LIMIT %(batch)s
                """,
                since=fields.Datetime.now() - KEEP,
                limit=addresses._limit(),
                batch=RELEASE_BATCH,
            )
        )
        held = self.sudo().browse(row[0] for row in self.env.cr.fetchall())
        return held._release(count_address=True)

    def action_release(self):
        """Score these held submissions now (a manager's decision: they do not
        count against their address)."""
        self.check_access("unlink")
        self.sudo()._release()
        return True
