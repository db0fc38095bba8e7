#!/usr/bin/env bash
# Issue #2's speed targets, measured on this machine with a release build:
#   custody demo at full size (1,065,220 mothers)        < 30 s
#   custody share of 1,065,220 records                   < 3 s
#   peak memory of either                                < 1 GiB
# Runs each RUNS times (default 3) and prints the medians.
# Usage: bench/demo_and_share.sh [RUNS]
set -euo pipefail
runs=${1:-3}
root=$(cd "$(dirname "$0")/.." && pwd)
cargo build --release --manifest-path "$root/Cargo.toml" -q
bin="$root/target/release/custody"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

measure() { # prints "seconds maxrss_kib"
  /usr/bin/time -f "%e %M" "$@" 2>&1 >/dev/null | tail -1
}
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

demo_t=(); demo_m=(); share_t=(); share_m=()
for i in $(seq "$runs"); do
  rm -rf "$work/demo"
  read -r t m < <(measure "$bin" demo --dir "$work/demo")
  demo_t+=("$t"); demo_m+=("$m")
  # the 2017 request, re-run against the demo's database: every record decided,
  # every decision stored, the outputs written
  read -r t m < <(measure "$bin" --db "$work/demo/custody.db" share emmas-diary --to experian \
      --on-behalf-of labour --purpose PoliticalCampaign \
      --categories Name,PhysicalAddress,PostalCode,custody:ChildBirthDate --at 2017-05-10 \
      --out "$work/allowed.csv" --refused "$work/refused.csv")
  share_t+=("$t"); share_m+=("$m")
  echo "run $i: demo ${demo_t[-1]} s (${demo_m[-1]} KiB), share ${share_t[-1]} s (${share_m[-1]} KiB)"
done
echo "median demo:  $(printf '%s\n' "${demo_t[@]}" | median) s, peak RSS $(printf '%s\n' "${demo_m[@]}" | median) KiB"
echo "median share: $(printf '%s\n' "${share_t[@]}" | median) s, peak RSS $(printf '%s\n' "${share_m[@]}" | median) KiB"
