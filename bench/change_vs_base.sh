#!/usr/bin/env bash
# A change against the commit before it, on the demo's data: builds this
# checkout and BASE in release mode, builds each one's demo database
# (1,065,220 mothers by default), then alternates the two builds RUNS times
# (default 5) over
#   share:  the 2017 request (every record decided, stored, logged, vouched)
#   screen: the demo's sign-ups screened for the 2018 political request
# and prints each one's medians and the ratio change/base. Memory is peak RSS.
# Both builds read databases of the same schema; each its own.
# VARIED=1: each database holds varied histories instead of the case's
# (bench/common.sh's varied_store), and the screenings' decision classes
# are printed too.
# Usage: [BASE_BIN=path/to/base/custody] [VARIED=1] bench/change_vs_base.sh [RUNS] [BASE] [SUBJECTS]
#   e.g. bench/change_vs_base.sh 5 0f3f247
set -euo pipefail
runs=${1:-5}
base_rev=${2:-HEAD~1}
subjects=${3:-1065220}
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
echo "change: $(git -C "$root" rev-parse --short HEAD), base: $base_rev, $subjects mothers, $(nproc) cores"

. "$root/bench/common.sh"

for side in base new; do
  bin=${!side}
  if [ -n "${VARIED:-}" ]; then
    # The database the change makes, copied for the base: loading is not
    # what is compared.
    if [ "$side" = base ]; then continue; fi
    varied_store "$bin" "$work/new" "$subjects"
    cp -r "$work/new" "$work/base"
    rm -rf "$work/base/custody.holdings"
    echo "varied store: $(wc -l < "$work/new/events-varied.csv") event rows"
  else
    read -r t m < <(measure "$bin" demo --subjects "$subjects" --dir "$work/$side")
    echo "demo ($side): $t s, $m KiB"
  fi
done

share() { share_2017 "$1" "$2/custody.db" "$work"; } # bin dir
screen() { # bin dir
  measure "$1" --db "$2/custody.db" screen emmas-diary "$2/signups.csv" --to labour \
    --purpose PoliticalCampaign --categories Name,PhysicalAddress,PostalCode --basis consent \
    --at 2018-10-01 --out "$work/s-allowed.csv" --refused "$work/s-refused.csv"
}
if [ -n "${VARIED:-}" ]; then
  for side in base new; do
    env CUSTODY_SIGNING_KEY="$work/$side/custody.key" "${!side}" --db "$work/$side/custody.db" \
      screen emmas-diary "$work/$side/signups.csv" --to labour --purpose PoliticalCampaign \
      --categories Name,PhysicalAddress,PostalCode --basis consent --at 2018-10-01 \
      --out "$work/s-allowed.csv" --refused "$work/s-refused.csv" --json \
      | grep -E '"(allowed|classes)"' | tr -d ' \n'
    echo " ($side)"
  done
fi
for what in share screen; do
  b=(); n=(); bm=(); nm=()
  for i in $(seq "$runs"); do
    read -r t m < <($what "$base" "$work/base"); b+=("$t"); bm+=("$m")
    read -r t m < <($what "$new" "$work/new"); n+=("$t"); nm+=("$m")
    echo "run $i: $what base ${b[-1]} s, change ${n[-1]} s"
  done
  mb=$(printf '%s\n' "${b[@]}" | median); mn=$(printf '%s\n' "${n[@]}" | median)
  rb=$(printf '%s\n' "${bm[@]}" | median); rn=$(printf '%s\n' "${nm[@]}" | median)
  echo "median $what: base $mb s ($rb KiB), change $mn s ($rn KiB), change/base $(echo "scale=3; $mn / $mb" | bc)"
done
