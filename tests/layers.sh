#!/usr/bin/env bash
# No import loop among the top-level modules of any crate (ARCHITECTURE.md,
# "Layers"). The checker is the workplace's modgraph.py, which lives beside
# the repository, not in it: set OPDECK_MODGRAPH to use another copy. Where
# it is absent the check fails under CI and is skipped, loudly, elsewhere.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
modgraph="${OPDECK_MODGRAPH:-../shared/tools/modgraph.py}"
if [ ! -f "$modgraph" ]; then
  if [ -n "${CI:-}" ]; then echo "modgraph.py not found at $modgraph (CI is set)"; exit 1; fi
  echo "SKIPPED: modgraph.py not found at $modgraph"; exit 0
fi
status=0
for src in core/src cli/src bindings-python/src bindings-lua/src; do
  [ -d "$src" ] || continue
  echo "-- $src"
  python3 "$modgraph" "$src" || status=1
done
exit "$status"
