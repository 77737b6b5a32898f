# Copyright 2026 Lead Scoring contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""What the won and lost deals say each rule is worth.

For opportunities since won or lost, each one's contact as it was when the
opportunity was created (as the Score Quality report replays it, with no
look-ahead): which rules had scored it by then, as a hit per rule (a line of
the rule that still counted then: not expired, not replaced by a later set of
its group). SQL folds them into one row per distinct pattern of hits (and of
the contact's values of the candidate fields) with its won and lost counts;
an L2-regularised logistic regression fits on the older opportunities
(engine/logistic.py, plain Python over the patterns) and its coefficients,
in log-odds, become points on the scale of today's score. The newer
opportunities, which the fit does not see, measure the effect.
"""

from collections import defaultdict

from odoo import _, api, models
from odoo.tools import SQL

from ..models.lead_score_bounded_read import bounded_statements
from ..tools import int_array
from .logistic import fit_logistic, points_scale, weighted_auc

# The older share of the opportunities that the fit learns from.
TRAIN_SHARE = 0.7
# Candidate values proposed at most (the most frequent first).
MAX_CANDIDATES = 40
# The penalty on each coefficient (in opportunities' worth of log-likelihood).
L2 = 1.0
CANDIDATE_TYPES = ("many2one", "many2many", "selection", "char", "boolean")
REWEIGHT_KEY = "lead-scoring:reweight:"


def signed_points(rule):
    """A rule's points as they move the score (a remove rule's are negative)."""
    return -rule.value if rule.operation == "remove" else rule.value


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
    def _patterns(self, leads_query, rules, candidate_fields):
        """{(held out, won): {keys: count}}: the opportunities of
        ``leads_query`` (a Query, with the user's rights) folded by their
        pattern of keys ('r<rule id>' for a rule hit, 'name=value' for a
        candidate value); held out are the newest (1 - TRAIN_SHARE)."""
        self.env["lead.score.operation"].flush_model()
        self.env["res.partner"].flush_model()
        self.env["crm.lead"].flush_model()

        def alive_at(alias):
            return SQL(
                "((%s IS NULL AND NOT %s) OR %s > opp.create_date)",
                SQL.identifier(alias, "expiry_date"),
                SQL.identifier(alias, "expired"),
                SQL.identifier(alias, "expiry_date"),
            )

        candidates = [self._candidate_sql(field) for field in candidate_fields]
        keys = SQL("COALESCE(hits.keys, '{}'::text[])")
        for candidate in candidates:
            keys = SQL("%s || COALESCE(%s, '{}'::text[])", keys, candidate)
        query = SQL(
            """
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
            SELECT opp.position > opp.total * %(share)s, opp.won,
                   ARRAY(SELECT DISTINCT k FROM unnest(%(keys)s) k ORDER BY k),
                   COUNT(*)
              FROM opp
              LEFT JOIN hits ON hits.id = opp.id
              LEFT JOIN res_partner p ON p.id = opp.partner_id
             GROUP BY 1, 2, 3
            """,
            leads=leads_query.subselect(),
            rules=int_array(rules.ids),
            alive_o=alive_at("o"),
            alive_s=alive_at("s"),
            share=TRAIN_SHARE,
            keys=keys,
        )
        patterns = defaultdict(dict)
        with bounded_statements(self):
            for held_out, won, pattern, count in self.env.execute_query(query):
                patterns[held_out, won][tuple(pattern)] = count
        return patterns

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
        patterns = self._patterns(leads_query, rules, candidate_fields)
        train, test = defaultdict(lambda: [0, 0]), defaultdict(lambda: [0, 0])
        for (held_out, won), counts in patterns.items():
            target = test if held_out else train
            for pattern, count in counts.items():
                target[pattern][0 if won else 1] += count
        del patterns
        need = max(1, min_sample // 3)
        result = {
            "message": False,
            "train_count": sum(w + lo for w, lo in train.values()),
            "test_count": sum(w + lo for w, lo in test.values()),
            "train_won": sum(w for w, _lo in train.values()),
            "rules": [],
            "candidates": [],
            "auc_before": None,
            "auc_after": None,
            "auc_after_rules": None,
            "tiers": [],
            "need": need,
        }
        # Support of each key among the opportunities the fit learns from.
        support = defaultdict(lambda: [0, 0])
        for pattern, (won, lost) in train.items():
            for key in pattern:
                support[key][0] += won
                support[key][1] += lost

        def supported(key):
            won, lost = support.get(key, (0, 0))
            return won + lost >= min_sample and won >= need and lost >= need

        train_won = result["train_won"]
        train_lost = result["train_count"] - train_won
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
        rule_keys = {f"r{rule.id}": rule for rule in rules}
        fitted = [key for key in sorted(rule_keys) if supported(key)]
        candidate_keys = sorted(
            (key for key in support if key not in rule_keys and supported(key)),
            key=lambda key: (-sum(support[key]), key),
        )[:MAX_CANDIDATES]
        features = fitted + candidate_keys
        if not fitted and not candidate_keys:
            result["message"] = _(
                "Too little data: no rule had scored at least %(min)s of the older "
                "opportunities' contacts, with %(need)s won and %(need)s lost "
                "among them, when they were created.",
                min=min_sample,
                need=need,
            )
            return result
        index = {key: i for i, key in enumerate(features)}
        folded = defaultdict(lambda: [0, 0])
        for pattern, (won, lost) in train.items():
            row = folded[tuple(index[key] for key in pattern if key in index)]
            row[0] += won
            row[1] += lost
        _intercept, coefficients = fit_logistic(
            [(pattern, won, lost) for pattern, (won, lost) in folded.items()],
            len(features),
            l2=L2,
        )
        current = {key: signed_points(rule) for key, rule in rule_keys.items()}
        coefficient = dict(zip(features, coefficients, strict=True))

        def today(pattern):
            return sum(current.get(key, 0) for key in pattern)

        def fitted_score(pattern):
            return sum(coefficient.get(key, 0.0) for key in pattern)

        scale = points_scale(
            [(fitted_score(p), w + lo) for p, (w, lo) in train.items()],
            [(today(p), w + lo) for p, (w, lo) in train.items()],
        )
        suggested = {key: round(coefficient[key] * scale) for key in features}
        for key, rule in rule_keys.items():
            won, lost = support.get(key, (0, 0))
            result["rules"].append(
                {
                    "rule": rule,
                    "current": current[key],
                    "suggested": suggested.get(key),
                    "support": won + lost,
                    "won": won,
                    "lost": lost,
                }
            )
        for key in candidate_keys:
            won, lost = support[key]
            name, value = key.split("=", 1)
            result["candidates"].append(
                {
                    "field": name,
                    "value": value,
                    "suggested": suggested[key],
                    "support": won + lost,
                    "won": won,
                    "lost": lost,
                }
            )

        def after(pattern, with_candidates):
            return sum(
                suggested.get(key, current.get(key, 0))
                for key in pattern
                if with_candidates or key in rule_keys
            )

        held_out = list(test.items())
        result["auc_before"] = weighted_auc(
            [(today(p), w, lo) for p, (w, lo) in held_out]
        )
        result["auc_after_rules"] = weighted_auc(
            [(after(p, False), w, lo) for p, (w, lo) in held_out]
        )
        result["auc_after"] = weighted_auc(
            [(after(p, True), w, lo) for p, (w, lo) in held_out]
        )
        result["tiers"] = self._tier_rates(
            [(today(p), after(p, False), w, lo) for p, (w, lo) in held_out]
        )
        return result

    @api.model
    def _tier_rates(self, scored):
        """[(tier name, (count, won) before, (count, won) after)] over
        [(score before, score after, won, lost)], with today's tiers."""
        tiers = self.env["lead.score.tier"].search(
            [("group_id", "=", self.env["lead.score.group"]._tier_group().id)],
            order="min_score desc",
        )
        no_tier = _("No tier")

        def tier_of(score):
            return next((t.name for t in tiers if t.min_score <= score), no_tier)

        rates = defaultdict(lambda: [0, 0, 0, 0])
        for before, after, won, lost in scored:
            rates[tier_of(before)][0] += won + lost
            rates[tier_of(before)][1] += won
            rates[tier_of(after)][2] += won + lost
            rates[tier_of(after)][3] += won
        names = [no_tier] + [t.name for t in reversed(tiers)]
        return [
            (name, tuple(rates[name][:2]), tuple(rates[name][2:]))
            for name in names
            if name in rates
        ]

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
            return SQL(
                """(SELECT t.id FROM lead_score_tier t
                     WHERE t.active AND t.min_score <= %s AND t.group_id = %s
                     ORDER BY t.min_score DESC LIMIT 1)""",
                score,
                group.id or None,
            )

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
        recorded = operations._record_lines(
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
        return operations._refresh_recorded(recorded)
