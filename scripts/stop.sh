#!/usr/bin/env bash
# Stops what `make run` started: Odoo and its private PostgreSQL server.
source "$(dirname "$0")/lib.sh"
PID_FILE=$CACHE_DIR/odoo.pid
if [ -f "$PID_FILE" ] && kill -0 "$(cat "$PID_FILE")" 2>/dev/null; then
  kill "$(cat "$PID_FILE")"
  for _ in $(seq 20); do kill -0 "$(cat "$PID_FILE")" 2>/dev/null || break; sleep 0.5; done
  say "Odoo stopped"
fi
rm -f "$PID_FILE"
use_run_server
if [ -z "${LEAD_SCORING_DB_HOST:-}" ]; then
  pg_stop
  say "PostgreSQL stopped"
fi
