# shellcheck shell=bash
# Shared settings of the project's scripts: where Odoo, the virtualenv and the
# private PostgreSQL server live. Everything is kept outside the checkout, in a
# cache that later runs (and CI) find without any environment variable.
set -euo pipefail

REPO_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CACHE_DIR=${LEAD_SCORING_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/lead-scoring}
ODOO_DIR=$CACHE_DIR/odoo
VENV=$CACHE_DIR/venv
PY=$VENV/bin/python
ODOO_CONF=$CACHE_DIR/odoo.conf
ODOO_DEFAULT_SRC=https://github.com/odoo/odoo.git
ODOO_BRANCH=${ODOO_BRANCH:-18.0}
ADDONS=lead_scoring,lead_scoring_website,lead_scoring_marketing
RUN_DB=${LEAD_SCORING_DB:-lead_scoring}
HTTP_PORT=${LEAD_SCORING_PORT:-8069}

# PostgreSQL refuses to run as root: as root the servers run as "postgres" and
# their data must sit where that user can reach it.
if [ "$(id -u)" = 0 ]; then
  PG_BASE=/var/lib/lead-scoring
  PG_OWNER=postgres
else
  PG_BASE=$CACHE_DIR
  PG_OWNER=$(id -un)
fi
PG_ROLE=odoo
LOG_HOME=$CACHE_DIR/logs

# Two private PostgreSQL servers (clusters), each with its own data, unix socket
# and port. "run" keeps `make run`'s database and is durable (PostgreSQL's
# defaults); "test" serves the tests and the benchmark, whose databases are
# thrown away, and trades durability for speed (no fsync, no full-page writes).
# `pg_use NAME` picks the one that the pg_* and psql_run functions below act on.
pg_use() {
  case $1 in
    test)
      PG_HOME=${LEAD_SCORING_PG_HOME:-$PG_BASE/pg}
      PG_PORT=${LEAD_SCORING_PG_PORT:-5439}
      PG_SETTINGS="-c fsync=off -c full_page_writes=off"
      ;;
    run)
      PG_HOME=${LEAD_SCORING_RUN_PG_HOME:-$PG_BASE/pg-run}
      PG_PORT=${LEAD_SCORING_RUN_PG_PORT:-5440}
      PG_SETTINGS=""
      ;;
    *) die "pg_use: no PostgreSQL server named '$1' (test or run)" ;;
  esac
  PG_DATA=$PG_HOME/data
  PG_SOCKET=$PG_HOME/run
  DB_HOST=$PG_SOCKET DB_PORT=$PG_PORT DB_USER=$PG_ROLE DB_PASSWORD=False
}

# `make run`'s database server: the private durable one, or a server of your
# own when LEAD_SCORING_DB_HOST is set (see docs/development.md).
use_run_server() {
  if [ -n "${LEAD_SCORING_DB_HOST:-}" ]; then
    DB_HOST=$LEAD_SCORING_DB_HOST
    DB_PORT=${LEAD_SCORING_DB_PORT:-5432}
    DB_USER=${LEAD_SCORING_DB_USER:-$PG_ROLE}
    DB_PASSWORD=${LEAD_SCORING_DB_PASSWORD:-False}
  else
    pg_use run
  fi
}

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# step LOG TITLE COMMAND...: runs one step of the setup with all its output
# (pip's, Odoo's) in $LOG_HOME/LOG.log, and prints one line. When the step
# fails, it prints the end of that log and where the whole log is.
# A process's first step into a log starts it anew; the next ones add to it.
_STEP_LOGS=" "
step() {
  local log=$LOG_HOME/$1.log title=$2 rc=0
  shift 2
  mkdir -p "$LOG_HOME"
  case $_STEP_LOGS in
    *" $log "*) ;;
    *) : >"$log" && _STEP_LOGS+="$log " ;;
  esac
  say "$title"
  printf '\n==> %s (%s)\n$ %s\n' "$title" "$(date '+%F %T')" "$*" >>"$log"
  # One command, not a function of several: `set -e` is off in the body of a
  # function run as a condition, which would go on after a failed command.
  "$@" >>"$log" 2>&1 </dev/null || rc=$?
  [ "$rc" = 0 ] && return 0
  printf '\033[1;31merror:\033[0m %s failed (exit status %s); the end of its log:\n' \
    "$title" "$rc" >&2
  tail -n "${STEP_TAIL_LINES:-25}" "$log" | sed 's/^/  | /' >&2
  printf 'The whole log: %s\n' "$log" >&2
  return "$rc"
}

