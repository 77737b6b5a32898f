# Copyright 2026 Lead Scoring contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""A rule's form: its condition in words, what it matches now and what it
would score if it ran now, computed as the form changes.

These read scores and run the condition's query at every keystroke, so that
they are given to Lead Scoring managers only (anyone may ask for them: an
onchange computes them on a new record without any access right), with the
rights of the user asking, never of an author named in the call, over the
contacts that user may read, and within a statement timeout: a condition
too costly to preview says so on the form.
"""

from contextlib import contextmanager
from datetime import timedelta

from psycopg2 import OperationalError, errorcodes

from odoo import _, api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tools import SQL, mute_logger

from ..condition import ConditionRefused
from ..domain_words import domain_in_words
from .lead_score_rule import MANAGER_GROUP

# Seconds a preview's query may run (system parameter
# lead_scoring.preview_timeout), within the rules' own timeout.
PREVIEW_TIMEOUT = 10
PREVIEW_FIELDS = (
    "match_count",
    "preview_contacts",
    "preview_points",
    "preview_tier_moves",
    "preview_warning",
)


class PreviewTooSlow(Exception):
    """A preview's query ran past the preview timeout."""


class LeadScoreRule(models.Model):
    _inherit = "lead.score.rule"

    condition_summary = fields.Char(
        string="Condition in words",
        compute="_compute_condition_summary",
        help="The condition as a sentence, with the names of the records it names.",
    )
    match_count = fields.Integer(
        string="Matching now",
        compute="_compute_preview",
        help="The records that match the condition now, among those you may read.",
    )
    preview_contacts = fields.Integer(
        string="Would score",
        compute="_compute_preview",
        help="Contacts that this rule would score if it ran now (among those you "
        "may read), leaving out those it has scored already.",
    )
    preview_points = fields.Integer(
        string="Points it would add", compute="_compute_preview"
    )
    preview_tier_moves = fields.Char(string="Tier changes", compute="_compute_preview")
    preview_warning = fields.Char(
        string="Preview warning",
        compute="_compute_preview",
        help="Why the condition cannot be counted or previewed.",
    )

    def _may_preview(self):
        """Previews, counts and summaries: Lead Scoring managers only."""
        return self.env.su or self.env.user.has_group(MANAGER_GROUP)

    @contextmanager
    def _preview_limits(self):
        """A preview's queries, each within the preview timeout (raising
        PreviewTooSlow past it), in a savepoint that a cancelled query rolls
        back, its timeout setting with it."""
        timeout = min(
            self.env["lead.score.engine"]._statement_timeout(),
            max(
                1,
                int(
                    1000
                    * float(
                        self.env["ir.config_parameter"]
                        .sudo()
                        .get_param("lead_scoring.preview_timeout", PREVIEW_TIMEOUT)
                    )
                ),
            ),
        )
        # Flushed first: what a rolled back savepoint would lose of it would
        # stay in the cache as written. Not flushing savepoint: its rollback
        # would clear the cache, the new record's values with it.
        self.env.flush_all()
        try:
            # A cancelled preview is no error for Odoo to log.
            with (
                mute_logger("odoo.sql_db"),
                self.env.cr.savepoint(flush=False),
                self.env["lead.score.engine"]._local_setting(
                    "statement_timeout", timeout
                ),
            ):
                yield
        except OperationalError as error:
            if error.pgcode != errorcodes.QUERY_CANCELED:
                raise
            raise PreviewTooSlow() from None

    @api.depends(
        "condition_type",
        "model_id",
        "partner_field_id",
        "domain",
        "preview_since",
        "limit_count",
        "limit_days",
        "operation",
        "value",
        "repeat",
        "repeat_days",
        "company_id",
        "group_id",
    )
    @api.depends_context("uid")
    def _compute_preview(self):
        for rule in self:
            rule.update(dict.fromkeys(PREVIEW_FIELDS, False))
        if not self._may_preview():
            return
        for rule in self:
            try:
                # Points the rule could not be saved with preview nothing.
                rule._check_value(rule.name, rule.operation, rule.value)
            except ValidationError as error:
                rule.preview_warning = error.args[0]
                continue
            try:
                with rule._preview_limits():
                    # With the rights of the user editing the rule, who
                    # becomes its author on saving (see write).
                    domain = rule._get_domain(author=self.env.user)
                    count = self.env[rule.sudo().model_name].search_count(domain)
                    changes = rule._preview_changes()
            except PreviewTooSlow:
                rule.preview_warning = _(
                    "This condition takes too long to count: simplify it, or save "
                    "it and let the scheduled run apply it."
                )
                continue
            except ConditionRefused as error:
                rule.preview_warning = error.args[0]
                continue
            except Exception:  # noqa: BLE001 - a condition being written counts nothing
                continue
            rule.match_count = count
            rule._set_preview(changes)

    def _set_preview(self, changes):
        moves = {}
        for old_tier, new_tier, contacts, _points in changes:
            if old_tier != new_tier:
                key = (old_tier, new_tier)
                moves[key] = moves.get(key, 0) + contacts
        tiers = self.env["lead.score.tier"].browse(
            {tier for move in moves for tier in move if tier}
        )
        names = {tier.id: tier.name for tier in tiers}
        none = _("No tier")
        self.preview_contacts = sum(change[2] for change in changes)
        self.preview_points = sum(change[3] for change in changes)
        self.preview_tier_moves = ", ".join(
            _(
                "%(count)s %(old)s → %(new)s",
                count=count,
                old=names.get(old, none),
                new=names.get(new, none),
            )
            for (old, new), count in sorted(moves.items(), key=lambda m: -m[1])
        )

    def _preview_scores_sql(self):
        """SQL giving, for each contact that this rule would score if it ran
        now, its score in the rule's group before and after; nothing is
        written."""
        self.ensure_one()
        # Models and fields are read as superuser (their metadata is admin
        # only, see _check_condition); the query has the user's rights.
        select = self.sudo()._build_query(
            self._preview_incremental(), user=self.env.user
        )
        rule_id = self._origin.id
        # OFFSET 0: each contact's score is read once, not once per use.
        return SQL(
            """
            SELECT counted.id, counted.old_score, %(new_score)s AS new_score
              FROM (SELECT scored.id, scored.lines,
                           COALESCE((SELECT v.score FROM lead_score_value v
                                      WHERE v.partner_id = scored.id
                                        AND v.group_id = %(group_id)s), 0) AS old_score
                      FROM (SELECT p.id, %(lines)s AS lines
                              FROM (%(select)s) src
                              JOIN res_partner p ON p.id = src.partner_id AND p.active
                                                AND p.lead_score_objection IS NOT TRUE
                             WHERE %(company)s
                               AND NOT EXISTS (SELECT 1 FROM lead_score_operation o
                                                WHERE o.rule_id = %(rule_id)s
                                                  AND o.partner_id = p.id AND %(recorded)s)
                             GROUP BY p.id) scored
                     WHERE scored.lines > 0
                    OFFSET 0) counted
            """,
            new_score=self._preview_new_score(),
            lines=self._preview_lines(rule_id),
            group_id=self.group_id.id or None,
            select=select,
            company=self._preview_scope(),
            rule_id=rule_id or 0,
            recorded=self._preview_recorded(rule_id),
        )

    def _preview_incremental(self):
        """The source records a preview looks at: for an event rule previewed
        since a date, those made since (had the rule existed since then), as
        _build_query's incremental filter; else all of them (None)."""
        if not (self.condition_type == "event" and self.preview_since):
            return None
        since = self.preview_since

        def incremental(table):
            return SQL("%s >= %s", SQL.identifier(table, "create_date"), since)

        return incremental

    def _preview_recorded(self, rule_id):
        """SQL on an operation ``o`` of the rule: it already scored the
        contact for the source record ``src`` (nothing for a new rule)."""
        if not rule_id:
            return SQL("FALSE")
        if self.condition_type == "event":
            return SQL("o.rule_key = src.res_id::text")
        if self.repeat == "every":
            return SQL(
                "o.date > %s",
                fields.Datetime.now() - timedelta(days=self.repeat_days or 1),
            )
        return SQL("o.rule_key = 'once'")

    def _preview_scope(self):
        """SQL on a contact ``p``: the rule may score it (its company) and,
        for an event rule, the user may read it."""
        conditions = []
        if self.company_id:
            conditions.append(
                SQL("(p.company_id IS NULL OR p.company_id = %s)", self.company_id.id)
            )
        if self.condition_type == "event":
            # The records' contacts, among those the user may read (a rule on
            # contacts reads them through the user's rights already).
            readable = (
                self.env["res.partner"].with_context(active_test=False)._search([])
            )
            conditions.append(SQL("p.id IN %s", readable.subselect()))
        return SQL(" AND ").join(conditions) if conditions else SQL("TRUE")

    def _preview_lines(self, rule_id):
        """SQL: the lines the rule would score for a contact ``p``, out of
        the source rows grouped on it."""
        if not (self.condition_type == "event" and self.limit_count):
            return SQL("COUNT(*)")
        # Within the rule's limit per contact, less what it scored already.
        since = (
            fields.Datetime.now() - timedelta(days=self.limit_days)
            if self.limit_days
            else None
        )
        return SQL(
            """LEAST(COUNT(*), GREATEST(0, %s - (
                       SELECT count(*) FROM lead_score_operation o
                        WHERE o.rule_id = %s AND o.partner_id = p.id
                          AND (%s::timestamp IS NULL OR o.date > %s))))""",
            self.limit_count,
            rule_id or 0,
            since,
            since,
        )

    def _preview_new_score(self):
        """SQL: a contact's score once the rule's lines are applied to its
        ``counted.old_score``."""
        value = self.value or 0
        return {
            "set": SQL("%s", value),
            "add": SQL("counted.old_score + counted.lines * %s", value),
            "remove": SQL("counted.old_score - counted.lines * %s", value),
        }[self.operation or "add"]

    def _tier_of(self, score):
        """SQL: the tier of the rule's group that ``score`` reaches."""
        # Imported here: the engine's package extends the models, once defined.
        from ..engine.snippets import tier_of

        return SQL("(%s)", tier_of(score, self.group_id.id or None))

    def _preview_changes(self):
        """(tier before, tier after, contacts, points) of this rule's preview."""
        self.env["res.partner"].flush_model(["lead_score", "active", "company_id"])
        self.env["lead.score.operation"].flush_model()
        # The tiers of each pair of scores, not of each contact (120,000 at a
        # million contacts: a second).
        return self._preview_rows(
            SQL(
                """SELECT %(old_tier)s AS old_tier, %(new_tier)s AS new_tier,
                          SUM(contacts)::bigint,
                          SUM(contacts * (new_score - old_score))::bigint
                     FROM (SELECT old_score, new_score, COUNT(*) AS contacts
                             FROM (%(scores)s) preview
                            GROUP BY old_score, new_score) pairs
                    GROUP BY 1, 2""",
                old_tier=self._tier_of(SQL("pairs.old_score")),
                new_tier=self._tier_of(SQL("pairs.new_score")),
                scores=self._preview_scores_sql(),
            )
        )

    def _preview_rows(self, query):
        # Without JIT: PostgreSQL spent longer compiling a preview than
        # running it (2.6 s of compiling at a million contacts).
        with self.env["lead.score.engine"]._local_setting("jit", "off"):
            self.env.cr.execute(query)
            return self.env.cr.fetchall()

    def action_preview_contacts(self):
        """The contacts whose tier this rule would change if it ran now,
        among those the user may read."""
        self.ensure_one()
        if not self._may_preview():
            raise AccessError(_("Only Lead Scoring managers can preview a rule."))
        try:
            with self._preview_limits():
                rows = self._preview_rows(
                    SQL(
                        "SELECT id FROM (%s) preview WHERE %s IS DISTINCT FROM %s",
                        self._preview_scores_sql(),
                        self._tier_of(SQL("preview.old_score")),
                        self._tier_of(SQL("preview.new_score")),
                    )
                )
        except PreviewTooSlow:
            raise UserError(
                _(
                    "This condition takes too long to preview: simplify it, or "
                    "save it and let the scheduled run apply it."
                )
            ) from None
        partner_ids = [row[0] for row in rows]
        return {
            "type": "ir.actions.act_window",
            "name": _("Contacts whose tier %s would change", self.name),
            "res_model": "res.partner",
            "view_mode": "list,form",
            "domain": [("id", "in", partner_ids)],
        }

    @api.depends("condition_type", "model_id", "domain")
    @api.depends_context("lang", "uid")
    def _compute_condition_summary(self):
        if not self._may_preview():
            self.condition_summary = False
            return
        for rule in self:
            try:
                # Points the rule could not be saved with preview nothing.
                rule._check_value(rule.name, rule.operation, rule.value)
            except ValidationError as error:
                rule.preview_warning = error.args[0]
                continue
            try:
                with rule._preview_limits():
                    domain = rule._get_domain(author=self.env.user)
                    rule.condition_summary = domain_in_words(
                        self.env[rule.sudo().model_name], domain
                    )
            except PreviewTooSlow:
                rule.condition_summary = _("(condition too long to put in words)")
            except Exception:  # noqa: BLE001 - any broken condition says so
                rule.condition_summary = _("(condition not valid: open the rule)")
