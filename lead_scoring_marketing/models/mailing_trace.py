# Copyright 2026 Lead Scoring contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Score the engagement recorded by mailing traces, in one set-based job.

Every 5 minutes, the ledger's ``_record_lines`` (lead.score.ledger) (one ``INSERT ... SELECT``)
records an operation for each mailing, contact and kind of engagement (opened,
clicked, replied, bounced, unsubscribed) not scored yet: the idempotency key
``mailing-trace:mailing-<mailing id>:<kind>`` and the ledger's unique index on
(contact, key) make a contact score each kind once per mailing, however often
the job runs and however many traces of the mailing the contact received (a
trace without a mailing keys on itself, ``mailing-trace:<trace id>:<kind>``,
as every trace did in earlier versions). A trace scores its document's
contact; a trace without one (a mailing list's recipient) scores the contact
with its address in the trace's company (its document's, else its mailing's
responsible's), else a contact shared by every company. Each run reads the
traces written since the previous successful run (a watermark committed with
the lines it scored), minus an overlap.
"""

import logging
import time
from datetime import datetime, timedelta

from odoo import _, api, fields, models
from odoo.tools import SQL
from odoo.tools.sql import column_exists, create_column

from odoo.addons.lead_scoring.models.lead_score_operation import MAX_POINTS

_logger = logging.getLogger(__name__)

# kind: (operation, default points)
ENGAGEMENT = {
    "open": ("add", 1),
    "click": ("add", 3),
    "reply": ("add", 5),
    "bounce": ("remove", 5),
    "unsubscribe": ("remove", 10),
}
POINTS_PARAM = "lead_scoring_marketing.mailing_%s_points"
# The score group that engagement points count in (empty: the default group).
GROUP_PARAM = "lead_scoring_marketing.mailing_group_id"
# Traces written by transactions still running when the job last scored are
# caught by the next runs: each run looks this far behind the watermark.
OVERLAP = timedelta(hours=1)
# What an engagement writes on a trace, and the job that scores it.
ENGAGEMENT_FIELDS = {"trace_status", "links_click_datetime"}
ENGAGEMENT_JOB = "lead_scoring_marketing.ir_cron_score_mailing_engagement"
# How long the job waits for the engine held by another job (seconds).
ENGINE_WAIT = 15


class MailingTrace(models.Model):
    _inherit = "mailing.trace"

    # Lets scoring rules score "each click in a mailing" as an event rule.
    partner_id = fields.Many2one(
        "res.partner",
        string="Contact",
        compute="_compute_partner_id",
        store=True,
        index="btree_not_null",
        help="The contact of the mailed document: the contact itself, or the "
        "document's contact (a lead's, a sale order's ...).",
    )

    def _auto_init(self):
        # On a large database, fill the column in SQL rather than in Python.
        fill = not column_exists(self.env.cr, "mailing_trace", "partner_id")
        if fill:
            create_column(self.env.cr, "mailing_trace", "partner_id", "int4")
            self.env.cr.execute(
                SQL(
                    "UPDATE mailing_trace t SET partner_id = link.partner_id"
                    "  FROM (SELECT t.id, %s AS partner_id FROM mailing_trace t) link"
                    " WHERE link.id = t.id AND link.partner_id IS NOT NULL"
                    "   AND EXISTS (SELECT 1 FROM res_partner p WHERE p.id = link.partner_id)",
                    self._lead_score_contact_sql(),
                )
            )
        return super()._auto_init()

    @api.depends("model", "res_id")
    def _compute_partner_id(self):
        contact = self.env["lead.score.contact"]
        for trace in self:
            record = (
                self.env[trace.model].browse(trace.res_id).exists()
                if trace.model in self.env and trace.res_id
                else None
            )
            trace.partner_id = contact._contact_of(record) if record else False

    def write(self, vals):
        result = super().write(vals)
        if ENGAGEMENT_FIELDS & set(vals):
            # An open, click, reply or bounce: scored within seconds of its
            # commit by the engagement job (lead_scoring/engine/realtime.py).
            self.env["lead.score.realtime"]._realtime_ask(ENGAGEMENT_JOB)
        return result

    @api.model
    def _lead_score_labels(self):
        return {
            "open": _("Email opened"),
            "click": _("Email link clicked"),
            "reply": _("Email replied"),
            "bounce": _("Email bounced"),
            "unsubscribe": _("Unsubscribed"),
        }

    @api.model
    def _lead_score_default_points(self):
        """{kind: points} as set in the Settings, bounded to the ledger's range."""
        params = self.env["ir.config_parameter"].sudo()
        points = {}
        for kind, (_operation, default) in ENGAGEMENT.items():
            value = params.get_param(POINTS_PARAM % kind, default)
            try:
                points[kind] = max(0, min(MAX_POINTS, int(value)))
            except (TypeError, ValueError):
                _logger.warning(
                    "Parameter %s is not a number (%r): %s points used",
                    POINTS_PARAM % kind,
                    value,
                    default,
                )
                points[kind] = default
        return points

    def init(self):
        # The job reads the traces written since its last run, and finds the
        # last trace an unsubscribed address received.
        self.env.cr.execute(
            "CREATE INDEX IF NOT EXISTS mailing_trace_write_date_idx"
            " ON mailing_trace (write_date)"
        )
        self.env.cr.execute(
            "CREATE INDEX IF NOT EXISTS mailing_trace_email_idx"
            " ON mailing_trace (email) WHERE email IS NOT NULL"
        )

    @api.model
    def _lead_score_contact_sql(self):
        """SQL giving the contact of a trace t's document, as the compute of
        partner_id does (to fill it for the traces of an existing database)."""
        self.env.cr.execute("SELECT DISTINCT model FROM mailing_trace")
        model_names = {row[0] for row in self.env.cr.fetchall()}
        return self.env["lead.score.contact"]._contact_sql(
            model_names, SQL("t.model"), SQL("t.res_id")
        )

    @api.model
    def _lead_score_company_sql(self):
        """SQL giving the company of a trace t's document, for the models
        that mailings target and that belong to a company (NULL for others,
        such as mailing list contacts)."""
        branches = []
        for model_name in sorted(self.env.registry):
            records = self.env[model_name]
            field = records._fields.get("company_id")
            if (
                not getattr(records, "_mailing_enabled", False)
                or records._abstract
                or not records._auto
                or not field
                or field.type != "many2one"
                or field.comodel_name != "res.company"
                or not field.store
                or field.company_dependent
            ):
                continue
            branches.append(
                SQL(
                    "WHEN %s THEN (SELECT d.company_id FROM %s d WHERE d.id = t.res_id)",
                    model_name,
                    SQL.identifier(records._table),
                )
            )
        if not branches:
            return SQL("NULL::int4")
        return SQL("CASE t.model %s END", SQL(" ").join(branches))

    @api.model
    def _lead_score_engagement(self):
        """Score every engagement not scored yet; returns the contacts whose
        score changed, or False when the scoring engine is busy."""
        cr = self.env.cr
        if not self.env["lead.score.engine"]._try_lock(commit=False):
            _logger.info("Lead scoring: engine busy, mailing engagement scored later")
            return False
        self.env.flush_all()
        # Not the cron's lastcall, which moves on when a run fails or is
        # skipped: the watermark of the last run that scored.
        Watermark = self.env["lead.score.mailing.watermark"].sudo()
        watermark = Watermark.search([], order="id", limit=1)
        since = watermark.scored_until - OVERLAP if watermark else datetime(1970, 1, 1)
        # This transaction's start, as the write_date of the traces it sees.
        scored_until = cr.now()
        points = self._lead_score_default_points()
        labels = self._lead_score_labels()
        kinds = SQL(", ").join(
            SQL("(%s, %s, %s, %s)", kind, operation, points[kind], labels[kind])
            for kind, (operation, _default) in ENGAGEMENT.items()
        )
        engagements = SQL(
            """
            WITH kinds(kind, operation, points, label) AS (VALUES %(kinds)s),
            unsubscriptions AS (
                SELECT mc.email_normalized AS email,
                       s.opt_out_datetime AS done_at,
                       s.list_id
                  FROM mailing_subscription s
                  JOIN mailing_contact mc ON mc.id = s.contact_id
                 WHERE s.opt_out
                   AND s.opt_out_datetime >= %(since)s
                   AND mc.email_normalized IS NOT NULL
                UNION ALL
                SELECT bl.email, bl.write_date, NULL
                  FROM mail_blacklist bl
                 WHERE bl.active AND bl.write_date >= %(since)s
            ),
            events AS (
                SELECT t.id AS trace_id, 'open' AS kind
                  FROM mailing_trace t
                 WHERE t.write_date >= %(since)s
                   AND (t.open_datetime IS NOT NULL
                        OR t.trace_status IN ('open', 'reply'))
                UNION ALL
                SELECT t.id, 'click'
                  FROM mailing_trace t
                 WHERE t.write_date >= %(since)s
                   AND t.links_click_datetime IS NOT NULL
                UNION ALL
                SELECT t.id, 'reply'
                  FROM mailing_trace t
                 WHERE t.write_date >= %(since)s
                   AND (t.reply_datetime IS NOT NULL OR t.trace_status = 'reply')
                UNION ALL
                SELECT t.id, 'bounce'
                  FROM mailing_trace t
                 WHERE t.write_date >= %(since)s
                   AND t.trace_status = 'bounce'
                UNION ALL
                -- An unsubscription counts against the last mailing the
                -- address received before (from that list, for a list).
                SELECT DISTINCT last_trace.id, 'unsubscribe'
                  FROM unsubscriptions u
                  CROSS JOIN LATERAL (
                        SELECT t.id
                          FROM mailing_trace t
                         WHERE t.email = u.email
                           AND COALESCE(t.sent_datetime, t.create_date) <= u.done_at
                           AND (u.list_id IS NULL OR EXISTS (
                                SELECT 1 FROM mail_mass_mailing_list_rel r
                                 WHERE r.mailing_mailing_id = t.mass_mailing_id
                                   AND r.mailing_list_id = u.list_id))
                         ORDER BY COALESCE(t.sent_datetime, t.create_date) DESC,
                                  t.id DESC
                         LIMIT 1
                  ) last_trace
            ),
            scored AS (
                SELECT e.trace_id, e.kind, k.operation, t.mass_mailing_id,
                       -- The mailing's group, else the Settings'.
                       COALESCE(m.lead_score_group_id, %(group)s) AS group_id,
                       k.label || COALESCE(': ' || m.subject, '') AS note,
                       'mailing-trace:'
                       || COALESCE('mailing-' || t.mass_mailing_id, e.trace_id::text)
                       || ':' || e.kind AS key,
                       -- A mailing's own points (0 scores nothing), else
                       -- the Settings'.
                       CASE WHEN m.lead_score_custom_points THEN COALESCE(CASE e.kind
                           WHEN 'open' THEN m.lead_score_open_points
                           WHEN 'click' THEN m.lead_score_click_points
                           WHEN 'reply' THEN m.lead_score_reply_points
                           WHEN 'bounce' THEN m.lead_score_bounce_points
                           WHEN 'unsubscribe' THEN m.lead_score_unsubscribe_points
                       END, 0) END AS mailing_points,
                       k.points AS default_points,
                       -- The trace's contact, else (a list's recipient) the
                       -- contact with its address of the trace's company, or
                       -- else a shared one; never another company's.
                       COALESCE(t.partner_id,
                                (SELECT p.id
                                   -- The trace's company: its document's, else
                                   -- its mailing's (its responsible's, as Odoo
                                   -- sends it, else its author's).
                                   FROM (SELECT COALESCE(%(document_company)s,
                                                (SELECT u.company_id FROM res_users u
                                                  WHERE u.id = COALESCE(m.user_id,
                                                                        m.create_uid)))
                                                AS company_id) tc
                                   JOIN res_partner p
                                     ON p.email_normalized = lower(t.email)
                                    AND p.active
                                    AND (p.company_id = tc.company_id
                                         OR p.company_id IS NULL)
                                  ORDER BY p.company_id IS NULL, p.id
                                  LIMIT 1)) AS partner_id
                  FROM events e
                  JOIN kinds k ON k.kind = e.kind
                  JOIN mailing_trace t ON t.id = e.trace_id
                  LEFT JOIN mailing_mailing m ON m.id = t.mass_mailing_id
                 WHERE NOT COALESCE(m.lead_score_ignore, FALSE)
            ),
            valued AS (
                SELECT s.*, LEAST(%(max)s, GREATEST(0, COALESCE(
                            s.mailing_points, s.default_points))) AS points
                  FROM scored s
            )
            -- One line per contact and key: the first trace of the mailing
            -- stands for the others.
            SELECT DISTINCT ON (v.partner_id, v.key)
                   v.partner_id, v.trace_id, v.operation, v.points, v.note, v.key,
                   v.group_id
              FROM valued v
             WHERE v.points > 0
               -- Lines recorded before the key was per mailing carry the key
               -- of their trace: they count for their mailing too.
               AND NOT EXISTS (
                    SELECT 1 FROM lead_score_operation o
                      JOIN mailing_trace old ON old.id = o.res_id
                     WHERE o.partner_id = v.partner_id
                       AND o.res_model = 'mailing.trace'
                       AND old.mass_mailing_id = v.mass_mailing_id
                       AND o.idempotency_key = 'mailing-trace:' || old.id || ':' || v.kind)
             ORDER BY v.partner_id, v.key, v.trace_id
            """,
            kinds=kinds,
            since=since,
            max=MAX_POINTS,
            group=self._lead_score_group().id,
            document_company=self._lead_score_company_sql(),
        )
        changed = (
            self.env["lead.score.operation"]
            ._engine()
            .env["lead.score.ledger"]
            ._record_and_refresh(
                engagements,
                source="mailing",
                res_model="mailing.trace",
                res_id=SQL("src.trace_id"),
                operation=SQL("src.operation"),
                value=SQL("src.points"),
                note=SQL("src.note"),
                idempotency_key=SQL("src.key"),
                group_id=SQL("src.group_id"),
            )
        )
        # Committed with the lines, or rolled back with them.
        if watermark:
            watermark.scored_until = max(watermark.scored_until, scored_until)
        else:
            Watermark.create({"scored_until": scored_until})
        return changed

    @api.model
    def _lead_score_group(self):
        """The score group of engagement points (Settings), else the default."""
        groups = self.env["lead.score.group"].sudo()
        param = self.env["ir.config_parameter"].sudo().get_param(GROUP_PARAM)
        group = groups.browse(int(param)).exists() if param else groups
        return group or groups._default_group()

    @api.model
    def _cron_lead_score_engagement(self):
        # Triggered within seconds of a click, the job may meet a rule run
        # holding the engine (a call of it lasts a few seconds): it waits for
        # it, each try on a fresh snapshot, rather than leave the click for
        # the job's next time.
        deadline = time.monotonic() + ENGINE_WAIT
        while True:
            result = self.sudo()._lead_score_engagement()
            if (
                result is not False
                or not self.env.context.get("cron_id")
                or time.monotonic() > deadline
            ):
                return result
            self.env.cr.rollback()
            time.sleep(0.25)
