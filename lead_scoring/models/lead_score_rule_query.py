# Copyright 2026 Lead Scoring contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""What a run asks of one rule: its lines for an id range of its source
records (:meth:`_apply`, with its limit per contact) and what changed since
its last run (:meth:`_incremental_filter`). Both are the rule's own query,
built on :meth:`lead.score.rule._build_query`; the run that calls them, round
by round, is the service ``lead.score.run`` (``engine/rule_run.py``)."""

import re
from datetime import timedelta

from odoo import models
from odoo.tools import SQL

from .res_partner import changed_by_someone

# Hours between two full sweeps of a rule (system parameter
# lead_scoring.full_sweep_hours); runs in between only look at what changed.
FULL_SWEEP_HOURS = 24
# Repeating rules: contacts due again are found within this delay.
REPEAT_SWEEP = timedelta(hours=1)
# Changes made by transactions still open at the last run are looked at again;
# this margin serves only when the last run's horizon is unknown (see
# lead.score.run._run_horizon).
INCREMENTAL_MARGIN = timedelta(hours=1)

# Domains using these depend on time or on the user: always swept in full.
TIME_WORDS = re.compile(
    r"\b(context_today|today|datetime|relativedelta|timedelta|time|user|uid)\b"
)


class LeadScoreRule(models.Model):
    _inherit = "lead.score.rule"

    def _apply(self, now, id_range=None, query=None, touch=True):
        """Score what this rule matches, among the source records whose id is
        in ``id_range`` (low, high]; returns (contact, needs a replay) for
        each operation recorded. ``query`` is this pass's _build_query, when
        the caller keeps it from one chunk to the next; ``touch``: see
        lead.score.ledger._record_lines."""
        self.ensure_one()
        if query is None:
            query = self._build_query(self._incremental_filter(now))
        if id_range:
            # PostgreSQL pulls the range up into the query (an index range).
            query = SQL(
                "SELECT * FROM (%s) src WHERE src.res_id > %s AND src.res_id <= %s",
                query,
                *id_range,
            )
        conditions = []
        if self.condition_type == "event" and self.limit_count:
            query, limit = self._limited_per_contact(query, now)
            conditions.append(limit)
        per_record, rule_since = self._operation_keys(now)
        if self.company_id:
            # A company's rule scores that company's contacts and the shared ones.
            conditions.append(
                SQL("(p.company_id IS NULL OR p.company_id = %s)", self.company_id.id)
            )
        expiry = now + timedelta(days=self.expiry_days) if self.expiry_days else None
        return (
            self.env["lead.score.operation"]
            ._engine()
            .env["lead.score.ledger"]
            ._record_lines(
                query,
                SQL(" AND ").join(conditions) if conditions else None,
                rule_since,
                touch=touch,
                # Chunks of a first pass: see pass_first.
                unrecorded=bool(id_range and self.pass_date and self.pass_first),
                date=now,
                operation=self.operation,
                value=self.value,
                source="rule",
                rule_id=self.id,
                group_id=self.group_id.id,
                expiry_date=expiry,
                user_id=self.env.uid,
                **per_record,
            )
        )

    def _operation_keys(self, now):
        """The keys of the rule's lines: the values that name the source
        record (event rules) or the period (repeating rules) a line scores
        for; and, for a repeating rule, the start of the period within which
        a contact scores once (None otherwise)."""
        if self.condition_type == "event":
            return {
                "rule_key": SQL("src.res_id::text"),
                "res_model": self.model_id.model,
                "res_id": SQL("src.res_id"),
            }, None
        if self.repeat == "every":
            # One key per period: a crash and re-run within the period is harmless.
            period = int(now.timestamp() // 86400 // self.repeat_days)
            since = now - timedelta(days=self.repeat_days)
            return {"rule_key": f"every:{period}"}, since
        return {"rule_key": "once"}, None

    def _limited_per_contact(self, query, now):
        """An event rule's limit per contact: its records not scored yet,
        ranked per contact, and the condition that lets a record score only
        while the contact's lines of the rule within the period, with those
        ranked before it, stay within the limit."""
        since = now - timedelta(days=self.limit_days) if self.limit_days else None
        ranked = SQL(
            """SELECT q.*, row_number() OVER (
                          PARTITION BY q.partner_id ORDER BY q.res_id) AS limit_rank
                 FROM (%s) q
                WHERE NOT EXISTS (SELECT 1 FROM lead_score_operation o
                                   WHERE o.rule_id = %s AND o.partner_id = q.partner_id
                                     AND o.rule_key = q.res_id::text)""",
            query,
            self.id,
        )
        limit = SQL(
            """src.limit_rank + (SELECT count(*) FROM lead_score_operation o
                                  WHERE o.rule_id = %s AND o.partner_id = src.partner_id
                                    AND (%s::timestamp IS NULL OR o.date > %s)) <= %s""",
            self.id,
            since,
            since,
            self.limit_count,
        )
        return ranked, limit

    def _incremental_filter(self, now):
        """A function giving the SQL condition that restricts a run to what
        changed since the last one, or None when this run sweeps everything.

        A contact (or record) can only start matching a rule whose domain reads
        its own stored fields when it is written, which sets its write_date; for
        logs that are never updated (page views ...), new ids are enough. Other
        rules (dates relative to today, related records) and every rule once a
        day are swept in full; repeating rules every hour, as contacts become
        due again.
        """
        sweep_hours = int(
            self.env["ir.config_parameter"]
            .sudo()
            .get_param("lead_scoring.full_sweep_hours", FULL_SWEEP_HOURS)
        )
        if (
            not self.last_full_run_date
            or not self.last_run_date
            or self.last_full_run_date <= now - timedelta(hours=sweep_hours)
            # Contacts become due again as time passes: swept hourly.
            or (
                self.repeat == "every"
                and self.condition_type == "contact"
                and self.last_full_run_date <= now - REPEAT_SWEEP
            )
            or TIME_WORDS.search(self.domain or "")
        ):
            return None
        model = self.env[self.model_name]
        for leaf in self._get_domain():
            if not isinstance(leaf, list | tuple):
                continue
            field = model._fields.get(str(leaf[0]))
            if "." in str(leaf[0]) or not field or not field.store or field.related:
                return None
        if "write_date" in model._fields and model._log_access:
            since = self.last_horizon or self.last_run_date - INCREMENTAL_MARGIN
            # What is written once the run started (its own chunks' scores
            # included) is for the next run.
            until = (self.pass_date and self.pass_start) or "infinity"

            def changed_since(table):
                condition = SQL(
                    "%s >= %s::timestamp AND %s < %s::timestamp",
                    SQL.identifier(table, "write_date"),
                    since,
                    SQL.identifier(table, "write_date"),
                    until,
                )
                if model._name != "res.partner":
                    return condition
                # The scores written by the engine are no change to look at:
                # those rows keep the engine's write time (see
                # res.partner._note_engine_write), and an index holds the others.
                return SQL("%s AND %s = 1", condition, changed_by_someone(table))

            return changed_since
        return lambda table: SQL(
            "%s > %s", SQL.identifier(table, "id"), self.last_seen_id
        )
