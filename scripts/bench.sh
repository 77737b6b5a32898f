#!/usr/bin/env bash
# Builds a fresh benchmark database and runs scripts/bench.py on it.
# Usage: scripts/bench.sh [CONTACTS]   (default 100000)
source "$(dirname "$0")/lib.sh"
contacts=${1:-100000}
bash "$REPO_DIR/scripts/bootstrap.sh"
pg_start
db=lead_scoring_bench
psql_run -d postgres -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" 2>/dev/null
say "Installing the addons into $db (no demo data)"
odoo_bin -d "$db" -i "$ADDONS" --without-demo=all --stop-after-init --log-level=warn
say "Benchmark with $contacts contacts"
PYTHONPATH=$ODOO_DIR "$PY" "$REPO_DIR/scripts/bench.py" --config "$ODOO_CONF" --database "$db" \
  --contacts "$contacts"
