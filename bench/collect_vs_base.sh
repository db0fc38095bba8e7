#!/usr/bin/env bash
# `custody collect` of the same sign-ups against a base revision: what a
# change to the store's write path (an index, a pragma) buys. Builds this
# checkout and BASE (a revision; default HEAD~1) in release mode, writes the
# demo's sign-ups for SUBJECTS mothers (default 1,065,220) once, then collects
# them into a fresh database RUNS times (default 5), alternating the builds,
# and prints the medians, the ratio, and each build's peak RSS and database
# size. Usage: [BASE_BIN=path] bench/collect_vs_base.sh [RUNS] [SUBJECTS] [BASE]
set -euo pipefail
runs=${1:-5}
subjects=${2:-1065220}
base_rev=${3:-HEAD~1}
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'git -C "$root" worktree remove --force "$work/base-src" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT

cargo build --release --manifest-path "$root/Cargo.toml" -q
new="$root/target/release/custody"
base="${BASE_BIN:-$root/target/bench-base/release/custody}"
if [ -z "${BASE_BIN:-}" ]; then
  git -C "$root" worktree add -f --detach "$work/base-src" "$base_rev" >/dev/null 2>&1
  CARGO_TARGET_DIR="$root/target/bench-base" cargo build --release --manifest-path "$work/base-src/Cargo.toml" -q
fi
echo "base $(git -C "$root" rev-parse --short "$base_rev"), new $(git -C "$root" rev-parse --short HEAD) (+ working tree)"

"$new" gen --subjects "$subjects" --out "$work/data" >/dev/null
. "$root/bench/common.sh"

collect() { # bin tag -> "seconds peak-kib db-bytes"
  local db="$work/$2.db"
  rm -f "$db" "$db-wal" "$db-shm" "$work/$2.key"
  "$1" --db "$db" init --origin bench.invalid/collect >/dev/null 2>&1
  "$1" --db "$db" org add emmas-diary --name "Emma's Diary" --role controller >/dev/null
  "$1" --db "$db" notice publish emmas-diary "$work/data/notice-2017.toml" >/dev/null
  local out
  out=$(/usr/bin/time -f "%e %M" "$1" --db "$db" collect emmas-diary "$work/data/signups.csv" \
      --notice 2017 --mapping "$work/data/signups.mapping.toml" 2>&1 >/dev/null | tail -1)
  echo "$out $(stat -c %s "$db")"
}
b=(); n=()
for i in $(seq "$runs"); do
  read -r t bm bs < <(collect "$base" base); b+=("$t")
  read -r t nm ns < <(collect "$new" new); n+=("$t")
  echo "run $i: base ${b[-1]} s, new ${n[-1]} s"
done
mb=$(printf '%s\n' "${b[@]}" | median)
mn=$(printf '%s\n' "${n[@]}" | median)
echo "collect of $subjects sign-ups, medians of $runs: base $mb s, new $mn s, new/base $(echo "scale=3; $mn / $mb" | bc)"
echo "peak RSS: base $bm KiB, new $nm KiB; database: base $bs bytes, new $ns bytes"
