#!/usr/bin/env bash
# Issue 13 point 6, audit starvation: two reader-key clients loop on the
# audit (one on the API, one on the web page) while a collector records
# one person's objection to direct marketing at a time (each grows the log,
# so the cached audit is always stale) and other clients read one person's
# trace at a time.
# Target: the reads' p99 under 50 ms (the driver exits 1 past it, or on any
# error). Run first without the auditors, for the reads' own figures, then
# with them.
#
# Usage: bench/audit_starvation.sh [--subjects N] [--seconds S] [--readers R]
set -euo pipefail
subjects=100000 seconds=15 readers=4
while [ $# -gt 0 ]; do
  case "$1" in
    --subjects) subjects=$2; shift 2 ;;
    --seconds) seconds=$2; shift 2 ;;
    --readers) readers=$2; shift 2 ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done
root=$(cd "$(dirname "$0")/.." && pwd)
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$root/target}
cargo build --release -q --manifest-path "$root/Cargo.toml" -p custody-cli
cargo bench --no-run -q --manifest-path "$root/Cargo.toml" -p custody-server --bench audit_starvation 2>/dev/null
bin="$CARGO_TARGET_DIR/release/custody"
work=$(mktemp -d)
server=
cleanup() {
  if [ -n "$server" ]; then kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

echo "== the demo's database, $subjects mothers"
"$bin" demo --subjects "$subjects" --dir "$work" >/dev/null
c() { "$bin" --db "$work/custody.db" --signing-key "$work/custody.key" "$@"; }
reader=$(c key create emmas-diary --role reader 2>/dev/null)
collector=$(c key create emmas-diary --role collector 2>/dev/null)

port=$(( 20000 + $$ % 20000 ))
RUST_LOG=warn "$bin" --db "$work/custody.db" --signing-key "$work/custody.key" \
  serve --listen "127.0.0.1:$port" 2>"$work/serve.log" &
server=$!
for _ in $(seq 100); do
  curl -sf "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break
  sleep 0.1
done
t0=$(date +%s.%N)
curl -sf -H "authorization: Bearer $reader" "http://127.0.0.1:$port/v1/orgs/emmas-diary/audit" >/dev/null
echo "== one audit, computed: $(echo "$(date +%s.%N) - $t0" | bc) s; $(nproc) cores shared by the server and the clients"
drive() {
  cargo bench -q --manifest-path "$root/Cargo.toml" -p custody-server --bench audit_starvation -- \
    --url "http://127.0.0.1:$port" --reader "$reader" --collector "$collector" \
    --subjects "$work/subjects.csv" --readers "$readers" --seconds "$seconds" "$@"
}
echo "== without auditors"
drive --auditors 0
echo "== with two auditors (API and page)"
drive --auditors 2
