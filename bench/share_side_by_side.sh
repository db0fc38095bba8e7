#!/usr/bin/env bash
# The 2017 share of the demo's records, side by side across builds:
# this checkout and each REV given, built in release mode, each on a demo
# database of its own, the shares alternating build by build RUNS times
# (default 5). Prints each build's median and its ratio to the first REV.
# Each share adds its decisions to its own database, so the databases grow
# alike; later rounds run on a longer log.
#   e.g. bench/share_side_by_side.sh 5 56eebc7 929fbb4
#   (56eebc7: before shares verified what they rest on; issue 13, point 2)
# BINS="rev=path ..." reuses builds made earlier, e.g. BINS="56eebc7=/tmp/c".
# SUBJECTS=N makes smaller demos (default the full 1,065,220).
# Usage: bench/share_side_by_side.sh [RUNS] REV [REV...]
set -euo pipefail
runs=${1:-5}
shift
[ $# -ge 1 ] || { echo "name at least one revision to compare with" >&2; exit 2; }
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
. "$root/bench/common.sh"
builds "$work" "$@"

for side in "${sides[@]}"; do
  read -r t m < <(measure "${bin[$side]}" demo --subjects "${SUBJECTS:-1065220}" --dir "$work/db-$side")
  echo "demo ($side): $t s, $m KiB"
done
share() { share_2017 "$1" "$2/custody.db" "$work"; } # bin dir
declare -A times
for i in $(seq "$runs"); do
  line="run $i:"
  for side in "${sides[@]}"; do
    read -r t m < <(share "${bin[$side]}" "$work/db-$side")
    times[$side]+="$t "
    line+=" $side $t s ($m KiB);"
  done
  echo "$line"
done
first=$(printf '%s\n' ${times[${sides[0]}]} | median)
for side in "${sides[@]}"; do
  m=$(printf '%s\n' ${times[$side]} | median)
  echo "median share ($side): $m s, ratio to ${sides[0]} $(echo "scale=3; $m / $first" | bc)"
done
