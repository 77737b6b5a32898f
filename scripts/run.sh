#!/usr/bin/env bash
# Runs the product: installs what is missing, creates the demo database with
# the three addons on first use, then serves Odoo on http://localhost:8069.
# Its database lives on the private durable PostgreSQL server ("run"), or on
# a server of your own named by LEAD_SCORING_DB_HOST and friends (docs/development.md).
source "$(dirname "$0")/lib.sh"
cd "$REPO_DIR"
bash "$REPO_DIR/scripts/bootstrap.sh"
use_run_server
[ -n "${LEAD_SCORING_DB_HOST:-}" ] || pg_start

PID_FILE=$CACHE_DIR/odoo.pid
LOG_FILE=$CACHE_DIR/odoo.log
if [ -f "$PID_FILE" ] && kill -0 "$(cat "$PID_FILE")" 2>/dev/null; then
  say "Odoo is already running (pid $(cat "$PID_FILE"))"
else
  stamp=$CACHE_DIR/addons.sha1
  code=$(git -C "$REPO_DIR" ls-files -s -- 'lead_scoring*' | sha1sum)
  if ! db_exists "$RUN_DB"; then
    step run "Creating the database $RUN_DB with demo data (a few minutes, once)" \
      odoo_bin -d "$RUN_DB" -i "$ADDONS" --stop-after-init --log-level=warn
    printf '%s' "$code" >"$stamp"
  elif [ "$code" != "$(cat "$stamp" 2>/dev/null)" ]; then
    step run "Updating the addons in $RUN_DB" \
      odoo_bin -d "$RUN_DB" -u "$ADDONS" --stop-after-init --log-level=warn
    printf '%s' "$code" >"$stamp"
  fi
  say "Starting Odoo"
  nohup "$PY" "$ODOO_DIR/odoo-bin" -c "$ODOO_CONF" -d "$RUN_DB" --db-filter="^$RUN_DB\$" \
    --logfile="$LOG_FILE" >/dev/null 2>&1 &
  echo $! >"$PID_FILE"
  for _ in $(seq 60); do
    curl -fsS -o /dev/null "http://localhost:$HTTP_PORT/web/login" 2>/dev/null && break
    kill -0 "$(cat "$PID_FILE")" 2>/dev/null || die "Odoo stopped, see $LOG_FILE"
    sleep 1
  done
fi
cat <<MSG

  Lead Scoring for Odoo 18 is running on http://localhost:$HTTP_PORT
  Log in with  admin / admin   (database $RUN_DB, log in $LOG_FILE)
  Stop it with make stop.

MSG
