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

# PostgreSQL refuses to run as root: as root the server runs as "postgres" and
# its data must sit where that user can reach it.
if [ "$(id -u)" = 0 ]; then
  PG_HOME=${LEAD_SCORING_PG_HOME:-/var/lib/lead-scoring/pg}
  PG_OWNER=postgres
else
  PG_HOME=${LEAD_SCORING_PG_HOME:-$CACHE_DIR/pg}
  PG_OWNER=$(id -un)
fi
PG_DATA=$PG_HOME/data
PG_SOCKET=$PG_HOME/run
PG_PORT=${LEAD_SCORING_PG_PORT:-5439}
PG_ROLE=odoo

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

as_pg_owner() {
  if [ "$(id -un)" = "$PG_OWNER" ]; then "$@"; else runuser -u "$PG_OWNER" -- "$@"; fi
}

pg_bin() {
  local dir
  dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  if [ -n "$dir" ] && [ -x "$dir/$1" ]; then echo "$dir/$1"; else command -v "$1"; fi
}

psql_run() { psql -X -q -h "$PG_SOCKET" -p "$PG_PORT" -U "$PG_ROLE" "$@"; }

pg_start() {
  if [ ! -f "$PG_DATA/PG_VERSION" ]; then
    say "Creating the private PostgreSQL cluster in $PG_DATA"
    mkdir -p "$PG_DATA" "$PG_SOCKET"
    chown -R "$PG_OWNER" "$PG_HOME"
    chmod 700 "$PG_HOME"
    as_pg_owner "$(pg_bin initdb)" -D "$PG_DATA" -A trust -U "$PG_OWNER" -E UTF8 \
      --locale=C.UTF-8 >/dev/null
  fi
  if ! as_pg_owner "$(pg_bin pg_ctl)" -D "$PG_DATA" status >/dev/null 2>&1; then
    mkdir -p "$PG_SOCKET" && chown "$PG_OWNER" "$PG_SOCKET"
    # No TCP at all: the server only listens on a unix socket in its own folder.
    as_pg_owner "$(pg_bin pg_ctl)" -D "$PG_DATA" -l "$PG_HOME/postgresql.log" -w \
      -o "-c listen_addresses='' -k $PG_SOCKET -p $PG_PORT -c fsync=off -c full_page_writes=off" \
      start >/dev/null
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
