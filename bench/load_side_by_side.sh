#!/usr/bin/env bash
# The load test (bench/load.sh: single-record disclosures over HTTP, each
# build's own database of the demo's mothers) side by side across builds:
# this checkout and each REV given, built in release mode, alternating build
# by build RUNS times (default 3), SECONDS each (default 20). Prints each
# build's median decisions/s and its ratio to the first REV.
#   e.g. bench/load_side_by_side.sh 3 20 a8fbb33
#   (a8fbb33: before the server's named shares were vouched; issue 13, point 2)
# BINS="rev=path ..." reuses builds made earlier.
# Usage: bench/load_side_by_side.sh [RUNS] [SECONDS] REV [REV...]
set -euo pipefail
runs=${1:-3}
seconds=${2:-20}
shift 2
[ $# -ge 1 ] || { echo "name at least one revision to compare with" >&2; exit 2; }
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
. "$root/bench/common.sh"
builds "$work" "$@"

declare -A rates
for i in $(seq "$runs"); do
  for side in "${sides[@]}"; do
    { read -r r; read -r d; } < <(load_rate "${bin[$side]}" "$seconds")
    rates[$side]+="$d "
    echo "run $i, $side: $r"
  done
done
first=$(printf '%s\n' ${rates[${sides[0]}]} | median)
for side in "${sides[@]}"; do
  m=$(printf '%s\n' ${rates[$side]} | median)
  echo "median load ($side): $m decisions/s, ratio to ${sides[0]} $(echo "scale=3; $m / $first" | bc)"
done
