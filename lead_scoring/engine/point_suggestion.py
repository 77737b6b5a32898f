# Copyright 2026 Lead Scoring contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""What the won and lost deals say each rule is worth.

For opportunities since won or lost, each one's contact as it was when the
opportunity was created (as the Score Quality report replays it, with no
look-ahead): which rules had scored it by then, as a hit per rule (a line of
the rule that still counted then: not expired, not replaced by a later set of
its group). SQL folds them into a temporary table of one row per distinct
pattern of hits (and of the contact's values of the candidate fields) with
its won and lost counts; an L2-regularised logistic regression fits on the
older opportunities (engine/logistic.py, plain Python reading the patterns a
batch at a time) and its coefficients, in log-odds, become points on the
scale of today's score. The newer opportunities, which the fit does not see,
measure the effect.
"""

from collections import defaultdict

from odoo import _, api, models
from odoo.tools import SQL

from ..models.lead_score_bounded_read import bounded_statements
from ..tools import int_array
from . import snippets
from .logistic import Spread, Tally, fit_logistic, weighted_auc

# The older share of the opportunities that the fit learns from.
TRAIN_SHARE = 0.7
# Candidate values proposed at most (the most frequent first).
MAX_CANDIDATES = 40
# The penalty on each coefficient (in opportunities' worth of log-likelihood).
L2 = 1.0
CANDIDATE_TYPES = ("many2one", "many2many", "selection", "char", "boolean")
REWEIGHT_KEY = "lead-scoring:reweight:"
# The temporary table of one suggestion's patterns, and the rows read at once.
PATTERNS = "lead_score_suggestion_pattern"
SCAN_BATCH = 10_000


def signed_points(rule):
    """A rule's points as they move the score (a remove rule's are negative)."""
    return -rule.value if rule.operation == "remove" else rule.value


def alive_at(alias):
    """SQL: the ledger line ``alias`` had not expired when the opportunity
    ``opp`` was created."""
    return SQL(
        "((%s IS NULL AND NOT %s) OR %s > opp.create_date)",
        SQL.identifier(alias, "expiry_date"),
        SQL.identifier(alias, "expired"),
        SQL.identifier(alias, "expiry_date"),
    )


class LeadScorePointSuggestion(models.AbstractModel):
    _name = "lead.score.point.suggestion"
    _description = "Suggested points (learned from won and lost deals)"

    # ------------------------------------------------------------------
    # Reading the history
    # ------------------------------------------------------------------
    @api.model
    def _candidate_sql(self, field):
        """SQL: text[] of the keys 'name=value' of a contact ``p``'s value of
        a res.partner field (its value today: contacts have no history)."""
        column = SQL.identifier("p", field.name)
        prefix = f"{field.name}="
        if field.ttype == "many2many":
            partner_field = self.env["res.partner"]._fields[field.name]
            return SQL(
                "ARRAY(SELECT %s || rel.%s FROM %s rel WHERE rel.%s = p.id)",
                prefix,
                SQL.identifier(partner_field.column2),
                SQL.identifier(partner_field.relation),
                SQL.identifier(partner_field.column1),
            )
        if field.ttype == "boolean":
            return SQL("CASE WHEN %s THEN ARRAY[%s] END", column, f"{prefix}1")
        if field.ttype == "char":
            column = SQL("NULLIF(lower(btrim(%s)), '')", column)
        return SQL(
            "CASE WHEN %s IS NOT NULL THEN ARRAY[%s || %s] END",
            column,
            prefix,
            SQL("%s::text", column),
        )

    @api.model
    def _fold_patterns(self, leads_query, rules, candidate_fields):
        """Fold the opportunities of ``leads_query`` (a Query, with the
        user's rights) into the temporary table PATTERNS: one row per held
        out or not, and pattern of keys ('r<rule id>' for a rule hit,
        'name=value' for a candidate value), with its won and lost counts.
        Held out are the newest (1 - TRAIN_SHARE). The table lives until the
        transaction ends; Python reads it a batch at a time (_scan)."""
        self.env["lead.score.operation"].flush_model()
        self.env["res.partner"].flush_model()
        self.env["crm.lead"].flush_model()
        self.env.cr.execute(SQL("DROP TABLE IF EXISTS %s", SQL.identifier(PATTERNS)))
        query = SQL(
            """
            CREATE TEMPORARY TABLE %(table)s ON COMMIT DROP AS
            WITH opp AS MATERIALIZED (
                SELECT l.id, l.partner_id, l.create_date, l.active AS won,
                       row_number() OVER (ORDER BY l.create_date, l.id) AS position,
                       COUNT(*) OVER () AS total
                  FROM crm_lead l
                 WHERE l.id IN %(leads)s
            ), hits AS (
                SELECT opp.id, array_agg(DISTINCT 'r' || o.rule_id) AS keys
                  FROM opp
                  JOIN lead_score_operation o
                    ON o.partner_id = opp.partner_id
                   AND o.rule_id = ANY(%(rules)s) AND o.rule_key IS NOT NULL
                   AND o.date <= opp.create_date AND %(alive_o)s
                 WHERE NOT EXISTS (
                        SELECT 1 FROM lead_score_operation s
                         WHERE s.partner_id = opp.partner_id
                           AND s.group_id = o.group_id AND s.operation = 'set'
                           AND s.date <= opp.create_date AND %(alive_s)s
                           AND (s.date, s.id) > (o.date, o.id))
                 GROUP BY opp.id
            )
            SELECT row_number() OVER () AS id, held_out, keys,
                   won::int, lost::int, NULL::int4[] AS idx, 0 AS today, 0 AS fixed
              FROM (SELECT opp.position > opp.total * %(share)s AS held_out,
                           ARRAY(SELECT DISTINCT k FROM unnest(%(keys)s) k ORDER BY k)
                               AS keys,
                           COUNT(*) FILTER (WHERE opp.won) AS won,
                           COUNT(*) FILTER (WHERE NOT opp.won) AS lost
                      FROM opp
                      LEFT JOIN hits ON hits.id = opp.id
                      LEFT JOIN res_partner p ON p.id = opp.partner_id
                     GROUP BY 1, 2) folded
            """,
            table=SQL.identifier(PATTERNS),
            leads=leads_query.subselect(),
            rules=int_array(rules.ids),
            alive_o=alive_at("o"),
            alive_s=alive_at("s"),
            share=TRAIN_SHARE,
            keys=self._pattern_keys(candidate_fields),
        )
        with bounded_statements(self):
            self.env.cr.execute(query)
        self.env.cr.execute(
            SQL("CREATE INDEX ON %s (held_out, id)", SQL.identifier(PATTERNS))
        )

    @api.model
    def _pattern_keys(self, candidate_fields):
        """SQL: an opportunity's keys, those of the rules that hit its
        contact (``hits.keys``) and the candidate values of its contact
        ``p``."""
        keys = SQL("COALESCE(hits.keys, '{}'::text[])")
        for field in candidate_fields:
            keys = SQL(
                "%s || COALESCE(%s, '{}'::text[])", keys, self._candidate_sql(field)
            )
        return keys

    @api.model
    def _scan(self, held_out):
        """(feature indexes, won, lost, today's score, fixed points) of each
        pattern of PATTERNS, held out or not, read a batch at a time so that
        memory stays flat however many patterns there are."""
        after = 0
        while True:
            self.env.cr.execute(
                SQL(
                    """SELECT id, idx, won, lost, today, fixed FROM %s
                        WHERE held_out = %s AND id > %s ORDER BY id LIMIT %s""",
                    SQL.identifier(PATTERNS),
                    held_out,
                    after,
                    SCAN_BATCH,
                )
            )
            rows = self.env.cr.fetchall()
            if not rows:
                return
            after = rows[-1][0]
            for _id, idx, won, lost, today, fixed in rows:
                yield idx, won, lost, today, fixed

    # ------------------------------------------------------------------
    # The suggestion
    # ------------------------------------------------------------------
    @api.model
    def _suggest(self, leads_query, rules, candidate_fields=(), min_sample=30):
        """The suggestion for these rules (add or remove rules) over the
        opportunities of ``leads_query``: a dict with ``message`` (why there
        is none, or False), the train and held-out counts, per rule and per
        candidate value their support and suggested points (None below the
        minimum sample), the held-out AUC before and after and the held-out
        won rate per tier before and after."""
        self._fold_patterns(leads_query, rules, candidate_fields)
        counts = self._pattern_counts()
        train_won, train_lost = counts.get(False, (0, 0))
        need = max(1, min_sample // 3)
        result = {
            "message": False,
            "train_count": train_won + train_lost,
            "test_count": sum(counts.get(True, (0, 0))),
            "rules": [],
            "candidates": [],
            "auc_before": None,
            "auc_after": None,
            "auc_after_rules": None,
            "tiers": [],
            "need": need,
        }
        rule_keys = {f"r{rule.id}": rule for rule in rules}
        current = {key: signed_points(rule) for key, rule in rule_keys.items()}
        support = self._support(rule_keys, min_sample, need)

        def supported(key):
            won, lost = support.get(key, (0, 0))
            return won + lost >= min_sample and won >= need and lost >= need

        if train_won < need or train_lost < need:
            result["message"] = _(
                "Too little data: the older opportunities hold %(won)s won and "
                "%(lost)s lost, and a suggestion needs at least %(need)s of each. "
                "Choose a longer period, more teams or a smaller minimum sample.",
                won=train_won,
                lost=train_lost,
                need=need,
            )
            return result
        fitted = [key for key in sorted(rule_keys) if supported(key)]
        candidate_keys = sorted(
            (key for key in support if key not in rule_keys and supported(key)),
            key=lambda key: (-sum(support[key]), key),
        )[:MAX_CANDIDATES]
        features = fitted + candidate_keys
        if not features:
            result["message"] = _(
                "Too little data: no rule had scored at least %(min)s of the older "
                "opportunities' contacts, with %(need)s won and %(need)s lost "
                "among them, when they were created.",
                min=min_sample,
                need=need,
            )
            return result
        self._index_patterns(features, fitted, current)
        suggested = self._fit_points(features)
        by_key = dict(zip(features, suggested, strict=True))
        result["rules"] = self._rule_suggestions(rule_keys, current, support, by_key)
        result["candidates"] = self._candidate_suggestions(
            candidate_keys, support, by_key
        )
        result.update(self._held_out_measures(suggested, len(fitted)))
        return result

    @api.model
    def _pattern_counts(self):
        """{held out: (won, lost)} of the opportunities folded in PATTERNS."""
        return {
            held_out: (won, lost)
            for held_out, won, lost in self.env.execute_query(
                SQL(
                    "SELECT held_out, SUM(won)::int, SUM(lost)::int FROM %s GROUP BY 1",
                    SQL.identifier(PATTERNS),
                )
            )
        }

    @api.model
    def _support(self, rule_keys, min_sample, need):
        """{key: (won, lost)}: the support of the rules, and of the candidate
        values with enough of it, among the opportunities the fit learns
        from."""
        return {
            key: (won, lost)
            for key, won, lost in self.env.execute_query(
                SQL(
                    """SELECT k, SUM(won)::int, SUM(lost)::int
                         FROM %(table)s, unnest(keys) k
                        WHERE NOT held_out
                        GROUP BY k
                       HAVING k = ANY(%(rules)s::text[])
                           OR (SUM(won) + SUM(lost) >= %(min)s
                               AND SUM(won) >= %(need)s AND SUM(lost) >= %(need)s)""",
                    table=SQL.identifier(PATTERNS),
                    rules=list(rule_keys),
                    min=min_sample,
                    need=need,
                )
            )
        }

    @api.model
    def _index_patterns(self, features, fitted, current):
        """Write each pattern's features (their indexes in ``features``),
        today's score and the points of the rules without a suggestion
        (which keep their ``current`` points), in one statement."""
        points = (
            SQL(
                "VALUES %s",
                SQL(", ").join(
                    SQL("(%s, %s, %s)", key, value, key in fitted)
                    for key, value in current.items()
                ),
            )
            if current
            else SQL("SELECT NULL::text, 0, FALSE WHERE FALSE")
        )
        self.env.cr.execute(
            SQL(
                """
                WITH points(key, value, fitted) AS (%(points)s)
                UPDATE %(table)s t
                   SET idx = ARRAY(SELECT array_position(%(features)s::text[], k) - 1
                                     FROM unnest(t.keys) k
                                    WHERE k = ANY(%(features)s::text[])),
                       today = COALESCE(s.today, 0), fixed = COALESCE(s.fixed, 0)
                  FROM %(table)s t2
                  LEFT JOIN LATERAL (
                        SELECT SUM(p.value) AS today,
                               SUM(p.value) FILTER (WHERE NOT p.fitted) AS fixed
                          FROM unnest(t2.keys) k JOIN points p ON p.key = k) s ON TRUE
                 WHERE t.id = t2.id
                """,
                points=points,
                table=SQL.identifier(PATTERNS),
                features=features,
            )
        )

    @api.model
    def _fit_points(self, features):
        """The suggested points of ``features``, in their order: the joint
        fit's coefficients, in points per unit of log-odds such that the
        suggested score spreads as today's does over the same opportunities,
        so that tiers keep their meaning."""
        _intercept, coefficients = fit_logistic(
            lambda: ((idx, won, lost) for idx, won, lost, _t, _f in self._scan(False)),
            len(features),
            l2=L2,
        )
        spread = Spread()
        for idx, won, lost, today, _fixed in self._scan(False):
            spread.add(sum(coefficients[i] for i in idx), today, won + lost)
        scale = spread.scale()
        return [round(coefficient * scale) for coefficient in coefficients]

    @api.model
    def _rule_suggestions(self, rule_keys, current, support, by_key):
        """Each rule's current and suggested points (None without one) and
        support."""
        suggestions = []
        for key, rule in rule_keys.items():
            won, lost = support.get(key, (0, 0))
            suggestions.append(
                {
                    "rule": rule,
                    "current": current[key],
                    "suggested": by_key.get(key),
                    "support": won + lost,
                    "won": won,
                    "lost": lost,
                }
            )
        return suggestions

    @api.model
    def _candidate_suggestions(self, candidate_keys, support, by_key):
        """Each candidate value's field, value, suggested points and
        support."""
        suggestions = []
        for key in candidate_keys:
            won, lost = support[key]
            name, value = key.split("=", 1)
            suggestions.append(
                {
                    "field": name,
                    "value": value,
                    "suggested": by_key[key],
                    "support": won + lost,
                    "won": won,
                    "lost": lost,
                }
            )
        return suggestions

    @api.model
    def _held_out_measures(self, suggested, rule_count):
        """Measured on the held-out opportunities, by distinct score: the
        AUC today, with the rules' suggested points, and with the candidates'
        too; and per tier, the opportunities and won ones today and with the
        rules' suggested points. The first ``rule_count`` of ``suggested``
        are the rules'."""
        tiers = self._tiers()
        before, after_rules, after_all = Tally(), Tally(), Tally()
        tier_rates = defaultdict(lambda: [0, 0, 0, 0])
        for idx, won, lost, today, fixed in self._scan(True):
            rules_score = fixed + sum(suggested[i] for i in idx if i < rule_count)
            all_score = rules_score + sum(suggested[i] for i in idx if i >= rule_count)
            before.add(today, won, lost)
            after_rules.add(rules_score, won, lost)
            after_all.add(all_score, won, lost)
            rates = tier_rates[tiers(today)]
            rates[0] += won + lost
            rates[1] += won
            rates = tier_rates[tiers(rules_score)]
            rates[2] += won + lost
            rates[3] += won
        return {
            "auc_before": weighted_auc(before.items()),
            "auc_after_rules": weighted_auc(after_rules.items()),
            "auc_after": weighted_auc(after_all.items()),
            "tiers": [
                (name, tuple(tier_rates[name][:2]), tuple(tier_rates[name][2:]))
                for name in tiers.names
                if name in tier_rates
            ],
        }

    @api.model
    def _tiers(self):
        """A function giving the name of today's tier of a score, with the
        tiers' names in score order as its ``names``."""
        tiers = self.env["lead.score.tier"].search(
            [("group_id", "=", self.env["lead.score.group"]._tier_group().id)],
            order="min_score desc",
        )
        bands = [(tier.min_score, tier.name) for tier in tiers]
        no_tier = _("No tier")

        def tier_of(score):
            return next((name for low, name in bands if low <= score), no_tier)

        tier_of.names = [no_tier] + [name for _low, name in reversed(bands)]
        return tier_of

    # ------------------------------------------------------------------
    # Today's contacts
    # ------------------------------------------------------------------
    @api.model
    def _counting_lines(self):
        """SQL: a ledger line ``o`` counts today (not expired, not replaced
        by a later set of its group)."""
        return SQL(
            """NOT o.expired AND (o.expiry_date IS NULL OR o.expiry_date > now() AT TIME ZONE 'UTC')
               AND NOT EXISTS (
                    SELECT 1 FROM lead_score_operation s
                     WHERE s.partner_id = o.partner_id AND s.group_id = o.group_id
                       AND s.operation = 'set' AND NOT s.expired
                       AND (s.date, s.id) > (o.date, o.id))"""
        )

    @api.model
    def _tier_moves(self, points):
        """[(tier before, tier after, contacts)] among today's contacts that
        the user may read, had each rule of ``points`` ({rule id: new signed
        points}) re-valued its lines that count (the caps aside)."""
        if not points:
            return []
        self.env["lead.score.operation"].flush_model()
        self.env["res.partner"].flush_model()
        readable = self.env["res.partner"]._search([])
        group = self.env["lead.score.group"]._tier_group()

        def tier_of(score):
            return SQL("(%s)", snippets.tier_of(score, group.id or None))

        change = SQL(", ").join(
            SQL("(%s, %s)", rule_id, value) for rule_id, value in points.items()
        )
        query = SQL(
            """
            WITH change(rule_id, points) AS (VALUES %(change)s),
            delta AS (
                SELECT o.partner_id,
                       SUM(CASE WHEN o.rule_key IS NOT NULL THEN c.points ELSE 0 END
                           - o.signed_value) AS delta
                  FROM lead_score_operation o
                  JOIN change c ON c.rule_id = o.rule_id
                 WHERE %(counting)s
                 GROUP BY o.partner_id
            ), pairs AS (
                SELECT p.lead_score AS old_score, p.lead_score + d.delta AS new_score,
                       COUNT(*) AS contacts
                  FROM delta d
                  JOIN res_partner p ON p.id = d.partner_id AND p.active
                                    AND p.lead_score_objection IS NOT TRUE
                 WHERE d.delta != 0 AND p.id IN %(readable)s
                 GROUP BY 1, 2
            )
            SELECT %(old_tier)s, %(new_tier)s, SUM(contacts)::int
              FROM pairs GROUP BY 1, 2
            """,
            change=change,
            counting=self._counting_lines(),
            readable=readable.subselect(),
            old_tier=tier_of(SQL("pairs.old_score")),
            new_tier=tier_of(SQL("pairs.new_score")),
        )
        with bounded_statements(self):
            return [row for row in self.env.execute_query(query) if row[0] != row[1]]

    # ------------------------------------------------------------------
    # Applying
    # ------------------------------------------------------------------
    @api.model
    def _revalue(self, rule, old_points, new_points, key):
        """Re-value the lines of ``rule`` that count today at ``new_points``
        (signed): one line per contact and group, of the difference between
        what its counting lines of the rule give and what they would at the
        new points, through the engine (its idempotency key ``key`` makes a
        retry harmless), expiring with the latest of them; then the scores
        refreshed. Returns the contacts re-valued."""
        operations = self.env["lead.score.operation"]._engine()
        operations.flush_model()
        note = _(
            "Rule '%(rule)s' re-weighted %(old)s -> %(new)s",
            rule=rule.name,
            old=old_points,
            new=new_points,
        )
        ledger = operations.env["lead.score.ledger"]
        recorded = ledger._record_lines(
            SQL(
                """
                SELECT o.partner_id, o.group_id,
                       (%(points)s * COUNT(*) FILTER (WHERE o.rule_key IS NOT NULL)
                        - SUM(o.signed_value))::int AS delta,
                       CASE WHEN bool_or(o.expiry_date IS NULL) THEN NULL
                            ELSE MAX(o.expiry_date) END AS expiry
                  FROM lead_score_operation o
                 WHERE o.rule_id = %(rule)s AND %(counting)s
                 GROUP BY o.partner_id, o.group_id
                """,
                points=new_points,
                rule=rule.id,
                counting=self._counting_lines(),
            ),
            SQL("src.delta != 0"),
            operation=SQL("CASE WHEN src.delta < 0 THEN 'remove' ELSE 'add' END"),
            value=SQL("abs(src.delta)"),
            source="rule",
            rule_id=rule.id,
            group_id=SQL("src.group_id"),
            expiry_date=SQL("src.expiry"),
            idempotency_key=key,
            note=note,
        )
        return ledger._refresh_recorded(recorded)
