#!/usr/bin/env bash
# Lint: ruff (lint and format) and pylint-odoo's mandatory checks.
source "$(dirname "$0")/lib.sh"
cd "$REPO_DIR"
say "ruff"
"$VENV/bin/ruff" check .
"$VENV/bin/ruff" format --check --diff .
say "pylint-odoo (mandatory checks)"
PYTHONPATH=$ODOO_DIR "$VENV/bin/pylint" --rcfile=.pylintrc-mandatory \
  lead_scoring lead_scoring_website lead_scoring_marketing lead_scoring_queue_job
say "readme fragments"
"$PY" "$REPO_DIR/scripts/gen_readme.py" --check