as_pg_owner() {
  if [ "$(id -un)" = "$PG_OWNER" ]; then "$@"; else runuser -u "$PG_OWNER" -- "$@"; fi
}

pg_bin() {
  local dir
  dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  if [ -n "$dir" ] && [ -x "$dir/$1" ]; then echo "$dir/$1"; else command -v "$1"; fi
}

psql_run() {
  local password=$DB_PASSWORD
  [ "$password" != False ] || password=
  PGPASSWORD=$password psql -X -q -h "$DB_HOST" -p "$DB_PORT" -U "$DB_USER" "$@"
}

pg_running() { as_pg_owner "$(pg_bin pg_ctl)" -D "$PG_DATA" status >/dev/null 2>&1; }

pg_start() {
  if [ ! -f "$PG_DATA/PG_VERSION" ]; then
    say "Creating a private PostgreSQL server in $PG_DATA"
    mkdir -p "$PG_DATA" "$PG_SOCKET"
    chown -R "$PG_OWNER" "$PG_HOME"
    chmod 700 "$PG_HOME"
    as_pg_owner "$(pg_bin initdb)" -D "$PG_DATA" -A trust -U "$PG_OWNER" -E UTF8 \
      --locale=C.UTF-8 >/dev/null
  fi
  if ! pg_running; then
    mkdir -p "$PG_SOCKET" && chown "$PG_OWNER" "$PG_SOCKET"
    # No TCP at all: the server only listens on a unix socket in its own folder.
    as_pg_owner "$(pg_bin pg_ctl)" -D "$PG_DATA" -l "$PG_HOME/postgresql.log" -w \
      -o "-c listen_addresses='' -k $PG_SOCKET -p $PG_PORT $PG_SETTINGS" start >/dev/null
  fi
  if ! as_pg_owner psql -X -q -h "$PG_SOCKET" -p "$PG_PORT" -U "$PG_OWNER" -d postgres -tAc \
      "SELECT 1 FROM pg_roles WHERE rolname='$PG_ROLE'" | grep -q 1; then
    as_pg_owner psql -X -q -h "$PG_SOCKET" -p "$PG_PORT" -U "$PG_OWNER" -d postgres \
      -c "CREATE ROLE $PG_ROLE SUPERUSER LOGIN"
  fi
}

pg_stop() {
  if [ -f "$PG_DATA/PG_VERSION" ]; then
    as_pg_owner "$(pg_bin pg_ctl)" -D "$PG_DATA" -m fast stop >/dev/null 2>&1 || true
  fi
}

db_exists() { psql_run -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname='$1'" | grep -q 1; }

odoo_bin() { "$PY" "$ODOO_DIR/odoo-bin" -c "$ODOO_CONF" "$@"; }

# A copy of odoo.conf for this checkout's addons on the test server; more sed
# expressions may follow the file's name.
write_test_conf() {
  local out=$1
  shift
  sed -e "s|^addons_path = [^,]*,|addons_path = $REPO_DIR,|" \
    -e "s|^db_host = .*|db_host = $PG_SOCKET|" -e "s|^db_port = .*|db_port = $PG_PORT|" \
    -e "s|^db_user = .*|db_user = $PG_ROLE|" -e "s|^db_password = .*|db_password = False|" \
    "$@" "$ODOO_CONF" >"$out"
}

pg_use test
