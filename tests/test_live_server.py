"""A first run on a production-like server: prefork workers whose cron time
limit is far shorter than the run (which takes some 20 s here in one go). The
run goes on over many calls of the job (Odoo's cron progress API), each
committing its chunks, and completes; no worker is killed."""

import os
import subprocess
import time

from .test_lifecycle import Database

CONTACTS = 30_000
RULES = 4
# Seconds: a cron worker running longer is killed by Odoo's prefork server.
CRON_LIMIT = 8
HTTP_PORT = 18469


def test_a_long_first_run_completes_under_prefork_time_limits():
    prefix = os.environ.get("LEAD_SCORING_TEST_DB", "lead_scoring")
    db = Database(f"{prefix}_prefork")
    db.drop()
    db.odoo("install", "-i", "lead_scoring", "--without-demo=all")
    db._sql(
        db.name,
        f"""
        INSERT INTO res_partner (name, active, type, lang, company_id, is_company,
                                 lead_score, create_date, write_date)
        SELECT 'Prefork ' || n, TRUE, 'contact', 'en_US', NULL, FALSE, 0,
               now() AT TIME ZONE 'UTC', now() AT TIME ZONE 'UTC'
          FROM generate_series(1, {CONTACTS}) n;
        INSERT INTO lead_score_rule (name, active, sequence, operation, value,
                                     condition_type, domain, repeat, repeat_days,
                                     expiry_days, user_id, group_id)
        SELECT jsonb_build_object('en_US', 'Prefork rule ' || n), TRUE, n, 'add', n,
               'contact', '[(''name'', ''like'', ''Prefork %'')]', 'once', 30, 0, 1,
               (SELECT res_id FROM ir_model_data
                 WHERE module = 'lead_scoring' AND name = 'score_group_default')
          FROM generate_series(1, {RULES}) n;
        UPDATE ir_cron SET nextcall = now() AT TIME ZONE 'UTC' - interval '1 minute'
         WHERE cron_name = 'Lead Scoring: apply scoring rules';
        -- Only our job runs: the others' first runs would share its time limit.
        UPDATE ir_cron SET active = FALSE
         WHERE cron_name != 'Lead Scoring: apply scoring rules';
        """,
    )
    log = db.log_dir / f"{db.name}-server.log"
    log.unlink(missing_ok=True)
    server = subprocess.Popen(
        [
            db.python,
            db.odoo_bin,
            "-c",
            db.conf,
            "-d",
            db.name,
            f"--db-filter=^{db.name}$",
            "--workers=2",
            "--max-cron-threads=1",
            f"--limit-time-real-cron={CRON_LIMIT}",
            f"--http-port={HTTP_PORT}",
            f"--gevent-port={HTTP_PORT + 3}",
            "--log-level=info",
            f"--logfile={log}",
        ]
    )
    expected_lines = CONTACTS * RULES
    try:
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline:
            # A prefork cron worker sleeps up to a minute between polls, which
            # with so short a limit its watchdog takes for a hang: wake it,
            # as Odoo's own triggers do.
            db._sql("postgres", f"SELECT pg_notify('cron_trigger', '{db.name}')")
            time.sleep(1)
            running, lines = db._sql(
                db.name,
                # Still recording lines, or refreshing the run's scores.
                "SELECT (SELECT count(*) FROM lead_score_rule"
                "         WHERE pass_date IS NOT NULL OR refresh_date IS NOT NULL),"
                " (SELECT count(*) FROM lead_score_operation)",
            )[0]
            if lines == expected_lines and not running:
                break
    finally:
        server.terminate()
        server.wait(30)
    text = log.read_text()
    killed = [
        line for line in text.splitlines() if "WorkerCron" in line and "timeout" in line
    ]
    assert not killed, f"a cron worker was killed: {killed}"
    assert (lines, running) == (expected_lines, 0), text[-3000:]
    scores = db._sql(
        db.name,
        "SELECT lead_score, count(*) FROM res_partner WHERE name LIKE 'Prefork %'"
        " GROUP BY lead_score",
    )
    assert scores == [(sum(range(1, RULES + 1)), CONTACTS)]
    calls = db._sql(
        db.name,
        "SELECT count(*) FROM ir_cron_progress p JOIN ir_cron c ON c.id = p.cron_id"
        " WHERE c.cron_name = 'Lead Scoring: apply scoring rules' AND p.done > 0",
    )[0][0]
    assert calls > 1, "the run was done in one call: the test proves nothing"
    db.drop()
