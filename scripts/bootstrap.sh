#!/usr/bin/env bash
# Installs everything the project needs, reusing what an earlier run installed:
# Debian packages, the Odoo 18 source, a virtualenv with Odoo's pinned Python
# dependencies, our OCA dependencies from PyPI, and the Odoo configuration file.
# It prints one line per step and a summary; the tools' own output goes to
# log files in $LOG_HOME, shown only when a step fails.
source "$(dirname "$0")/lib.sh"
started=$SECONDS
done_steps=()

install_system_packages() {
  local missing=()
  [ -n "$(pg_bin initdb)" ] || missing+=(postgresql)
  command -v pg_config >/dev/null || missing+=(libpq-dev)
  [ -f /usr/include/ldap.h ] || missing+=(libldap2-dev)
  [ -f /usr/include/sasl/sasl.h ] || missing+=(libsasl2-dev)
  command -v gcc >/dev/null || missing+=(build-essential)
  command -v git >/dev/null || missing+=(git)
  # Odoo's browser tests look for any of these.
  command -v chromium >/dev/null || command -v chromium-browser >/dev/null \
    || command -v google-chrome >/dev/null || missing+=(chromium)
  [ ${#missing[@]} -eq 0 ] && return
  local sudo=()
  [ "$(id -u)" = 0 ] || sudo=(sudo)
  step setup "Updating the list of Debian packages" "${sudo[@]}" apt-get update
  step setup "Installing Debian packages: ${missing[*]}" "${sudo[@]}" \
    env DEBIAN_FRONTEND=noninteractive apt-get install -y "${missing[@]}"
  done_steps+=("Debian packages")
}

# ODOO_SRC may be a git URL, a git directory (bare or not) or a plain source tree.
fetch_odoo_source() {
  local src=${ODOO_SRC:-}
  if [ -f "$ODOO_DIR/odoo-bin" ] && { [ -z "$src" ] || [ "$src" = "$(cat "$CACHE_DIR/odoo.source" 2>/dev/null)" ]; }; then
    return
  fi
  local tmp="$ODOO_DIR.new"
  rm -rf "$tmp"
  mkdir -p "$CACHE_DIR"
  if [ -z "$src" ]; then
    src=$ODOO_DEFAULT_SRC
    say "Odoo $ODOO_BRANCH comes from $src (set ODOO_SRC to use another source)"
    if ! timeout 30 git ls-remote --heads "$src" "$ODOO_BRANCH" >/dev/null 2>&1; then
      die "no Odoo 18 source: $src cannot be reached. Run again with ODOO_SRC set to
a local Odoo 18 source tree or git directory, or to a git URL, for example
  ODOO_SRC=/path/to/odoo-18.0 make run
It is cached in $CACHE_DIR, so later runs do not need it."
    fi
  fi
  if [ -d "$src" ] && [ -f "$src/odoo-bin" ] && [ ! -d "$src/.git" ]; then
    step setup "Copying Odoo from $src" cp -a "$src" "$tmp"
  elif [ -d "$src" ]; then
    step setup "Cloning Odoo from $src" git clone --depth 1 "file://$(cd "$src" && pwd)" "$tmp"
  else
    step setup "Cloning Odoo $ODOO_BRANCH (a few minutes, once)" \
      git clone --depth 1 --branch "$ODOO_BRANCH" "$src" "$tmp"
  fi
  grep -q "version_info = (18, 0" "$tmp/odoo/release.py" 2>/dev/null \
    || { rm -rf "$tmp"; die "$src is not an Odoo 18.0 source tree"; }
  rm -rf "$ODOO_DIR" "$VENV"
  mv "$tmp" "$ODOO_DIR"
  printf '%s' "${ODOO_SRC:-$ODOO_DEFAULT_SRC}" >"$CACHE_DIR/odoo.source"
  done_steps+=("Odoo source")
}

# Odoo's pins for Python 3.12 install from wheels on 3.11 too, its own 3.11 pins
# do not all build any more (cbor2). They also serve as constraints so that no
# later install (OCA wheels, test tools) can move them.
write_odoo_pins() {
  "$PY" - "$ODOO_DIR/requirements.txt" "$CACHE_DIR/odoo-pins.txt" <<'PYEOF'
import sys
from pip._vendor.packaging.requirements import Requirement

env = {"python_version": "3.12", "python_full_version": "3.12.3",
       "sys_platform": "linux", "platform_system": "Linux"}
pins = []
for line in open(sys.argv[1]):
    line = line.split("#", 1)[0].strip()
    if not line:
        continue
    req = Requirement(line)
    if req.marker is None or req.marker.evaluate(env):
        req.marker = None
        pins.append(str(req))
open(sys.argv[2], "w").write("\n".join(pins) + "\n")
PYEOF
}

install_python_packages() {
  local stamp=$VENV/.installed
  local want
  want=$(cat "$ODOO_DIR/requirements.txt" "$REPO_DIR/requirements.txt" "$REPO_DIR/requirements-dev.txt" | sha1sum)
  [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && return
  [ -x "$PY" ] || step setup "Creating the virtualenv $VENV" python3 -m venv "$VENV"
  step setup "Updating pip, wheel and setuptools" \
    "$PY" -m pip install --upgrade pip wheel "setuptools<81"
  write_odoo_pins
  step setup "Installing Odoo's Python dependencies (a few minutes, once)" \
    "$PY" -m pip install -r "$CACHE_DIR/odoo-pins.txt"
  step setup "Installing Odoo into the virtualenv" "$PY" -m pip install --no-deps -e "$ODOO_DIR"
  step setup "Installing OCA addons and test tools" \
    "$PY" -m pip install -c "$CACHE_DIR/odoo-pins.txt" -r "$REPO_DIR/requirements.txt" \
    -r "$REPO_DIR/requirements-dev.txt"
  # Conflicts are reported in the log, they do not stop the setup.
  "$PY" -m pip check >>"$LOG_HOME/setup.log" 2>&1 \
    || say "pip check found conflicts, see $LOG_HOME/setup.log"
  printf '%s' "$want" >"$stamp"
  done_steps+=("Python packages")
}

write_odoo_conf() {
  local addons=$ODOO_DIR/odoo/addons
  # The official repository keeps its addons beside the odoo package.
  [ -f "$addons/web/__manifest__.py" ] || addons=$ODOO_DIR/addons,$addons
  local site
  site=$("$PY" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
  cat >"$ODOO_CONF" <<CONF
[options]
addons_path = $REPO_DIR,$addons,$site/odoo/addons
data_dir = $CACHE_DIR/data
db_host = $DB_HOST
db_port = $DB_PORT
db_user = $DB_USER
db_password = $DB_PASSWORD
admin_passwd = admin
http_port = $HTTP_PORT
http_interface = 127.0.0.1
gevent_port = $((HTTP_PORT + 3))
list_db = True
without_demo = False
CONF
}

install_system_packages
fetch_odoo_source
install_python_packages
use_run_server
write_odoo_conf
if [ ${#done_steps[@]} -eq 0 ]; then
  say "Odoo 18 and its Python packages are installed (in $CACHE_DIR)"
else
  say "Installed: ${done_steps[*]} in $((SECONDS - started)) s (log: $LOG_HOME/setup.log)"
fi
