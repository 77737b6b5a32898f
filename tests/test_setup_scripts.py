"""The setup scripts (scripts/lib.sh): quiet steps that show their log only
when they fail, and `make run`'s PostgreSQL server, which must survive being
killed while it writes, unlike the fast one the tests use.
"""

import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import psycopg2
import pytest

LIB = Path(__file__).resolve().parent.parent / "scripts" / "lib.sh"


def _bash(script, env=None, check=True):
    result = subprocess.run(
        ["bash", "-c", f"source {LIB}\n{script}"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env=dict(os.environ, **(env or {})),
    )
    if check:
        assert result.returncode == 0, result.stderr
    return result


def test_step_prints_one_line_and_keeps_the_output_in_its_log(tmp_path):
    result = _bash(
        f"LOG_HOME={tmp_path}\n"
        "step demo 'Counting' seq 1000\n"
        "step demo 'Counting again' seq 3\n"
    )
    assert result.stdout == ""
    assert "Counting" in result.stderr and "1000" not in result.stderr
    assert len(result.stderr.splitlines()) == 2
    log = (tmp_path / "demo.log").read_text().splitlines()
    assert "1000" in log and log[-1] == "3"


def test_failed_step_shows_the_end_of_its_log_and_stops(tmp_path):
    result = _bash(
        f"LOG_HOME={tmp_path}\n"
        "step demo 'Installing things' bash -c 'seq 100; echo broken >&2; exit 3'\n"
        "echo 'went on after a failure'\n",
        check=False,
    )
    assert result.returncode == 3
    assert "went on" not in result.stdout
    assert "Installing things failed (exit status 3)" in result.stderr
    shown = [line for line in result.stderr.splitlines() if line.startswith("  | ")]
    assert shown[-1] == "  | broken" and "  | 100" in shown and "  | 1" not in shown
    assert f"The whole log: {tmp_path}/demo.log" in result.stderr
    assert "1\n2\n" in (tmp_path / "demo.log").read_text()


@pytest.fixture
def run_server():
    """A throwaway server made by the same lib.sh code as `make run`'s."""
    base = tempfile.mkdtemp(prefix="lead-scoring-pg-")
    os.chmod(base, 0o755)  # PostgreSQL's own user must reach its folder
    env = {"LEAD_SCORING_RUN_PG_HOME": f"{base}/pg", "LEAD_SCORING_RUN_PG_PORT": "5440"}
    _bash("pg_use run && pg_start", env)
    try:
        yield env, {"host": f"{base}/pg/run", "port": 5440, "user": "odoo"}
    finally:
        _bash("pg_use run && pg_stop", env, check=False)
        shutil.rmtree(base, ignore_errors=True)


def _setting(dsn, name):
    connection = psycopg2.connect(dbname="postgres", **dsn)
    try:
        with connection.cursor() as cursor:
            cursor.execute(f"SHOW {name}")
            return cursor.fetchone()[0]
    finally:
        connection.close()


def test_run_server_is_durable_and_the_test_server_is_fast(run_server):
    _env, dsn = run_server
    assert _setting(dsn, "fsync") == "on"
    assert _setting(dsn, "full_page_writes") == "on"
    test = _bash("pg_use test && pg_start && psql_run -d postgres -tAc 'SHOW fsync'")
    assert test.stdout.strip() == "off"


def test_run_server_survives_a_kill_during_writes(run_server):
    env, dsn = run_server
    connection = psycopg2.connect(dbname="postgres", **dsn)
    connection.autocommit = True
    connection.cursor().execute("CREATE DATABASE demo")
    connection.close()

    committed = []

    def write():
        connection = psycopg2.connect(dbname="demo", **dsn)
        with connection.cursor() as cursor:
            cursor.execute("CREATE TABLE note (id serial PRIMARY KEY, body text)")
            connection.commit()
            try:
                while True:
                    cursor.execute(
                        "INSERT INTO note (body) SELECT repeat('x', 500)"
                        " FROM generate_series(1, 50) RETURNING id"
                    )
                    ids = [row[0] for row in cursor.fetchall()]
                    connection.commit()
                    committed.extend(ids)
            except psycopg2.Error:
                pass  # the server is gone

    writer = threading.Thread(target=write)
    writer.start()
    deadline = time.monotonic() + 20
    while len(committed) < 2000 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert committed, "nothing was written"
    postmaster = int(Path(env["LEAD_SCORING_RUN_PG_HOME"], "data", "postmaster.pid")
                     .read_text().split()[0])  # fmt: skip
    os.kill(postmaster, signal.SIGKILL)
    writer.join(timeout=30)
    assert not writer.is_alive()

    # Its backends leave within moments of the postmaster; then it restarts,
    # recovering from its write-ahead log.
    for _ in range(20):
        if _bash("pg_use run && pg_start", env, check=False).returncode == 0:
            break
        time.sleep(0.5)
    connection = psycopg2.connect(dbname="demo", **dsn)
    with connection.cursor() as cursor:
        cursor.execute("SELECT id FROM note")
        kept = {row[0] for row in cursor.fetchall()}
    connection.close()
    assert set(committed) <= kept, "committed rows were lost"
