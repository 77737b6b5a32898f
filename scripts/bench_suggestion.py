"""Suggested points benchmark: --opportunities opportunities since won or
lost, their contacts scored by --rules rules before each opportunity was
created, the chance to win following planted log-odds per rule. Prints the
time the suggestion takes (the SQL that folds the history into patterns,
then the fit), the Python memory it peaks at, and the held-out ROC AUC of
the hand-set points, of the suggestion and of the planted model."""

import argparse
import math
import random
import time
import tracemalloc

import odoo
from odoo import SUPERUSER_ID, api
from odoo.tools import SQL


def populate(env, opportunities, rule_count, seed):
    """Contacts, the rules' lines and the opportunities, in SQL."""
    rng = random.Random(seed)
    cr = env.cr
    group = env["lead.score.group"]._default_group()
    rules = env["lead.score.rule"].create(
        [
            {
                "name": f"Bench rule {i}",
                "value": rng.choice((5, 10, 15, 20, 25)),
                "active": False,
                "domain": "[('id', '=', 0)]",
                "group_id": group.id,
            }
            for i in range(rule_count)
        ]
    )
    planted = {rule.id: rng.uniform(-0.5, 1.5) for rule in rules}
    rates = {rule.id: rng.uniform(0.05, 0.4) for rule in rules}
    cr.execute("SELECT setseed(%s)", [seed / 1000])
    cr.execute(
        SQL(
            """
            INSERT INTO res_partner (name, complete_name, active, type, is_company,
                                     lead_score, create_date, write_date)
            SELECT 'Bench ' || i, 'Bench ' || i, TRUE, 'contact', FALSE, 0, now(), now()
              FROM generate_series(1, %s) i
            RETURNING id
            """,
            opportunities,
        )
    )
    first = min(row[0] for row in cr.fetchall())
    # Each contact's opportunity is created at a time of its own over a year;
    # the rules scored it a few days before.
    cr.execute(
        SQL(
            """
            CREATE TEMP TABLE bench_opp AS
            SELECT p.id AS partner_id,
                   now() AT TIME ZONE 'UTC' - (p.id - %s) * (interval '360 days' / %s)
                       AS created
              FROM res_partner p WHERE p.id >= %s
            """,
            first,
            opportunities,
            first,
        )
    )
    cr.execute(
        SQL(
            """
            INSERT INTO lead_score_operation (
                partner_id, operation, value, signed_value, date, source, group_id,
                rule_id, rule_key, expired, user_id, create_uid, create_date,
                write_uid, write_date)
            SELECT o.partner_id, 'add', r.value, r.value, o.created - interval '3 days',
                   'rule', %s, r.id, 'once', FALSE, 1, 1, o.created, 1, o.created
              FROM bench_opp o
              JOIN lead_score_rule r ON r.id = ANY(%s)
              JOIN (SELECT unnest(%s::int[]) AS id, unnest(%s::float8[]) AS rate) rr
                ON rr.id = r.id
             -- Drawn for each contact and rule (random() alone would be
             -- drawn once per rule, before the join).
             WHERE random() + 0 * o.partner_id < rr.rate
            """,
            group.id,
            rules.ids,
            list(rates),
            list(rates.values()),
        )
    )
    won_stage = env["crm.stage"].search([("is_won", "=", True)], limit=1)
    lost_stage = env["crm.stage"].search([("is_won", "=", False)], limit=1)
    cr.execute(
        SQL(
            """
            INSERT INTO crm_lead (name, type, partner_id, active, probability, stage_id,
                                  create_date, write_date, company_id)
            SELECT 'Bench deal', 'opportunity', o.partner_id, w.won,
                   CASE WHEN w.won THEN 100 ELSE 0 END,
                   CASE WHEN w.won THEN %(won)s ELSE %(lost)s END,
                   o.created, o.created, %(company)s
              FROM bench_opp o
              CROSS JOIN LATERAL (
                    SELECT random() < 1 / (1 + exp(-(-1.5 + COALESCE(SUM(c.coef), 0))))
                               AS won
                      FROM lead_score_operation l
                      JOIN (SELECT unnest(%(ids)s::int[]) AS id,
                                   unnest(%(coefs)s::float8[]) AS coef) c
                        ON c.id = l.rule_id
                     WHERE l.partner_id = o.partner_id) w
            """,
            won=won_stage.id,
            lost=lost_stage.id,
            company=env.company.id,
            ids=list(planted),
            coefs=list(planted.values()),
        )
    )
    cr.execute("ANALYZE lead_score_operation; ANALYZE crm_lead; ANALYZE res_partner")
    return rules, planted


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--config", required=True)
    parser.add_argument("--database", required=True)
    parser.add_argument("--opportunities", type=int, default=100_000)
    parser.add_argument("--rules", type=int, default=30)
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()
    odoo.tools.config.parse_config(
        ["-c", args.config, "-d", args.database, "--log-level=warn"]
    )
    registry = odoo.modules.registry.Registry(args.database)
    # Once the addons' path is known.
    from odoo.addons.lead_scoring.engine.logistic import weighted_auc
    from odoo.addons.lead_scoring.engine.point_suggestion import PATTERNS

    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {"tracking_disable": True})
        started = time.perf_counter()
        rules, planted = populate(env, args.opportunities, args.rules, args.seed)
        cr.commit()
        populated = time.perf_counter() - started
        leads = env["crm.lead"].with_context(active_test=False)
        query = leads._search([("name", "=", "Bench deal")])
        service = env["lead.score.point.suggestion"]

        started = time.perf_counter()
        service._fold_patterns(query, rules, ())
        folded = time.perf_counter() - started
        cr.execute(f"SELECT COUNT(*) FROM {PATTERNS}")
        pattern_count = cr.fetchone()[0]

        started = time.perf_counter()
        result = service._suggest(query, rules, (), 30)
        total = time.perf_counter() - started

        tracemalloc.start()
        service._suggest(query, rules, (), 30)
        _current, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()

        # The planted model on the same held-out opportunities.
        cr.execute(f"SELECT keys, won, lost FROM {PATTERNS} WHERE held_out")
        scored = [
            (sum(planted[int(key[1:])] for key in keys), won, lost)
            for keys, won, lost in cr.fetchall()
        ]
        planted_auc = weighted_auc(scored)
        cr.rollback()

    suggested = {row["rule"].id: row["suggested"] for row in result["rules"]}
    order = sorted(planted, key=planted.get)
    rank_agree = sum(
        1
        for a, b in zip(order, order[1:], strict=False)
        if suggested.get(a) is not None
        and suggested.get(b) is not None
        and suggested[a] <= suggested[b]
    )
    print(
        f"\nLead scoring suggested points benchmark, {args.opportunities:,} opportunities"
        f" x {args.rules} rules (populated in {populated:.0f} s)"
    )
    print(
        f"  history folded into patterns  {folded:6.1f} s"
        f"  ({pattern_count:,} distinct patterns)"
    )
    print(f"  whole suggestion (SQL + fit)  {total:6.1f} s")
    print(f"  Python memory peak            {peak / 2**20:6.1f} MB")
    print(
        f"  held-out ROC AUC              hand-set {result['auc_before']:.3f},"
        f" suggested {result['auc_after_rules']:.3f}, planted {planted_auc:.3f}"
    )
    print(
        f"  planted order kept            {rank_agree} of {len(order) - 1}"
        " neighbouring pairs"
    )
    assert not math.isnan(result["auc_after_rules"])


if __name__ == "__main__":
    main()
