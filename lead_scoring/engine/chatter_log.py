# Copyright 2026 Lead Scoring contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The chatter messages of tier and grade moves: the service
``lead.score.chatter``."""

from odoo import api, models
from odoo.tools import SQL
from odoo.tools.mail import generate_tracking_message_id

from ..tools import int_array

# The rules (or other sources) a move's message names at most, the largest
# moves first: enough to say why, short enough to read in the chatter.
RUN_LINES_SHOWN = 5


class LeadScoreChatter(models.AbstractModel):
    """The chatter messages of contacts' tier and grade moves, written
    set-based: one INSERT of a batch's messages and one of their tracking
    values, the same message Odoo's tracking writes.

    - :meth:`_log_lead_score_moves` logs a batch's moves, given as contact
      ids with their old and new values; :meth:`_move_values` are their
      tracking values.
    - A move made by a rule run names the rules of the run that moved the
      score, with their points: :meth:`_lead_score_run_lines` reads them by
      one SELECT per batch, :meth:`_lead_score_run_lines_field` is the field
      under which the message lists them (res.partner's tracking names them
      too, when the ORM writes the scores).

    The caller's environment (and its tracking context) is kept. Nothing
    here commits.
    """

    _name = "lead.score.chatter"
    _description = "Lead scoring: the chatter log of tier and grade moves"

    @api.model
    def _log_lead_score_moves(self, moves, new, adjusted=(), since=None):
        """Log the tier and grade moves [(contact, old score, old tier, old
        grade)] to ``new`` {contact: (score, tier, grade)} in the contacts'
        chatter: the messages and tracking values that the ORM's tracking
        logs (see _mail_track: the score with a tier move or a person's
        adjustment, of the ``adjusted`` contacts; a grade move alone),
        written by two INSERTs. ``since``: the start of the rule run that
        moved them, whose rules the messages name (_lead_score_run_lines)."""
        context = self.env.context
        if not moves or context.get("tracking_disable") or context.get("mail_notrack"):
            return
        partner_model = self.env["res.partner"]
        run_lines = self._lead_score_run_lines([move[0] for move in moves], since)
        author_id, email_from = partner_model._message_compute_author(
            raise_on_email=False
        )
        reply_to = self.env["mail.thread"]._notify_get_reply_to(default=email_from)
        field_ids = {
            name: self.env["ir.model.fields"]._get(partner_model._name, name).id
            for name in ("lead_score", "lead_score_tier_id", "lead_score_grade")
        }
        values = self._move_values(moves, new, adjusted, run_lines, field_ids)
        if not values:
            return
        contacts = sorted({value[0] for value in values})
        columns = list(zip(*values, strict=True))
        self.env.cr.execute(
            SQL(
                """
                WITH message AS (
                    INSERT INTO mail_message
                           (model, res_id, message_type, subtype_id, is_internal,
                            body, author_id, email_from, reply_to, message_id,
                            email_add_signature, date, create_uid, create_date,
                            write_uid, write_date)
                    SELECT %(model)s, m.res_id, 'notification', %(note)s, TRUE,
                           '', %(author)s, %(email_from)s, %(reply_to)s,
                           m.message_id, FALSE, %(now)s, %(uid)s, %(now)s,
                           %(uid)s, %(now)s
                      FROM unnest(%(contacts)s, %(message_ids)s::varchar[])
                           AS m(res_id, message_id)
                 RETURNING id, res_id
                )
                INSERT INTO mail_tracking_value
                       (mail_message_id, field_id, old_value_integer,
                        new_value_integer, old_value_char, new_value_char,
                        create_uid, create_date, write_uid, write_date)
                SELECT message.id, v.field_id, v.old_int, v.new_int, v.old_char,
                       v.new_char, %(uid)s, %(now)s, %(uid)s, %(now)s
                  FROM unnest(%(pids)s, %(fields)s, %(old_ints)s,
                              %(new_ints)s, %(old_chars)s::varchar[],
                              %(new_chars)s::varchar[])
                       AS v(res_id, field_id, old_int, new_int, old_char, new_char)
                  JOIN message ON message.res_id = v.res_id
                """,
                model=partner_model._name,
                note=self.env["ir.model.data"]._xmlid_to_res_id("mail.mt_note"),
                author=author_id,
                email_from=email_from,
                reply_to=reply_to[False],
                message_ids=[
                    generate_tracking_message_id("message-notify") for _c in contacts
                ],
                now=self.env.cr.now(),
                uid=self.env.uid,
                contacts=int_array(contacts),
                pids=int_array(columns[0]),
                fields=int_array(columns[1]),
                old_ints=int_array(columns[2]),
                new_ints=int_array(columns[3]),
                old_chars=list(columns[4]),
                new_chars=list(columns[5]),
            )
        )
        partner_model.browse(contacts).invalidate_recordset(["message_ids"])

    @api.model
    def _move_values(self, moves, new, adjusted, run_lines, field_ids):
        """The tracking values of these moves (see _log_lead_score_moves):
        [(contact, field, old int, new int, old char, new char)], a contact's
        together, its run's rules last."""
        tier_ids = {tier for _p, _s, tier, _g in moves} | {
            new[pid][1] for pid, *_old in moves
        }
        tier_names = {
            tier.id: tier.display_name
            for tier in self.env["lead.score.tier"].sudo().browse(tier_ids - {None})
        }
        runs_field = self._lead_score_run_lines_field().id
        values = []  # (contact, field, old int, new int, old char, new char)
        for pid, old_score, old_tier, old_grade in moves:
            score, tier, grade = new[pid]
            if old_score != score and (old_tier != tier or pid in adjusted):
                values.append(
                    (pid, field_ids["lead_score"], old_score, score, None, None)
                )
            if old_tier != tier:
                values.append(
                    (
                        pid,
                        field_ids["lead_score_tier_id"],
                        old_tier or 0,
                        tier or 0,
                        tier_names.get(old_tier, ""),
                        tier_names.get(tier, ""),
                    )
                )
            if old_grade != grade:
                values.append(
                    (pid, field_ids["lead_score_grade"], None, None, old_grade, grade)
                )
            if pid in run_lines and values and values[-1][0] == pid:
                values.append((pid, runs_field, None, None, None, run_lines[pid]))
        return values

    @api.model
    def _lead_score_run_lines_field(self):
        """The field under which a move's message lists the run's rules: the
        ledger's, which only Lead Scoring users may read, so that the
        chatter shows the rules to them alone (as the score and tier)."""
        return self.env["ir.model.fields"]._get(
            "res.partner", "lead_score_operation_ids"
        )

    @api.model
    def _lead_score_run_lines(self, partner_ids, since):
        """{contact: what the rule run started at ``since`` gave them}, in one
        SELECT: their lines dated from the run on (every line of a run has
        its date) recorded by its rules, summed per rule, the largest moves first, at
        most RUN_LINES_SHOWN, as a JSON list of [title in every language,
        source, points, lines, is a set]; the chatter shows the titles in
        the reader's language (see mail.tracking.value). Nothing outside a
        run (``since`` empty or -infinity)."""
        if not partner_ids or not since or str(since) == "-infinity":
            return {}
        self.env["lead.score.operation"].flush_model()
        self.env.cr.execute(
            SQL(
                """
                SELECT partner_id,
                       json_agg(json_build_array(name, source, points, lines, is_set)
                                ORDER BY rank)::text
                  FROM (
                    SELECT o.partner_id, o.rule_name AS name, o.source,
                           SUM(o.signed_value) AS points, COUNT(*) AS lines,
                           bool_or(o.operation = 'set') AS is_set,
                           row_number() OVER (
                               PARTITION BY o.partner_id
                               ORDER BY abs(SUM(o.signed_value)) DESC, MIN(o.id)
                           ) AS rank
                      FROM lead_score_operation o
                     WHERE o.partner_id = ANY(%(ids)s)
                       -- A run's lines have its date, taken to the second
                       -- just after its start; lines of other sources
                       -- recorded meanwhile are not the run's.
                       AND o.date >= date_trunc('second', %(since)s::timestamp)
                       AND o.rule_id IS NOT NULL
                       AND NOT o.expired
                     GROUP BY o.partner_id, o.rule_id, o.rule_name, o.source
                  ) s
                 WHERE rank <= %(shown)s
                 GROUP BY partner_id
                """,
                ids=int_array(partner_ids),
                since=since,
                shown=RUN_LINES_SHOWN,
            )
        )
        return dict(self.env.cr.fetchall())
