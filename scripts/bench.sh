#!/usr/bin/env bash
# Builds a fresh benchmark database and runs scripts/bench.py on it.
# Usage: scripts/bench.sh [CONTACTS [RUNNER]]   (default 100000 inline)
# RUNNER: inline (this process), cron (a prefork server's job scheduler) or
# queue_job (its job runner, with lead_scoring_queue_job installed); or
# retention, CONTACTS then being the ledger's lines (bench_retention.py); or
# suggestion, CONTACTS then being the opportunities (bench_suggestion.py); or
# realtime, the speed to lead benchmark (bench_realtime.py).
# WORKERS: the server's workers (default 2).
source "$(dirname "$0")/lib.sh"
contacts=${1:-100000}
runner=${2:-inline}
bash "$REPO_DIR/scripts/bootstrap.sh"
pg_use test
pg_start
# LEAD_SCORING_BENCH_DB: another database (and template), so that two
# checkouts can run benchmarks at once.
db=${LEAD_SCORING_BENCH_DB:-lead_scoring_bench}
# This checkout's addons, whichever checkout wrote the shared configuration.
BENCH_CONF=$CACHE_DIR/odoo-$db.conf
[ "$db" = lead_scoring_bench ] && BENCH_CONF=$CACHE_DIR/odoo-bench.conf
write_test_conf "$BENCH_CONF"
template=${db}_template
# The addons installed without demo data, kept as a template while they do
# not change, so that a second benchmark starts in seconds.
code=$(git -C "$REPO_DIR" ls-files -s -- 'lead_scoring*' | sha1sum)
if ! db_exists "$template" || [ "$code" != "$(cat "$CACHE_DIR/$template.sha1" 2>/dev/null)" ]; then
  say "Installing the addons into $template (no demo data)"
  psql_run -d postgres -c "DROP DATABASE IF EXISTS $template WITH (FORCE)" 2>/dev/null
  "$PY" "$ODOO_DIR/odoo-bin" -c "$BENCH_CONF" -d "$template" -i "$ADDONS" --without-demo=all \
    --stop-after-init --log-level=warn
  printf '%s' "$code" >"$CACHE_DIR/$template.sha1"
fi
psql_run -d postgres -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" 2>/dev/null
psql_run -d postgres -c "CREATE DATABASE $db TEMPLATE $template"
if [ "$runner" = queue_job ]; then
  "$PY" "$ODOO_DIR/odoo-bin" -c "$BENCH_CONF" -d "$db" -i lead_scoring_queue_job \
    --stop-after-init --log-level=warn
fi
if [ "$runner" = realtime ]; then
  say "Speed to lead benchmark with $contacts contacts"
  PYTHONPATH=$ODOO_DIR "$PY" "$REPO_DIR/scripts/bench_realtime.py" --config "$BENCH_CONF" \
    --database "$db" --contacts "$contacts" ${BENCH_ARGS:-}
  exit
fi
if [ "$runner" = retention ]; then
  say "Retention benchmark with $contacts ledger lines"
  PYTHONPATH=$ODOO_DIR "$PY" "$REPO_DIR/scripts/bench_retention.py" --config "$BENCH_CONF" \
    --database "$db" --lines "$contacts"
  exit
fi
if [ "$runner" = suggestion ]; then
  say "Suggested points benchmark with $contacts opportunities"
  PYTHONPATH=$ODOO_DIR "$PY" "$REPO_DIR/scripts/bench_suggestion.py" --config "$BENCH_CONF" \
    --database "$db" --opportunities "$contacts"
  exit
fi
say "Benchmark with $contacts contacts, first run: $runner"
PYTHONPATH=$ODOO_DIR "$PY" "$REPO_DIR/scripts/bench.py" --config "$BENCH_CONF" --database "$db" \
  --contacts "$contacts" --runner "$runner" --workers "${WORKERS:-2}"
