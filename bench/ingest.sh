#!/usr/bin/env bash
# Ingest figures for the large specs, each measured in a fresh process:
# opdeck's load time (bytes → Document, plus every operation's input schema)
# and peak RSS (VmHWM), beside Python's `json.load` time and peak RSS on the
# same file, and the ratios.
#
# Targets: api.github.com.json ≤ 100 ms and peak RSS ≤ 3× the file size;
# ghec.deref.json ≤ 1 s and ≤ 400 MB.
#
# The files come from bench/fetch-octokit.sh (cached in bench-cache/).
# The criterion benchmarks (`cargo bench -p opdeck --bench ingest`) time the
# same path on these files and on the specs of tests/specs.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cache="$root/bench-cache/octokit"
files=("$cache/api.github.com.json" "$cache/ghec.deref.json")
for f in "${files[@]}"; do
  if [[ ! -s "$f" ]]; then
    echo "missing $f; fetch it with: bench/fetch-octokit.sh" >&2
    exit 1
  fi
done
cargo build --release -q -p opdeck --example ingest_probe --manifest-path "$root/Cargo.toml"
probe="$root/target/release/examples/ingest_probe"
printf '%-22s %6s %6s %10s %10s %10s %10s %8s %8s %7s\n' \
  file MB ops opdeck_ms rss_MB py_ms py_rss_MB ms_ratio rss_ratio rss/size
for f in "${files[@]}"; do
  # Five fresh processes each, interleaved; the medians are reported.
  ours="" py=""
  for _ in 1 2 3 4 5; do
    ours+="$("$probe" "$f" github)"$'\n'
    py+="$(python3 - "$f" <<'PY'
import json, resource, sys, time
t = time.perf_counter()
with open(sys.argv[1], "rb") as fh:
    json.load(fh)
ms = (time.perf_counter() - t) * 1000
print(json.dumps({"ms": ms, "rss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))
PY
)"$'\n'
  done
  python3 - "$ours" "$py" "$(basename "$f")" <<'PY'
import json, sys
def median(text, key):
    runs = sorted((json.loads(l) for l in text.splitlines() if l.strip()), key=lambda r: r[key])
    return runs[len(runs) // 2]
o, p, name = median(sys.argv[1], "load_and_schemas_ms"), median(sys.argv[2], "ms"), sys.argv[3]
mb = o["bytes"] / 1e6
rss, prss = o["peak_rss_kb"] / 1024, p["rss_kb"] / 1024
ms = o["load_and_schemas_ms"]
print(f'{name:<22} {mb:6.1f} {o["operations"]:6d} {ms:10.1f} {rss:10.1f} {p["ms"]:10.1f} {prss:10.1f} {ms / p["ms"]:8.2f} {rss / prss:8.2f} {o["peak_rss_kb"] * 1024 / o["bytes"]:7.2f}')
PY
done
