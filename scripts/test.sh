#!/usr/bin/env bash
# The whole test suite: lint, a fresh database with the three addons (its
# install log must be clean), then every test through pytest-odoo, HttpCase
# tests and browser tours included, and the root tests/ (install, upgrade and
# uninstall of each addon). Extra arguments go to pytest.
source "$(dirname "$0")/lib.sh"
cd "$REPO_DIR"

bash "$REPO_DIR/scripts/bootstrap.sh"
bash "$REPO_DIR/scripts/lint.sh"

# The test server (lib.sh): fast, not durable, for databases made to be dropped.
pg_use test
pg_was_running=1
pg_running || pg_was_running=0
pg_start
[ "$pg_was_running" = 1 ] || trap pg_stop EXIT

# Its own port, so that a running `make run` does not stand in the way; its
# own database, configuration and logs, so that two checkouts can test at once.
TEST_DB=${LEAD_SCORING_TEST_DB:-lead_scoring_test}
TEST_PORT=${LEAD_SCORING_TEST_PORT:-18069}
TEST_CONF=$CACHE_DIR/odoo-$TEST_DB.conf
LOG_DIR=$CACHE_DIR/test-logs/$TEST_DB
mkdir -p "$LOG_DIR"
write_test_conf "$TEST_CONF" -e "s/^http_port = .*/http_port = $TEST_PORT/" \
  -e "s/^gevent_port = .*/gevent_port = $((TEST_PORT + 3))/"

say "Installing $ADDONS into a fresh database $TEST_DB"
psql_run -d postgres -c "DROP DATABASE IF EXISTS $TEST_DB" 2>/dev/null
"$PY" "$ODOO_DIR/odoo-bin" -c "$TEST_CONF" -d "$TEST_DB" -i "$ADDONS,privacy_lookup" --stop-after-init \
  --log-level=info --logfile="$LOG_DIR/install.log"
bash "$REPO_DIR/scripts/check_log.sh" "$LOG_DIR/install.log"

say "Running the tests"
export LEAD_SCORING_PYTHON=$PY LEAD_SCORING_ODOO_BIN=$ODOO_DIR/odoo-bin
export LEAD_SCORING_ODOO_CONF=$TEST_CONF LEAD_SCORING_LOG_DIR=$LOG_DIR
export LEAD_SCORING_TEST_DB=$TEST_DB
export PYTHONPATH=$ODOO_DIR${PYTHONPATH:+:$PYTHONPATH}
"$VENV/bin/pytest" --odoo-config="$TEST_CONF" --odoo-database="$TEST_DB" --odoo-http \
  --odoo-log-level=warn "$@"
