#!/usr/bin/env bash
# Issue #3: what the transparency log adds to the demo's disclosure.
# Builds this checkout and BASE (default c0cbc47, the last commit before the
# log) in release mode, builds each one's demo database (1,065,220 mothers),
# then re-runs the 2017 share (1,065,220 records decided, stored and, in this
# checkout, logged) RUNS times (default 5) alternating the two builds, and
# prints the medians and the difference. Also times both demos once.
# Usage: [BASE_BIN=path/to/base/custody] bench/log_overhead.sh [RUNS] [BASE]
set -euo pipefail
runs=${1:-5}
base_rev=${2:-c0cbc47}
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'git -C "$root" worktree remove --force "$work/base-src" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT

cargo build --release --manifest-path "$root/Cargo.toml" -q
new="$root/target/release/custody"
# BASE_BIN: a base build made earlier, to skip building it again.
base="${BASE_BIN:-$root/target/bench-base/release/custody}"
if [ -z "${BASE_BIN:-}" ]; then
  git -C "$root" worktree add -f --detach "$work/base-src" "$base_rev" >/dev/null 2>&1
  CARGO_TARGET_DIR="$root/target/bench-base" cargo build --release --manifest-path "$work/base-src/Cargo.toml" -q
fi

. "$root/bench/common.sh"

read -r bt bm < <(measure "$base" demo --dir "$work/base")
read -r nt nm < <(measure "$new" demo --dir "$work/new")
echo "demo: base $bt s ($bm KiB), with the log $nt s ($nm KiB)"
echo "log entries: $("$new" --db "$work/new/custody.db" log checkpoint | sed -n 2p)"

share() { share_2017 "$1" "$2" "$work"; } # bin db
b=(); n=()
for i in $(seq "$runs"); do
  read -r t _ < <(share "$base" "$work/base/custody.db"); b+=("$t")
  read -r t _ < <(share "$new" "$work/new/custody.db"); n+=("$t")
  echo "run $i: share base ${b[-1]} s, with the log ${n[-1]} s"
done
mb=$(printf '%s\n' "${b[@]}" | median); mn=$(printf '%s\n' "${n[@]}" | median)
echo "median share of 1,065,220 records: base $mb s, with the log $mn s, difference $(echo "$mn - $mb" | bc) s"
