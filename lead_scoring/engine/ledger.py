# Copyright 2026 Lead Scoring contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The ledger writer (see docs/engine.md for the words): the service
``lead.score.ledger``."""

import logging

from odoo import api, fields, models
from odoo.tools import SQL, split_every

from ..models.lead_score_operation import LINE_COLUMNS, MAX_BALANCE
from ..tools import int_array, local_setting
from .snippets import newest_line

_logger = logging.getLogger(__name__)

# Contacts whose scores one batch of _refresh_scores stores.
REFRESH_BATCH = 20_000


class LeadScoreLedger(models.AbstractModel):
    """The one writer of ledger lines from SQL (the rule runs, decay, the
    addons' jobs) and the refresh of the scores they change.

    - :meth:`_record_lines` records the lines that an SQL SELECT gives, in one
      INSERT, each with its balance (the contact's previous balance plus its
      points); the keys of the lines (an idempotency key, a rule key, a
      repeating rule's period) leave out what is recorded already, so that
      any re-run of a caller records nothing twice. With ``touch``, the
      contacts' group score rows are written in the same transaction.
    - :meth:`_replay_ledger` folds a contact's lines again where a balance is
      missing (a line dated before the contact's newest one, or recorded
      while an earlier one awaited its replay); :meth:`_unbalanced` finds
      those contacts.
    - :meth:`_refresh_scores` replays the ledgers of a list of contacts and
      stores their scores, batch by batch; :meth:`_refresh_recorded` and
      :meth:`_record_and_refresh` do it for what _record_lines recorded.

    The caller's environment is kept: the engine's code passes
    ``lead.score.operation._engine()``'s. Nothing here commits.
    """

    _name = "lead.score.ledger"
    _description = "Lead scoring: the ledger writer"

    # ------------------------------------------------------------------
    # The fold
    # ------------------------------------------------------------------
    @api.model
    def _replay_ledger(self, partner_ids):
        """Fold the ledger of these contacts in date order and store every
        line's balance; set operations start a new segment of the fold."""
        if not partner_ids:
            return
        operations = self.env["lead.score.operation"]
        operations.flush_model()
        # Contacts are replayed one transaction at a time: a concurrent
        # transaction waits here, then (read committed) sees this one's lines.
        self.env.cr.execute(
            SQL(
                "SELECT id FROM res_partner WHERE id = ANY(%s) ORDER BY id FOR NO KEY UPDATE",
                int_array(partner_ids),
            )
        )
        self.env.cr.execute(
            SQL(
                """
                WITH ordered AS (
                    SELECT id, partner_id, group_id, date, balance,
                           CASE WHEN expired THEN 0
                                WHEN operation = 'remove' THEN -value
                                ELSE value END AS delta,
                           COUNT(*) FILTER (WHERE operation = 'set' AND NOT expired)
                               OVER (PARTITION BY partner_id, group_id
                                     ORDER BY date, id) AS segment
                      FROM lead_score_operation
                     WHERE partner_id = ANY(%(ids)s)
                ), folded AS (
                    SELECT id, balance,
                           GREATEST(-%(max)s, LEAST(%(max)s,
                               SUM(delta) OVER (PARTITION BY partner_id, group_id, segment
                                                ORDER BY date, id)))::int AS new_balance
                      FROM ordered
                )
                -- Only the lines whose balance changes are looked up again.
                UPDATE lead_score_operation op
                   SET balance = folded.new_balance
                  FROM (SELECT * FROM folded
                         WHERE balance IS DISTINCT FROM new_balance) folded
                 WHERE op.id = folded.id
                """,
                ids=int_array(partner_ids),
                max=MAX_BALANCE,
            )
        )
        operations.invalidate_model(["balance"])

    @api.model
    def _record_lines(
        self,
        select,
        condition=None,
        rule_since=None,
        touch=True,
        unrecorded=False,
        **fixed,
    ):
        """Record ledger lines from an SQL SELECT, in one statement, each with
        its balance; returns (contact, needs a replay) for each line recorded.

        ``select`` gives at least ``partner_id``, one row per line; each
        keyword (a column of LINE_COLUMNS) is one value for every line or an
        ``SQL`` expression over the selected row ``src``. ``condition``
        filters ``src`` and its contact's company ``p.company_id``. Archived
        and objecting contacts get nothing; a line already recorded under its
        key is left out (:meth:`_duplicate_checks`). With ``touch``, the
        contacts' group score rows are written in the same transaction, so
        that a concurrent writer of their scores is retried (see
        lead.score.value._touch); without, the caller replays their ledgers.
        """
        columns = self._line_columns(fixed)
        duplicates, conflict = self._duplicate_checks(
            columns, fixed, rule_since, unrecorded
        )
        rows = self._insert_lines(select, condition, columns, duplicates, conflict)
        if touch:
            self.env["lead.score.value"]._touch(
                (partner_id, group_id) for partner_id, group_id, _unknown in rows
            )
        return [(partner_id, unknown) for partner_id, _group_id, unknown in rows]

    def _line_columns(self, fixed):
        """The typed SQL value of each ledger column of the lines (a VALUES
        list or NULL would otherwise be text)."""
        unknown = set(fixed) - set(LINE_COLUMNS)
        if unknown:
            raise ValueError(f"Not a ledger column: {', '.join(sorted(unknown))}")
        if (
            fixed.get("rule_key") is not None
            and fixed.get("idempotency_key") is not None
        ):
            raise ValueError("A line has a rule key or an idempotency key, not both.")
        values = {
            "date": fields.Datetime.now(),
            "operation": "add",
            "user_id": self.env.uid,
            "group_id": self.env["lead.score.group"]._default_group().id,
            **fixed,
        }
        return {
            name: SQL("CAST(%s AS %s)", values.get(name), SQL(sql_type))
            for name, sql_type in LINE_COLUMNS.items()
        }

    def _duplicate_checks(self, columns, fixed, rule_since, unrecorded):
        """The key strategy: (the conditions on a recorded line ``o`` that
        make a new ``line`` a duplicate, each one lookup in an index; the
        insert's ON CONFLICT clause). An idempotency key is unique per
        contact; a rule key per rule and contact; with ``rule_since``, a
        repeating rule scores a contact once within its period.
        ``unrecorded``: the caller knows that none of these lines is recorded
        (a rule's first run): no lookup, the unique keys still refuse a
        duplicate."""
        if fixed.get("idempotency_key") is not None:
            duplicates = [
                SQL(
                    "o.partner_id = line.partner_id"
                    " AND o.idempotency_key = line.dup_idempotency_key"
                )
            ]
            conflict = SQL(
                "ON CONFLICT (partner_id, idempotency_key)"
                " WHERE idempotency_key IS NOT NULL DO NOTHING"
            )
        elif fixed.get("rule_key") is not None:
            same_rule = SQL(
                "o.rule_id = line.dup_rule_id AND o.partner_id = line.partner_id"
            )
            duplicates = [SQL("%s AND o.rule_key = line.dup_rule_key", same_rule)]
            if rule_since:
                # Through the contact's lines only, whatever the statistics
                # say: "+ 0" keeps PostgreSQL off the indexes of the rule and
                # of the date, which a first run's lines (all of today, many
                # of this rule) make as long as the ledger.
                duplicates.append(
                    SQL(
                        "o.partner_id = line.partner_id"
                        " AND o.rule_id + 0 = line.dup_rule_id"
                        " AND o.date + interval '0 seconds' > %s",
                        rule_since,
                    )
                )
            conflict = SQL(
                "ON CONFLICT (rule_id, partner_id, rule_key)"
                " WHERE rule_id IS NOT NULL AND rule_key IS NOT NULL DO NOTHING"
            )
        else:
            duplicates, conflict = [], SQL()
        return ([] if unrecorded else duplicates), conflict

    def _insert_lines(self, select, condition, columns, duplicates, conflict):
        """The INSERT of _record_lines: each new line with its balance, the
        contact's previous balance plus its points (several lines of one
        contact follow each other), or NULL when the contact has a
        later-dated line or still awaits a replay. Returns (contact, group,
        balance unknown) per line."""
        # A contact's lines follow each other in this order, in the window
        # sums as in the ids that the replay orders them by.
        order = SQL("partner_id, res_id, idempotency_key, rule_key")
        self.env["lead.score.operation"].flush_model()
        self.env["lead.score.rule"].flush_model(["name"])
        return self.env.execute_query(
            SQL(
                """
                -- Materialized: the duplicate check then looks up each line's
                -- keys in their unique index whatever the table's statistics
                -- say (a rule's lines counted as rare made it scan them all).
                WITH candidate AS MATERIALIZED (
                    SELECT src.*, %(rule_id)s AS dup_rule_id,
                           %(rule_key)s AS dup_rule_key,
                           %(idempotency_key)s AS dup_idempotency_key
                      FROM (%(select)s) src
                -- First what is new: a sweep finds most of its lines recorded
                -- already, and looks up nothing else for them.
                ), fresh AS MATERIALIZED (
                    SELECT * FROM candidate line WHERE %(new)s
                ), line AS MATERIALIZED (
                    SELECT src.partner_id, p.company_id, %(columns)s,
                           -- The title when it scored, in every language.
                           (SELECT r.name FROM lead_score_rule r
                             WHERE r.id = %(rule_id)s) AS rule_name,
                           last.date AS last_date, last.balance AS last_balance,
                           last.id IS NOT NULL AS has_last
                      FROM fresh src
                      -- Nor contacts who object to scoring (GDPR Art. 21).
                      -- LIMIT: one index lookup per line (a join would read
                      -- every contact for a chunk of a thousand).
                      JOIN LATERAL (
                            SELECT p.company_id FROM res_partner p
                             WHERE p.id = src.partner_id AND p.active
                               AND p.lead_score_objection IS NOT TRUE
                             LIMIT 1) p ON TRUE
                      LEFT JOIN LATERAL (%(last)s) last ON TRUE
                     WHERE %(condition)s
                ), new AS (
                    SELECT line.*,
                           CASE WHEN operation = 'remove' THEN -value
                                ELSE value END AS signed_value,
                           -- A set starts a new segment, as in _replay_ledger.
                           COUNT(*) FILTER (WHERE operation = 'set') OVER (
                               PARTITION BY partner_id, group_id ORDER BY %(order)s
                               ROWS UNBOUNDED PRECEDING) AS segment
                      FROM line
                )
                INSERT INTO lead_score_operation (
                    partner_id, company_id, %(names)s, rule_name, signed_value,
                    balance, expired, create_uid, create_date, write_uid, write_date)
                SELECT partner_id, company_id, %(names)s, rule_name, signed_value,
                       CASE WHEN last_date > date OR (has_last AND last_balance IS NULL)
                            THEN NULL
                            ELSE GREATEST(-%(max)s, LEAST(%(max)s,
                                CASE WHEN segment = 0 THEN COALESCE(last_balance, 0)
                                     ELSE 0 END
                                + SUM(CASE WHEN operation = 'set' THEN value
                                           ELSE signed_value END) OVER (
                                    PARTITION BY partner_id, group_id, segment
                                    ORDER BY %(order)s
                                    ROWS UNBOUNDED PRECEDING)))
                       END,
                       FALSE, %(uid)s, date, %(uid)s, date
                  FROM new
                 ORDER BY %(order)s
                %(conflict)s
                RETURNING partner_id, group_id, balance IS NULL
                """,
                columns=SQL(", ").join(
                    SQL("%s AS %s", value, SQL.identifier(name))
                    for name, value in columns.items()
                ),
                names=SQL(", ").join(SQL.identifier(name) for name in columns),
                rule_id=columns["rule_id"],
                rule_key=columns["rule_key"],
                idempotency_key=columns["idempotency_key"],
                last=newest_line(
                    SQL("src.partner_id"),
                    columns["group_id"],
                    columns=("id", "date", "balance"),
                ),
                select=select,
                condition=condition or SQL("TRUE"),
                # OFFSET 0: PostgreSQL keeps each check a lookup per line; made
                # a join, it may plan a scan of the whole ledger instead.
                new=SQL(" AND ").join(
                    SQL(
                        "NOT EXISTS (SELECT 1 FROM lead_score_operation o"
                        " WHERE %s OFFSET 0)",
                        duplicate,
                    )
                    for duplicate in duplicates
                )
                if duplicates
                else SQL("TRUE"),
                order=order,
                max=MAX_BALANCE,
                uid=self.env.uid,
                conflict=conflict,
            )
        )

    @api.model
    def _refresh_recorded(self, recorded):
        """Refresh the scores of the contacts that _record_lines scored,
        replaying only those whose lines have no balance; returns them."""
        changed = {partner_id for partner_id, _unknown in recorded}
        self.env["lead.score.operation"].invalidate_model()
        self._refresh_scores(
            changed,
            flush=True,
            replay={partner_id for partner_id, unknown in recorded if unknown},
        )
        return changed

    @api.model
    def _record_and_refresh(self, select, condition=None, **fixed):
        """_record_lines, then the scores of the contacts it scored refreshed;
        returns them."""
        return self._refresh_recorded(self._record_lines(select, condition, **fixed))

    @api.model
    def _unbalanced(self, partner_ids):
        """Those of these contacts with a line whose balance is still to be
        replayed (a partial index holds them); every other line's balance
        counts the lines before it (see _record_lines)."""
        self.env["lead.score.operation"].flush_model(["balance"])
        self.env.cr.execute(
            SQL(
                "SELECT DISTINCT partner_id FROM lead_score_operation"
                " WHERE balance IS NULL AND partner_id = ANY(%s)",
                int_array(partner_ids),
            )
        )
        return {row[0] for row in self.env.cr.fetchall()}

    @api.model
    def _contacts_dated(self, date, after, limit):
        """Up to ``limit`` contacts with a line dated ``date`` (every line of
        a rule run has the run's date), the first ones after contact
        ``after`` in id order."""
        self.env["lead.score.operation"].flush_model(["date", "partner_id"])
        self.env.cr.execute(
            SQL(
                """SELECT DISTINCT partner_id FROM lead_score_operation
                    WHERE date = %s AND partner_id > %s
                    ORDER BY partner_id LIMIT %s""",
                date,
                after,
                limit,
            )
        )
        return [row[0] for row in self.env.cr.fetchall()]

    @api.model
    def _refresh_scores(
        self,
        partner_ids,
        flush=False,
        replay=None,
        engine_since=None,
        values_current=False,
    ):
        """Replay these contacts' ledgers, then have the ORM recompute their
        stored score (and what depends on it), batch by batch.

        ``replay`` limits the replay to those contacts, when the others' new
        lines were written with their balance (see _record_lines).
        With ``flush``, each batch is written at once and the cache emptied, so
        that memory stays flat in the number of contacts; the rule
        engine gives ``engine_since`` (see lead.score.writer._store_lead_scores),
        and ``values_current`` when the group scores of the contacts it
        does not replay were written with their lines (see
        lead.score.run._run_round).
        """
        for batch in split_every(REFRESH_BATCH, sorted(set(partner_ids))):
            # While statistics lag behind a fast-growing ledger (a first run
            # after an import), PostgreSQL misjudges these statements: it
            # spent seconds compiling (JIT) what runs in milliseconds, and
            # scanned the ledger for lines that its index on the contact finds.
            with (
                local_setting(self.env.cr, "jit", "off"),
                local_setting(self.env.cr, "enable_seqscan", "off"),
            ):
                self._refresh_batch(batch, flush, replay, engine_since, values_current)

    def _refresh_batch(self, batch, flush, replay, engine_since, values_current):
        partner_model = self.env["res.partner"]
        writer = self.env["lead.score.writer"]
        replayed = batch if replay is None else [pid for pid in batch if pid in replay]
        self._replay_ledger(replayed)
        # Each group's score, which the total score adds up, and the
        # company scores of their companies.
        self.env["lead.score.value"]._refresh(replayed if values_current else batch)
        if flush:
            writer._store_lead_scores(partner_model.browse(batch), engine_since)
            writer._store_lead_score_companies(batch)
            self.env.flush_all()
            self.env.invalidate_all()
        else:
            # As if the ORM had changed their ledger: the score, the tier
            # and what depends on them (leads' copies ...) are recomputed.
            partner_model.browse(batch).modified(["lead_score_operation_ids"])
            writer._store_lead_score_companies(batch)
