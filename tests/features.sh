#!/usr/bin/env bash
# The library's cargo features: a host that turns the defaults off compiles
# none of the CLI's or the optional layers' crates, and every feature builds
# alone. Run by tests/run-all.sh; `bash tests/features.sh` on its own too.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

echo "-- cargo tree: opdeck with default-features = false"
heavy='^(clap|clap_builder|indicatif|csv|rhai|toml|dirs|mlua|pyo3) '
found="$(cargo tree -p opdeck --no-default-features -e normal --prefix none | sort -u | grep -E "$heavy" || true)"
if [ -n "$found" ]; then
  echo "a minimal opdeck build still pulls in:"; echo "$found"; exit 1
fi
echo "none of clap, indicatif, csv, rhai, toml, dirs in the minimal build"

for features in "" catalogs simulator scripting config-file; do
  echo "-- cargo clippy -p opdeck --no-default-features --features '$features'"
  cargo clippy -q -p opdeck --no-default-features --features "$features" --lib -- -D warnings
done

echo "-- the host example"
cargo run -q -p opdeck --example host
