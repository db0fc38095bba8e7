#!/usr/bin/env bash
# Issue 13, point 4: what durability costs. custody's SQLite store commits
# with `synchronous = FULL` (a commit is synced before it is acknowledged);
# this builds the checkout twice in release mode, as it is and with the
# benchmark-only feature `bench-sync-normal` (`synchronous = NORMAL`, which
# a power cut can undo), and measures both side by side, alternating:
#   - the demo's 2017 share of 1,065,220 records (vouched, as a user runs it);
#   - the load test (bench/load.sh: single-record decisions over HTTP).
# Prints each run and the medians.
# Usage: bench/durability.sh [RUNS (default 3)] [LOAD_SECONDS (default 20)]
set -euo pipefail
runs=${1:-3}
seconds=${2:-20}
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/full" "$work/normal"

cargo build --release -q --manifest-path "$root/Cargo.toml" -p custody-cli
cp "$root/target/release/custody" "$work/full/custody"
cargo build --release -q --manifest-path "$root/Cargo.toml" -p custody-cli --features bench-sync-normal
cp "$root/target/release/custody" "$work/normal/custody"
# Back to the build a user gets, so target/release is not left weakened.
cargo build --release -q --manifest-path "$root/Cargo.toml" -p custody-cli

. "$root/bench/common.sh"

echo "== the demo database (1,065,220 mothers), made once and copied"
"$work/full/custody" demo --dir "$work/demo" >/dev/null
share() { share_2017 "$work/$1/custody" "$work/$1/custody.db" "$work"; } # variant
declare -A shares=([full]="" [normal]="")
for i in $(seq "$runs"); do
  for v in full normal; do
    # Each run on a fresh copy, so both decide the same store.
    rm -f "$work/$v"/custody.db*
    cp "$work/demo/custody.db" "$work/$v/custody.db"
    cp "$work/demo/custody.key" "$work/$v/custody.key" 2>/dev/null || true
    read -r t m < <(share "$v")
    shares[$v]+="$t "
    echo "run $i: share, $v: $t s, $m KiB"
  done
done

declare -A loads=([full]="" [normal]="")
for i in $(seq "$runs"); do
  for v in full normal; do
    { read -r r; read -r d; } < <(load_rate "$work/$v/custody" "$seconds")
    loads[$v]+="$d "
    echo "run $i: load, $v: $r"
  done
done

for v in full normal; do
  s=$(printf '%s\n' ${shares[$v]} | median); l=$(printf '%s\n' ${loads[$v]} | median)
  echo "median, synchronous = ${v^^}: share $s s, load $l decisions/s"
done
