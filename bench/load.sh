#!/usr/bin/env bash
# Issue #5 point 6, the load test: single-record disclosure decisions over
# HTTP on loopback. Target: >= 10,000 decisions/s, p99 < 10 ms, no errors,
# flat memory (on SQLite; PostgreSQL reported too).
#
# Builds the release server, makes a database of N mothers (custody gen, the
# Emma's Diary case: both notices, the 2017 events, the 2018 re-consents),
# starts `custody serve` on loopback, creates a collector key, and drives
# `POST /v1/orgs/emmas-diary/disclosures` naming one random mother each, from
# many connections (crates/server/benches/load.rs), then checks the log.
#
# Usage: bench/load.sh [--db sqlite|postgres] [--subjects N] [--seconds S]
#                      [--connections C] [--threads T]
# PostgreSQL: a fresh schema in postgres://postgres@127.0.0.1:5432/test
# (override with PG_URL, a database URL without options).
set -euo pipefail
backend=sqlite subjects=100000 seconds=60 connections=64 threads=1
while [ $# -gt 0 ]; do
  case "$1" in
    --db) backend=$2; shift 2 ;;
    --subjects) subjects=$2; shift 2 ;;
    --seconds) seconds=$2; shift 2 ;;
    --connections) connections=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done
root=$(cd "$(dirname "$0")/.." && pwd)
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$root/target}
# CUSTODY_BIN: a custody built earlier, to measure instead of this
# checkout's (bench/durability.sh).
if [ -z "${CUSTODY_BIN:-}" ]; then
  cargo build --release -q --manifest-path "$root/Cargo.toml" -p custody-cli
fi
cargo bench --no-run -q --manifest-path "$root/Cargo.toml" -p custody-server --bench load 2>/dev/null
bin="${CUSTODY_BIN:-$CARGO_TARGET_DIR/release/custody}"
work=$(mktemp -d)
server= schema=
cleanup() {
  if [ -n "$server" ]; then kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; fi
  if [ -n "${schema:-}" ]; then psql "$pg" -qc "DROP SCHEMA $schema CASCADE" >/dev/null 2>&1 || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

case "$backend" in
  sqlite) db="$work/custody.db"; keyargs=() ;;
  postgres)
    pg=${PG_URL:-postgres://postgres@127.0.0.1:5432/test}
    schema="custody_load_$$_$(date +%s)"
    psql "$pg" -qc "CREATE SCHEMA $schema"
    db="$pg?options=-c%20search_path%3D$schema"
    "$bin" --db "$work/keygen.db" --signing-key "$work/custody.key" init >/dev/null 2>&1
    keyargs=(--signing-key "$work/custody.key") ;;
  *) echo "--db sqlite or postgres" >&2; exit 2 ;;
esac
c() { "$bin" --db "$db" "${keyargs[@]}" "$@"; }

echo "== a database of $subjects mothers ($backend)"
t0=$(date +%s)
"$bin" gen --subjects "$subjects" --out "$work/data" >/dev/null
c init >/dev/null 2>&1 || true
c org add emmas-diary --name "Emma's Diary" --role controller >/dev/null
c org add experian --name "Experian Marketing Services" --role broker >/dev/null
c org add labour --name "The Labour Party" --role campaign >/dev/null
c notice publish emmas-diary "$work/data/notice-2017.toml" >/dev/null
c collect emmas-diary "$work/data/signups.csv" --notice 2017 >/dev/null
c consent emmas-diary --file "$work/data/preferences-2017.csv" >/dev/null
c notice publish emmas-diary "$work/data/notice-2018-05.toml" >/dev/null
c consent emmas-diary --file "$work/data/reconsents-2018.csv" >/dev/null
token=$(c key create emmas-diary --role collector 2>/dev/null)
echo "made in $(( $(date +%s) - t0 )) s"

port=$(( 20000 + $$ % 20000 ))
# Not through `c`: $! must be the server itself, to measure and stop it.
RUST_LOG=warn "$bin" --db "$db" "${keyargs[@]}" serve --listen "127.0.0.1:$port" 2>"$work/serve.log" &
server=$!
for _ in $(seq 100); do
  curl -sf "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break
  sleep 0.1
done
echo "== custody serve (pid $server) on 127.0.0.1:$port; $(nproc) cores shared by the server and the load generator"
# PROFILE=FILE: also record where the server spends its time (perf).
if [ -n "${PROFILE:-}" ]; then
  (sleep 5; perf record -q -F 299 -g -p "$server" -o "$PROFILE" -- sleep 10 >/dev/null 2>&1) &
fi
set +e
cargo bench -q --manifest-path "$root/Cargo.toml" -p custody-server --bench load -- \
  --url "http://127.0.0.1:$port" --token "$token" --subjects "$work/data/subjects.csv" \
  --connections "$connections" --seconds "$seconds" --threads "$threads" --pid "$server"
status=$?
curl -s "http://127.0.0.1:$port/metrics" | grep -E '^custody_group_commit_batch_size(_sum|_count)' || true
kill "$server"; wait "$server" 2>/dev/null || true; server=
echo "== after the run"
c log verify | tail -3
exit $status
