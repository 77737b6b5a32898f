"""Install, upgrade, uninstall and reinstall of each addon on a database that
has only its declared dependencies: Odoo's log stays free of warnings and
errors, and uninstalling leaves no table, column, index, cron, menu or action
behind.
"""

import ast
import configparser
import os
import re
import subprocess
from collections import Counter
from pathlib import Path

import psycopg2
import pytest

ROOT = Path(__file__).resolve().parent.parent
ADDONS = [
    "lead_scoring",
    "lead_scoring_website",
    "lead_scoring_marketing",
    "lead_scoring_queue_job",
]
# What an addon leaves in a database; compared before install and after uninstall.
SNAPSHOT_SQL = """
SELECT 'column ' || table_name || '.' || column_name
  FROM information_schema.columns WHERE table_schema = 'public'
UNION ALL SELECT 'cron ' || cron_name FROM ir_cron
UNION ALL SELECT 'menu ' || id FROM ir_ui_menu
UNION ALL SELECT 'server action ' || state || ' ' || id FROM ir_act_server
UNION ALL SELECT 'window action ' || id FROM ir_act_window
UNION ALL SELECT 'view ' || id FROM ir_ui_view
UNION ALL SELECT 'field ' || model || '.' || name FROM ir_model_fields
UNION ALL SELECT 'selection ' || field_id || ' ' || value FROM ir_model_fields_selection
UNION ALL SELECT 'group ' || id FROM res_groups
UNION ALL SELECT 'implied group ' || gid || ' ' || hid FROM res_groups_implied_rel
UNION ALL SELECT 'record ' || module || '.' || name FROM ir_model_data
 WHERE module LIKE 'lead_scoring%'
UNION ALL SELECT 'index ' || tablename || '.' || indexname
  FROM pg_indexes WHERE schemaname = 'public'
"""


def _setting(name):
    value = os.environ.get(name)
    if not value:
        pytest.fail(f"{name} is not set: run the suite with `make test`")
    return value


class Database:
    """A scratch database driven through odoo-bin, as an administrator would."""

    def __init__(self, name):
        self.name = name
        self.python = _setting("LEAD_SCORING_PYTHON")
        self.odoo_bin = _setting("LEAD_SCORING_ODOO_BIN")
        self.conf = _setting("LEAD_SCORING_ODOO_CONF")
        self.log_dir = Path(_setting("LEAD_SCORING_LOG_DIR"))
        parser = configparser.ConfigParser()
        parser.read(self.conf)
        options = parser["options"]
        self.dsn = {
            "host": options["db_host"],
            "port": options["db_port"],
            "user": options["db_user"],
        }

    def _sql(self, database, statement):
        connection = psycopg2.connect(dbname=database, **self.dsn)
        connection.autocommit = True
        try:
            with connection.cursor() as cursor:
                cursor.execute(statement)
                return cursor.fetchall() if cursor.description else None
        finally:
            connection.close()

    def drop(self):
        self._sql("postgres", f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')

    def snapshot(self):
        return {row[0] for row in self._sql(self.name, SNAPSHOT_SQL)}

    def odoo(self, step, *args, stdin=None):
        """Runs odoo-bin on this database; returns its log."""
        log = self.log_dir / f"{self.name}-{step}.log"
        log.unlink(missing_ok=True)
        command = [
            self.python,
            self.odoo_bin,
            *args,
            "-c",
            self.conf,
            "-d",
            self.name,
            "--no-http",
            "--log-level=info",
            f"--logfile={log}",
        ]
        if stdin is None:
            command.append("--stop-after-init")
        result = subprocess.run(
            command,
            input=stdin,
            text=True,
            capture_output=True,
            timeout=900,
            check=False,
        )
        assert (
            result.returncode == 0
        ), f"{step} failed:\n{result.stderr}\n{log.read_text()}"
        return log.read_text()


def _kinds(rows):
    """Rows without the database ids, which a reinstall renumbers."""
    return Counter(re.sub(r"\b\d+\b", "#", row) for row in rows)


def assert_clean(log, what):
    bad = [
        line
        for line in log.splitlines()
        if any(f" {level} " in line[:60] for level in ("WARNING", "ERROR", "CRITICAL"))
    ]
    assert not bad, f"{what} logged warnings or errors:\n" + "\n".join(bad)


@pytest.mark.parametrize("addon", ADDONS)
def test_install_upgrade_uninstall_reinstall(addon):
    manifest = ast.literal_eval((ROOT / addon / "__manifest__.py").read_text())
    # Named after the suite's database, so that two checkouts testing at once
    # do not drop each other's.
    prefix = os.environ.get("LEAD_SCORING_TEST_DB", "lead_scoring")
    db = Database(f"{prefix}_lifecycle_{addon}")
    db.drop()
    db.odoo("dependencies", "-i", ",".join(manifest["depends"]), "--without-demo=all")
    uninstall = (
        f"env['ir.module.module'].search([('name', '=', {addon!r})])"
        ".button_immediate_uninstall()\nenv.cr.commit()\n"
    )
    if manifest.get("auto_install"):
        # It came with its dependencies, as it should: start without it.
        state = db._sql(
            db.name, f"SELECT state FROM ir_module_module WHERE name = '{addon}'"
        )
        assert state == [("installed",)], f"{addon} did not install by itself"
        assert_clean(
            db.odoo("first-uninstall", "shell", stdin=uninstall),
            f"Uninstalling {addon}",
        )
    before = db.snapshot()

    assert_clean(
        db.odoo("install", "-i", addon, "--without-demo=all"), f"Installing {addon}"
    )
    installed = db.snapshot()
    assert installed - before, f"installing {addon} added nothing"
    assert_clean(db.odoo("upgrade", "-u", addon), f"Upgrading {addon}")

    assert_clean(
        db.odoo("uninstall", "shell", stdin=uninstall), f"Uninstalling {addon}"
    )
    left = db.snapshot() - before
    assert not left, f"uninstalling {addon} left behind: {sorted(left)}"

    assert_clean(
        db.odoo("reinstall", "-i", addon, "--without-demo=all"), f"Reinstalling {addon}"
    )
    assert _kinds(db.snapshot() - before) == _kinds(installed - before)
    db.drop()
