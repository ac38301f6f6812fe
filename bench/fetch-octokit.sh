#!/usr/bin/env bash
# Fetches the large real specs the ingest benchmarks run on into bench-cache/
# (git-ignored): `npm pack @octokit/openapi@23.0.2`, then keeps
#   bench-cache/octokit/api.github.com.json   (13 MB, 1,223 operations, OAS 3.0.3)
#   bench-cache/octokit/ghec.deref.json       (78 MB, 1,471 operations, fully dereferenced)
# Safe to re-run: it does nothing when both files are there.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
out="$root/bench-cache/octokit"
if [[ -s "$out/api.github.com.json" && -s "$out/ghec.deref.json" ]]; then
  echo "already cached in $out"
  exit 0
fi
mkdir -p "$out"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent @octokit/openapi@23.0.2 >/dev/null)
tar -xzf "$work"/octokit-openapi-23.0.2.tgz -C "$work"
cp "$work/package/generated/api.github.com.json" "$work/package/generated/ghec.deref.json" "$out/"
ls -l "$out"
