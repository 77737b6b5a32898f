#!/usr/bin/env bash
# Lint: the hooks of .pre-commit-config.yaml on every file of the repository
# (ruff, pylint-odoo's mandatory checks, OCA's manifest, XML and translation
# checks, readme fragments), with the tools of the project's virtualenv.
source "$(dirname "$0")/lib.sh"
cd "$REPO_DIR"
export PATH=$VENV/bin:$PATH PYTHONPATH=$ODOO_DIR PRE_COMMIT_HOME=$CACHE_DIR/pre-commit
"$VENV/bin/pre-commit" run --all-files
