# Copyright 2026 Lead Scoring contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The writer of contacts' scores, tiers, grades and company scores, and of
their leads' copies: the service ``lead.score.writer``."""

from odoo import api, models
from odoo.tools import SQL

from ..models.res_partner import (
    LEDGER_FIELDS,
    MANUAL_SCORE_KEY,
    RUN_LINES_KEY,
    changed_by_someone,
)
from ..tools import int_array
from .velocity import VELOCITY_FIELDS

# What the writer writes on contacts, in one UPDATE.
WRITTEN_FIELDS = [
    "lead_score",
    "lead_score_tier_id",
    "lead_score_grade",
    *VELOCITY_FIELDS,
]


class LeadScoreWriter(models.AbstractModel):
    """The writer of contacts' scores, tiers, grades and company scores, and
    of their leads' copies: one UPDATE per batch, as the ORM would write
    them, unless an automation rule would react to one of them, which then
    sees it change through the ORM (:meth:`_lead_score_watched`).

    - :meth:`_store_lead_scores` stores the score, tier and grade of a
      recordset of contacts as their ledgers stand, and has their moves
      logged (lead.score.chatter); :meth:`_write_lead_scores` is its UPDATE,
      :meth:`_store_through_orm` its way when an automation rule watches.
    - :meth:`_store_lead_score_companies` and
      :meth:`_recompute_lead_score_grades` write the company score and the
      grade of a list of contact ids.
    - :meth:`_lead_score_watched` and :meth:`_automation_watches` say whether
      an automation rule would react to those writes.

    The caller's environment is kept. Nothing here commits.
    """

    _name = "lead.score.writer"
    _description = "Lead scoring: the score writer"

    @api.model
    def _store_lead_scores(self, partners, engine_since=None):
        """Write these contacts' scores, tiers, grades and velocities as
        their ledgers stand (replayed already), skipping those unchanged, in
        one UPDATE; a tier or grade move is logged in the chatter as the
        ORM's tracking would (see _mail_track), by one INSERT of the messages.

        Through the ORM, each move pays for its recompute, its tracking and
        its message, many times the cost of these statements, while holding
        its batch's contacts locked. When an automation rule watches
        contacts, it must see them change: the ORM writes them then.
        With ``engine_since`` (a rule run's start), the rule engine marks the
        rows it writes (see changed_by_someone), so that the next runs do not
        take them for contacts someone changed; not those that someone else
        wrote since the run started, whose change no rule has looked at yet.
        """
        # Written here, not by the ORM's recompute (and its tracking), when a
        # line was created through the ORM (see lead.score.operation.create).
        for fname in WRITTEN_FIELDS:
            self.env.remove_to_compute(partners._fields[fname], partners)
        self.env["res.partner"].flush_model(WRITTEN_FIELDS)
        adjusted = self.env.cr.precommit.data.get(MANUAL_SCORE_KEY, set())
        new, velocities, moves, marked = self._lead_score_changes(
            partners, engine_since, adjusted
        )
        if self._lead_score_watched():
            self._store_through_orm(partners, moves, new, marked, engine_since)
            return
        # The messages first: the contacts' rows stay locked from their
        # UPDATE to the commit, and someone saving one meanwhile is rolled
        # back and retried by Odoo after a pause.
        self.env["lead.score.chatter"]._log_lead_score_moves(
            moves, new, adjusted, since=engine_since
        )
        if not self._automation_watches("res.partner", VELOCITY_FIELDS):
            self._write_lead_scores(new, marked, velocities)
            return
        # A "heating up" rule watches the velocity alone: the scores stay
        # set-based, the velocity changes through the ORM for the rule to see.
        self._write_lead_scores(new, marked)
        self.env["lead.score.velocity"]._store_velocity(list(velocities))

    @api.model
    def _lead_score_changes(self, partners, engine_since, adjusted):
        """What _store_lead_scores writes: ``new`` {contact: (score, tier,
        grade)} and ``velocities`` {contact: (7 days, 30 days)} of the
        contacts where one of them changed, the tier or grade ``moves`` [(contact,
        old score, old tier, old grade)] to log (and the score of those that
        a person adjusted, in ``adjusted``), the rows to mark (see
        _store_lead_scores)."""
        self.env.cr.execute(
            SQL(
                """SELECT p.id, p.lead_score, p.lead_score_tier_id,
                          p.lead_score_grade, p.lead_score_change_7d,
                          p.lead_score_change_30d, p.lead_score_objection IS TRUE,
                          %(since)s::timestamp IS NOT NULL
                          AND (%(changed)s = 0 OR p.write_date < %(since)s::timestamp)
                     FROM res_partner p WHERE p.id = ANY(%(ids)s)""",
                since=engine_since,
                changed=changed_by_someone("p"),
                ids=int_array(partners.ids),
            )
        )
        rows = self.env.cr.fetchall()
        balances = self.env["lead.score.value"]._totals(partners.ids)
        scores = {
            pid: 0 if objects else balances.get(pid) or 0
            for pid, *_values, objects, _markable in rows
        }
        tiers = self.env["lead.score.tier"].sudo()._tier_for_scores(scores.values())
        grades = self.env["lead.score.value"]._grades(partners.ids)
        velocity = self.env["lead.score.velocity"]._velocities(partners.ids)
        new, velocities, moves, marked = {}, {}, [], set()
        for pid, score, tier_id, grade, c7, c30, objects, markable in rows:
            new_tier = None if objects else tiers[scores[pid]].id or None
            new_grade = None if objects else grades.get(pid)
            if (scores[pid], new_tier, new_grade, *velocity[pid]) == (
                score or 0,
                tier_id,
                grade,
                c7 or 0,
                c30 or 0,
            ):
                continue
            if (new_tier, new_grade) != (tier_id, grade) or pid in adjusted:
                moves.append((pid, score or 0, tier_id, grade))
            new[pid] = (scores[pid], new_tier, new_grade)
            velocities[pid] = velocity[pid]
            if markable:
                marked.add(pid)
        return new, velocities, moves, marked

    @api.model
    def _store_through_orm(self, partners, moves, new, marked, engine_since):
        """Have the ORM write ``new`` {contact: (score, tier, grade)} of these
        contacts, for an automation rule to see them change: those that
        ``moves`` lists tracked, the others quietly; ``marked``, with
        ``engine_since``: see _store_lead_scores."""
        moved = [move[0] for move in moves]
        moved_ids = set(moved)
        # Their tracking (at the commit, see _mail_track) names the run's rules.
        run_lines = self.env["lead.score.chatter"]._lead_score_run_lines(
            moved, engine_since
        )
        if run_lines:
            self.env.cr.precommit.data.setdefault(RUN_LINES_KEY, {}).update(run_lines)
        quiet = [pid for pid in new if pid not in moved_ids]
        date_field = partners._fields["lead_score_date"]
        now = self.env.cr.now()
        for ids, context in ((moved, {}), (quiet, {"tracking_disable": True})):
            contacts = partners.browse(ids).with_context(**context)
            # Written by the same UPDATE as the score (with its write_date):
            # a second UPDATE of the row would cost as much again.
            mark = partners.browse([pid for pid in ids if pid in marked])
            self.env.cache.update(mark, date_field, [now] * len(mark), dirty=True)
            contacts.modified(["lead_score_operation_ids"])
            contacts.flush_model()

    @api.model
    def _write_lead_scores(self, new, marked, velocities=None):
        """Write {contact: (score, tier, grade)} and ``velocities``
        {contact: (7 days, 30 days)} as the ORM's recompute would, in one
        UPDATE; what depends on them (leads' copies ...) is then recomputed
        by the ORM. ``marked``: see _store_lead_scores."""
        if not new:
            return
        partners = self.env["res.partner"].browse(list(new))
        scores, tiers, grades = zip(*new.values(), strict=True)
        velocities = velocities or {}
        self.env.execute_query(
            SQL(
                """UPDATE res_partner p
                      SET lead_score = v.score, lead_score_tier_id = v.tier,
                          lead_score_grade = v.grade,
                          lead_score_change_7d = COALESCE(v.c7, p.lead_score_change_7d),
                          lead_score_change_30d = COALESCE(v.c30, p.lead_score_change_30d),
                          -- A velocity moving alone is no change a rule looks at.
                          write_uid = CASE WHEN %(scored)s THEN %(uid)s
                                           ELSE p.write_uid END,
                          write_date = CASE WHEN %(scored)s THEN %(now)s
                                            ELSE p.write_date END,
                          lead_score_date = CASE WHEN v.mark AND %(scored)s THEN %(now)s
                                                 ELSE p.lead_score_date END
                     FROM unnest(%(ids)s, %(scores)s,
                                 %(tiers)s, %(grades)s::varchar[],
                                 %(c7)s, %(c30)s, %(marks)s::bool[])
                          AS v(id, score, tier, grade, c7, c30, mark)
                    WHERE p.id = v.id""",
                uid=self.env.uid,
                now=self.env.cr.now(),
                scored=SQL(
                    "(COALESCE(p.lead_score, 0), p.lead_score_tier_id, p.lead_score_grade)"
                    " IS DISTINCT FROM (v.score, v.tier, v.grade)"
                ),
                ids=int_array(partners.ids),
                scores=int_array(scores),
                tiers=int_array(tiers),
                grades=list(grades),
                c7=int_array(velocities.get(pid, (None, None))[0] for pid in new),
                c30=int_array(velocities.get(pid, (None, None))[1] for pid in new),
                marks=[pid in marked for pid in new],
            )
        )
        partners.invalidate_recordset(
            [*WRITTEN_FIELDS, "lead_score_date", "write_date", "write_uid"]
        )
        partners.modified(WRITTEN_FIELDS)
        self.env["crm.lead"]._copy_partner_fields()

    @api.model
    def _store_lead_score_companies(self, partner_ids):
        """Write the company score of the companies of these contacts and
        of all their contacts, from the companies' group
        rows (see lead.score.value._refresh_company_scores): one UPDATE of
        the rows that change, as _write_lead_scores does (a row that only
        the engine wrote stays so), and one of their leads' copies."""
        partner_model = self.env["res.partner"]
        partner_model.flush_model(
            [
                "commercial_partner_id",
                "is_company",
                "lead_score_company",
                "lead_score_date",
                "write_date",
            ]
        )
        self.env["lead.score.group"].flush_model()
        self.env["lead.score.value"].flush_model()
        now = self.env.cr.now()
        self.env.cr.execute(
            SQL(
                """
                WITH heads AS (
                    SELECT c.id, CASE WHEN c.is_company THEN COALESCE((
                               SELECT SUM(v.company_score) FROM lead_score_value v
                                 JOIN lead_score_group g
                                   ON g.id = v.group_id AND g.active
                                WHERE v.partner_id = c.id AND %(total)s), 0)
                           ELSE 0 END::int AS score
                      FROM res_partner c
                     WHERE %(where)s
                )
                UPDATE res_partner p
                   SET lead_score_company = h.score, write_uid = %(uid)s,
                       write_date = %(now)s,
                       lead_score_date = CASE WHEN %(changed)s = 0 THEN %(now)s
                                              ELSE p.lead_score_date END
                  FROM heads h
                 WHERE p.commercial_partner_id = h.id
                   AND COALESCE(p.lead_score_company, 0) != h.score
             RETURNING p.id
                """,
                total=self.env["lead.score.value"]._total_condition(),
                where=SQL(
                    "c.id IN (SELECT commercial_partner_id FROM res_partner"
                    " WHERE id = ANY(%s))",
                    int_array(partner_ids),
                ),
                uid=self.env.uid,
                now=now,
                changed=changed_by_someone("p"),
            )
        )
        changed = [row[0] for row in self.env.cr.fetchall()]
        if not changed:
            return
        companies = partner_model.browse(changed)
        companies.invalidate_recordset(
            ["lead_score_company", "lead_score_date", "write_date", "write_uid"]
        )
        companies.modified(["lead_score_company"])
        self.env["crm.lead"]._copy_partner_fields(["partner_company_score"])

    @api.model
    def _recompute_lead_score_grades(self, partner_ids):
        """These contacts' grade after the grade's settings or a grade
        group's tiers changed: one UPDATE, as for the tiers (see
        lead.score.tier._reassign_partners), and one of the leads' copies."""
        partner_model = self.env["res.partner"]
        partner_model.flush_model(["lead_score_grade", "lead_score_objection"])
        partners = SQL(
            "(SELECT * FROM res_partner WHERE id = ANY(%s)) p", int_array(partner_ids)
        )
        query = self.env["lead.score.group"]._grade_query(
            partners, SQL("p.lead_score_objection")
        )
        if query is None:
            self.env.cr.execute(
                SQL(
                    "UPDATE res_partner SET lead_score_grade = NULL"
                    " WHERE lead_score_grade IS NOT NULL AND id = ANY(%s)"
                    " RETURNING id",
                    int_array(partner_ids),
                )
            )
        else:
            self.env.cr.execute(
                SQL(
                    """UPDATE res_partner p SET lead_score_grade = n.grade
                         FROM (%s) AS n(id, grade)
                        WHERE p.id = n.id
                          AND p.lead_score_grade IS DISTINCT FROM n.grade
                    RETURNING p.id""",
                    query,
                )
            )
        graded = partner_model.browse(row[0] for row in self.env.cr.fetchall())
        if not graded:
            return
        partner_model.invalidate_model(["lead_score_grade"])
        graded.modified(["lead_score_grade"])
        self.env["crm.lead"]._copy_partner_fields(["partner_lead_score_grade"])

    @api.model
    def _lead_score_watched(self):
        """Whether an automation rule would react to a change of contacts'
        scores. The ORM must then write the scores, for the rule to see them
        change; others leave the engine's writes set-based (one on the
        velocity alone has only the velocity written by the ORM, see
        _store_lead_scores)."""
        watched = LEDGER_FIELDS - set(VELOCITY_FIELDS)
        return self._automation_watches(
            "res.partner", [*watched, "write_date", "write_uid"]
        )

    @api.model
    def _automation_watches(self, model, fnames):
        """Whether an automation rule on ``model`` would react to a change of
        these fields: one on update, for any field or for one of these (not
        on creation, on another field's change, on time conditions ...)."""
        if "base.automation" not in self.env:
            return False
        return bool(
            self.env["base.automation"]
            .sudo()
            .search_count(
                [
                    ("model_name", "=", model),
                    "|",
                    "&",
                    ("trigger", "in", ["on_write", "on_create_or_write"]),
                    ("trigger_field_ids", "=", False),
                    "&",
                    ("trigger_field_ids.model", "=", model),
                    ("trigger_field_ids.name", "in", list(fnames)),
                ],
                limit=1,
            )
        )
