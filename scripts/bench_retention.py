"""Retention benchmark: a ledger of --lines lines over two years (ten per
contact: a rule scored once, then daily decay and a rule repeating every
month), compacted at one year, as the daily job does. Prints the time it
takes, the lines folded, the ledger's size before and after (with a plain
VACUUM, whose space PostgreSQL reuses, and a VACUUM FULL, which gives it back
to the disk), and checks that no score changed and every score still equals a
replay of its ledger."""

import argparse
import time
from datetime import timedelta

import odoo
from odoo import SUPERUSER_ID, api, fields
from odoo.tools import SQL

LINES_PER_CONTACT = 10


def populate(env, contacts):
    """Contacts, their lines (each with its balance) and their scores, in SQL."""
    cr = env.cr
    group = env["lead.score.group"]._default_group().id
    once, monthly = env["lead.score.rule"].create(
        [
            {"name": "Retention: scored once", "value": 100, "active": False},
            {
                "name": "Retention: every month",
                "value": 5,
                "repeat": "every",
                "repeat_days": 30,
                "active": False,
            },
        ]
    )
    cr.execute(
        SQL(
            """
            INSERT INTO res_partner (name, complete_name, active, type, is_company,
                                     lead_score, create_date, write_date)
            SELECT 'Retention ' || i, 'Retention ' || i, TRUE, 'contact', FALSE, 0,
                   now(), now()
              FROM generate_series(1, %s) i
            """,
            contacts,
        )
    )
    # Line k of a contact: the rule scored once two years ago (k = 0), then a
    # decay line (k = 1..7) or the monthly rule (k = 8, 9), spread over the
    # two years.
    cr.execute(
        SQL(
            """
            INSERT INTO lead_score_operation (
                partner_id, operation, value, signed_value, balance, date, source,
                group_id, rule_id, rule_key, idempotency_key, expired, user_id,
                create_uid, create_date, write_uid, write_date)
            SELECT p.id, line.operation, line.value, line.signed,
                   SUM(line.signed) OVER (PARTITION BY p.id ORDER BY k),
                   line.date, line.source, %(group)s, line.rule_id, line.rule_key,
                   line.idempotency_key, FALSE, 1, 1, line.date, 1, line.date
              FROM res_partner p
              CROSS JOIN generate_series(0, %(per)s - 1) k
              CROSS JOIN LATERAL (
                    SELECT now() AT TIME ZONE 'UTC' - interval '730 days'
                           + (k * 73 + mod(p.id, 60)) * interval '1 day' AS date) d
              CROSS JOIN LATERAL (
                    SELECT CASE WHEN k = 0 THEN 'add' WHEN k < 8 THEN 'remove'
                                ELSE 'add' END AS operation,
                           CASE WHEN k = 0 THEN 100 WHEN k < 8 THEN 3 ELSE 5 END AS value,
                           CASE WHEN k = 0 THEN 100 WHEN k < 8 THEN -3 ELSE 5 END AS signed,
                           CASE WHEN k BETWEEN 1 AND 7 THEN 'decay' ELSE 'rule' END
                               AS source,
                           CASE WHEN k = 0 THEN %(once)s WHEN k >= 8 THEN %(monthly)s
                           END AS rule_id,
                           CASE WHEN k = 0 THEN 'once' WHEN k >= 8 THEN 'every:'
                                || (extract(epoch FROM d.date)::int8 / 86400 / 30)
                           END AS rule_key,
                           CASE WHEN k BETWEEN 1 AND 7 THEN 'lead-scoring:decay:'
                                || to_char(d.date, 'YYYY-MM-DD') || ':' || %(group)s
                           END AS idempotency_key,
                           d.date) line
             WHERE p.name LIKE %(names)s
             -- Ids in date order per contact, as the fold orders lines.
             ORDER BY p.id, k
            """,
            group=group,
            per=LINES_PER_CONTACT,
            once=once.id,
            monthly=monthly.id,
            names="Retention %",
        )
    )
    cr.execute(
        SQL(
            """
            INSERT INTO lead_score_value (partner_id, group_id, score)
            SELECT DISTINCT ON (partner_id) partner_id, %s, balance
              FROM lead_score_operation ORDER BY partner_id, date DESC, id DESC
            """,
            group,
        )
    )
    cr.execute(
        """
        UPDATE res_partner p SET lead_score = v.score, lead_score_date = p.write_date
          FROM lead_score_value v WHERE v.partner_id = p.id
        """
    )


def ledger_size(cr):
    cr.execute(
        "SELECT count(*), pg_total_relation_size('lead_score_operation')"
        " FROM lead_score_operation"
    )
    lines, size = cr.fetchone()
    return lines, size / 2**20


def scores(cr):
    cr.execute(
        "SELECT count(*), sum(lead_score), md5(string_agg(lead_score::text, ','"
        " ORDER BY id)) FROM res_partner WHERE name LIKE 'Retention %'"
    )
    return cr.fetchone()


def vacuum(cr, full=False):
    cr.commit()
    started = time.perf_counter()
    cr._cnx.autocommit = True
    cr.execute(f"VACUUM {'FULL ' if full else ''}ANALYZE lead_score_operation")
    cr._cnx.autocommit = False
    return time.perf_counter() - started


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--config", required=True)
    parser.add_argument("--database", required=True)
    parser.add_argument("--lines", type=int, default=10_000_000)
    args = parser.parse_args()
    odoo.tools.config.parse_config(
        ["-c", args.config, "-d", args.database, "--log-level=warn"]
    )
    registry = odoo.modules.registry.Registry(args.database)
    contacts = args.lines // LINES_PER_CONTACT
    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {"tracking_disable": True})
        started = time.perf_counter()
        populate(env, contacts)
        cr.commit()
        vacuum(cr)
        populated = time.perf_counter() - started
        lines_before, size_before = ledger_size(cr)
        scores_before = scores(cr)

        cutoff = fields.Datetime.now() - timedelta(days=365)
        started = time.perf_counter()
        env["lead.score.retention"]._compact_ledger(cutoff, commit=True)
        cr.commit()
        folded, carried = map(
            int,
            env["ir.config_parameter"]
            .get_param("lead_scoring.compact_last_run")
            .split("|")[1:],
        )
        compacted = time.perf_counter() - started
        lines_after, size_dead = ledger_size(cr)
        vacuumed = vacuum(cr)
        _lines, size_vacuumed = ledger_size(cr)
        vacuumed_full = vacuum(cr, full=True)
        _lines, size_full = ledger_size(cr)

        scores_after = scores(cr)
        behind = env["lead.score.refresh"]._scores_behind_lines(SQL("TRUE"))
        assert scores_after == scores_before, (scores_before, scores_after)
        assert not behind, f"{len(behind)} scores are not their ledger's replay"

    print(
        f"\nLead scoring retention benchmark, {lines_before:,} lines of"
        f" {contacts:,} contacts over two years (populated in {populated:.0f} s)"
    )
    print(
        f"  compaction at one year    {compacted:8.1f} s  {folded:,} lines folded into"
        f" {carried:,} carried-forward lines"
    )
    print(f"  lines                     {lines_before:,} -> {lines_after:,}")
    print(
        f"  ledger size               {size_before:,.0f} MB; {size_dead:,.0f} MB right"
        f" after, {size_vacuumed:,.0f} MB after VACUUM ({vacuumed:.0f} s, its space"
        f" reused by new lines), {size_full:,.0f} MB after VACUUM FULL"
        f" ({vacuumed_full:.0f} s)"
    )
    print("  scores                    unchanged, each the replay of its ledger")


if __name__ == "__main__":
    main()
