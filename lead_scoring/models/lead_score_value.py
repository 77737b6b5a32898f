# Copyright 2026 Lead Scoring contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""A contact's score in one group: the balance of its latest line in that
group, kept within the group's cap (0 for a contact who objects to scoring),
and the group's tier it reaches. Written in SQL, from the ledger, whenever
the ledger's scores are refreshed; stored and indexed so that "Engagement
>= 50" filters as fast as the total score. No row: a score of 0.

A company's row also holds its company score: its own score plus the roll-up
of its contacts' scores in the group (see lead.score.group.rollup); a company
with no line in a group but contacts to roll up there gets a row (score 0)."""

from odoo import api, fields, models
from odoo.tools import SQL
from odoo.tools.sql import column_exists, create_column, table_exists

from ..tools import int_array
from .lead_score_group import capped, group_score


class LeadScoreValue(models.Model):
    _name = "lead.score.value"
    _description = "Group Score"
    # By contact, then in the groups' order.
    _order = "partner_id, group_id"
    _log_access = False
    _rec_name = "group_id"

    partner_id = fields.Many2one(
        "res.partner",
        string="Contact",
        required=True,
        readonly=True,
        ondelete="cascade",
    )
    group_id = fields.Many2one(
        "lead.score.group", required=True, readonly=True, ondelete="cascade"
    )
    score = fields.Integer(readonly=True, aggregator="avg")
    tier_id = fields.Many2one("lead.score.tier", string="Tier", readonly=True)
    tier_color = fields.Integer(related="tier_id.color")
    company_score = fields.Integer(
        readonly=True,
        aggregator="avg",
        help="For a company, its own score plus its contacts' as the group rolls "
        "them up; for a person, their score.",
    )

    _sql_constraints = [
        (
            "partner_group_uniq",
            "UNIQUE (partner_id, group_id)",
            "A contact has one score per group.",
        ),
    ]

    @api.depends("group_id.name", "score")
    def _compute_display_name(self):
        # "Fit 40", as a tag on a lead.
        for value in self:
            value.display_name = f"{value.group_id.name} {value.score}"

    def _auto_init(self):
        # Every group rolls up nothing until set to: the company score of an
        # existing row is its score, in one statement.
        if table_exists(self.env.cr, self._table) and not column_exists(
            self.env.cr, self._table, "company_score"
        ):
            create_column(self.env.cr, self._table, "company_score", "int4")
            self.env.cr.execute("UPDATE lead_score_value SET company_score = score")
        return super()._auto_init()

    def init(self):
        self.env.cr.execute(
            "CREATE INDEX IF NOT EXISTS lead_score_value_group_score_idx"
            " ON lead_score_value (group_id, score)"
        )
        self.env.cr.execute(
            "CREATE INDEX IF NOT EXISTS lead_score_value_group_company_score_idx"
            " ON lead_score_value (group_id, company_score)"
        )

    @api.model
    def _refresh(self, partner_ids):
        """Write the group scores of these contacts from
        their ledgers' latest balances, in one statement (the rows of groups
        they no longer have a line in go), then their companies' scores.

        The rows of these contacts are written even when unchanged: a writer
        whose lines this refresh did not see then meets a concurrent update,
        as with _touch (the rule engine's rounds write them in its stead)."""
        if not partner_ids:
            return
        # Imported here: the engine's package extends the models, once defined.
        from ..engine.snippets import newest_line, tier_of

        self.env["res.partner"].flush_model(["lead_score_objection", "is_company"])
        self.env["lead.score.group"].flush_model()
        self.env["lead.score.tier"].flush_model()
        self.env["lead.score.operation"].flush_model()
        ids = int_array(partner_ids)
        # The latest line of each group: one index lookup each, where
        # DISTINCT ON reads every line of the contact.
        latest = SQL(
            """
            SELECT c.partner_id, g.id AS group_id, l.balance
              FROM unnest(%s) c(partner_id)
             CROSS JOIN lead_score_group g
              JOIN LATERAL (%s) l ON TRUE
            """,
            ids,
            newest_line(SQL("c.partner_id"), SQL("g.id")),
        )
        self.env.cr.execute(
            SQL(
                """
                WITH latest AS MATERIALIZED (%(latest)s
                ), scored AS MATERIALIZED (
                    SELECT s.partner_id, s.group_id, s.score, tier.id AS tier_id,
                           CASE WHEN s.company THEN NULL ELSE s.score END
                               AS company_score
                      FROM (SELECT l.partner_id, l.group_id, %(score)s AS score,
                                   p.lead_score_objection IS TRUE AS objects,
                                   p.is_company IS TRUE AS company
                              FROM latest l
                              JOIN res_partner p ON p.id = l.partner_id
                              JOIN lead_score_group g ON g.id = l.group_id) s
                      LEFT JOIN LATERAL (%(tier)s) tier ON TRUE
                ), gone AS (
                    DELETE FROM lead_score_value v
                     WHERE v.partner_id = ANY(%(ids)s)
                       AND NOT EXISTS (SELECT 1 FROM latest l
                                        WHERE l.partner_id = v.partner_id
                                          AND l.group_id = v.group_id)
                       -- A company's rows: see _refresh_company_scores.
                       AND NOT EXISTS (SELECT 1 FROM res_partner c
                                        WHERE c.id = v.partner_id AND c.is_company)
                -- An UPDATE, then an INSERT of the missing rows: a row that
                -- someone deleted meanwhile fails the UPDATE, where an upsert
                -- would quietly make a new one (see _touch).
                ), updated AS (
                    UPDATE lead_score_value v
                       SET score = s.score, tier_id = s.tier_id,
                           company_score = COALESCE(s.company_score, v.company_score)
                      FROM scored s
                     WHERE v.partner_id = s.partner_id AND v.group_id = s.group_id
                 RETURNING v.partner_id, v.group_id
                )
                INSERT INTO lead_score_value
                       (partner_id, group_id, score, tier_id, company_score)
                SELECT s.partner_id, s.group_id, s.score, s.tier_id, s.company_score
                  FROM scored s
                 WHERE NOT EXISTS (SELECT 1 FROM updated u
                                    WHERE u.partner_id = s.partner_id
                                      AND u.group_id = s.group_id)
                ON CONFLICT (partner_id, group_id) DO UPDATE
                   SET score = EXCLUDED.score, tier_id = EXCLUDED.tier_id,
                       company_score = COALESCE(EXCLUDED.company_score,
                                                lead_score_value.company_score)
                """,
                latest=latest,
                score=group_score(SQL("l.balance")),
                tier=tier_of(SQL("s.score"), SQL("s.group_id"), SQL("NOT s.objects")),
                ids=ids,
            )
        )
        self._invalidate_scores()
        self._refresh_company_scores(partner_ids)

    @api.model
    def _touch(self, pairs):
        """Write the rows of these (contact, group) pairs, creating those
        missing (score unknown until refreshed), without changing them.

        Called where lines are recorded (lead.score.ledger._record_lines):
        any writer of the same contact's score whose transaction overlaps
        this one then fails with a serialization error (Odoo's transactions
        are REPEATABLE READ) and is tried again, seeing these lines. So each line's balance,
        written as it is recorded, counts every line before it, and a
        contact's ledger needs a replay only where a balance is missing
        (see lead.score.ledger._unbalanced)."""
        pairs = sorted(set(pairs))
        if not pairs:
            return
        partner_ids, group_ids = zip(*pairs, strict=True)
        pairs_sql = SQL(
            "SELECT * FROM unnest(%s, %s) p(partner_id, group_id)",
            int_array(partner_ids),
            int_array(group_ids),
        )
        # An UPDATE, then an INSERT of the missing ones: a row that someone
        # deleted meanwhile fails the UPDATE too, where an upsert would
        # quietly make a new one.
        self.env.cr.execute(
            SQL(
                """
                UPDATE lead_score_value v SET score = v.score
                  FROM (%s) p
                 WHERE v.partner_id = p.partner_id AND v.group_id = p.group_id
                """,
                pairs_sql,
            )
        )
        self.env.cr.execute(
            SQL(
                """
                INSERT INTO lead_score_value (partner_id, group_id)
                %s
                ON CONFLICT (partner_id, group_id) DO NOTHING
                """,
                pairs_sql,
            )
        )
        self._invalidate_scores()

    def _invalidate_scores(self):
        """Rows written in SQL: what the cache holds of them is stale."""
        self.invalidate_model()
        self.env["res.partner"].invalidate_model(["lead_score_value_ids"])

    @api.model
    def _refresh_company_scores(self, partner_ids):
        """Write the rows of the companies of these contacts: each group's
        own score (0 without a line there) and company score, the own score
        plus the contacts' as the group rolls them up, within its cap. A
        company who objects to scoring has a company score of 0; its contacts
        who object, or archived, do not count."""
        # Imported here: the engine's package extends the models, once defined.
        from ..engine.snippets import tier_of

        self.env["res.partner"].flush_model(
            ["active", "commercial_partner_id", "is_company", "lead_score_objection"]
        )
        for model in ("lead.score.group", "lead.score.tier", "lead.score.operation"):
            self.env[model].flush_model()
        self.flush_model()
        # Most batches have none: then nothing to do (and no plan to make
        # for a statement that PostgreSQL may misjudge, see
        # lead.score.ledger._refresh_scores).
        self.env.cr.execute(
            SQL(
                """
                SELECT DISTINCT c.id FROM res_partner p
                 -- LIMIT: one index lookup per contact, whatever the
                 -- statistics say (as a join, it took 26 s of one first run
                 -- at a million contacts, 3 s of the run before).
                 CROSS JOIN LATERAL (
                       SELECT c.id FROM res_partner c
                        WHERE c.id = p.commercial_partner_id AND c.is_company
                        LIMIT 1) c
                 WHERE p.id = ANY(%s)
                """,
                int_array(partner_ids),
            )
        )
        companies = [row[0] for row in self.env.cr.fetchall()]
        if not companies:
            return
        where = SQL("c.id = ANY(%s)", companies)
        own = SQL("CASE WHEN own.line THEN v.score ELSE 0 END")
        self.env.cr.execute(
            SQL(
                """
                WITH companies AS (
                    SELECT c.id, c.lead_score_objection IS TRUE AS objects
                      FROM res_partner c
                     WHERE c.is_company AND %(where)s
                ), members AS (
                    SELECT m.commercial_partner_id AS company_id, v.group_id,
                           SUM(v.score) AS total, MAX(v.score) AS highest,
                           round(AVG(v.score)) AS average
                      FROM res_partner m
                      JOIN lead_score_value v ON v.partner_id = m.id
                     WHERE m.commercial_partner_id IN (SELECT id FROM companies)
                       AND m.id != m.commercial_partner_id
                       AND m.active AND m.lead_score_objection IS NOT TRUE
                     GROUP BY 1, 2
                ), rolled AS (
                    SELECT c.id AS partner_id, g.id AS group_id, %(own)s AS score,
                           CASE WHEN own.line THEN v.tier_id
                                ELSE (%(tier_at_zero)s) END AS tier_id,
                           CASE WHEN c.objects THEN 0 ELSE %(company_score)s
                           END AS company_score
                      FROM companies c
                     CROSS JOIN lead_score_group g
                      LEFT JOIN members m ON m.company_id = c.id AND m.group_id = g.id
                      LEFT JOIN lead_score_value v
                             ON v.partner_id = c.id AND v.group_id = g.id
                     CROSS JOIN LATERAL (
                           SELECT EXISTS (SELECT 1 FROM lead_score_operation o
                                           WHERE o.partner_id = c.id
                                             AND o.group_id = g.id) AS line) own
                     WHERE own.line OR (m.company_id IS NOT NULL AND g.rollup != 'own')
                ), gone AS (
                    DELETE FROM lead_score_value v USING companies c
                     WHERE v.partner_id = c.id
                       AND NOT EXISTS (SELECT 1 FROM rolled r
                                        WHERE r.partner_id = v.partner_id
                                          AND r.group_id = v.group_id)
                )
                INSERT INTO lead_score_value
                       (partner_id, group_id, score, tier_id, company_score)
                SELECT partner_id, group_id, score, tier_id, company_score FROM rolled
                ON CONFLICT (partner_id, group_id) DO UPDATE
                   SET score = EXCLUDED.score, tier_id = EXCLUDED.tier_id,
                       company_score = EXCLUDED.company_score
                 WHERE (lead_score_value.score, lead_score_value.tier_id,
                        lead_score_value.company_score)
                       IS DISTINCT FROM (EXCLUDED.score, EXCLUDED.tier_id,
                                         EXCLUDED.company_score)
                """,
                where=where,
                own=own,
                tier_at_zero=tier_of(0, SQL("g.id"), SQL("NOT c.objects")),
                company_score=capped(
                    SQL(
                        """%s + COALESCE(CASE g.rollup WHEN 'sum' THEN m.total
                                                       WHEN 'max' THEN m.highest
                                                       WHEN 'avg' THEN m.average
                                         END, 0)::int""",
                        own,
                    )
                ),
            )
        )
        self._invalidate_scores()

    @api.model
    def _total_condition(self):
        """SQL: whether the group ``g`` counts in the total score: any active
        group, or the one chosen as the total (see lead.score.group)."""
        total_group = self.env["lead.score.group"]._total_group()
        return SQL("g.id = %s", total_group.id) if total_group else SQL("TRUE")

    @api.model
    def _totals(self, partner_ids):
        """{contact: total score}: the sum of its active groups' scores, or the
        score in the group chosen as the total (see lead.score.group)."""
        if not partner_ids:
            return {}
        self.env.cr.execute(
            SQL(
                """
                SELECT v.partner_id, SUM(v.score)::int
                  FROM lead_score_value v
                  JOIN lead_score_group g ON g.id = v.group_id AND g.active
                 WHERE v.partner_id = ANY(%s) AND %s
                 GROUP BY v.partner_id
                """,
                int_array(partner_ids),
                self._total_condition(),
            )
        )
        return dict(self.env.cr.fetchall())

    @api.model
    def _grades(self, partner_ids):
        """{contact: grade} (see lead.score.group._grade_query), and under
        None the grade of a contact with no score; {} when there is no grade.
        A contact who objects to scoring has no grade: the caller's to say."""
        query = self.env["lead.score.group"]._grade_query(
            SQL("unnest(%s) AS p(id)", int_array([*partner_ids, None]))
        )
        if query is None:
            return {}
        self.env.cr.execute(query)
        return dict(self.env.cr.fetchall())
