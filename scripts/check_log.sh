#!/usr/bin/env bash
# Fails when an Odoo log has a WARNING, ERROR or CRITICAL line (as OCA's CI does).
log=$1
if grep -E '^[0-9-]+ [0-9:,]+ [0-9]+ (WARNING|ERROR|CRITICAL) ' "$log"; then
  echo "error: Odoo logged warnings or errors in $log (see above)" >&2
  exit 1
fi
