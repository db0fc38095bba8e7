# Sourced by the benchmarks: what they all measure the same way.

# Runs a command, its output dropped; prints "seconds max_rss_kib".
measure() { /usr/bin/time -f "%e %M" "$@" 2>&1 >/dev/null | tail -1; }

# The median of the numbers on stdin, one a line.
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

# The demo's 2017 request (every record of Emma's Diary decided, stored,
# logged and vouched for), measured: share_2017 BIN DB OUTDIR.
share_2017() {
  measure "$1" --db "$2" share emmas-diary --to experian --on-behalf-of labour \
    --purpose PoliticalCampaign --categories Name,PhysicalAddress,PostalCode,custody:ChildBirthDate \
    --at 2017-05-10 --out "$3/allowed.csv" --refused "$3/refused.csv"
}

# Release builds of each REV given (in worktrees under $work, each with a
# target directory of its own under target/bench-REV, kept for the next
# run) and of this checkout, last: builds WORK REV... sets `bin` (side ->
# binary) and `sides` (the REVs, then this checkout's short hash).
# BINS="rev=path ..." reuses builds made earlier.
builds() {
  local work=$1 rev here pair
  shift
  declare -gA bin=()
  for pair in ${BINS:-}; do bin[${pair%%=*}]=${pair#*=}; done
  for rev in "$@"; do
    if [ -z "${bin[$rev]:-}" ]; then
      git -C "$root" worktree add -f --detach "$work/src-$rev" "$rev" >/dev/null 2>&1
      CARGO_TARGET_DIR="$root/target/bench-$rev" cargo build --release -q -p custody-cli \
        --manifest-path "$work/src-$rev/Cargo.toml"
      git -C "$root" worktree remove --force "$work/src-$rev" >/dev/null 2>&1 || true
      bin[$rev]="$root/target/bench-$rev/release/custody"
    fi
  done
  cargo build --release -q -p custody-cli --manifest-path "$root/Cargo.toml"
  here=$(git -C "$root" rev-parse --short HEAD)
  bin[$here]="$root/target/release/custody"
  sides=("$@" "$here")
  echo "builds: ${sides[*]} (the last is this checkout); $(nproc) cores"
}

# A store of SUBJECTS mothers with varied histories (custody gen --varied:
# 0 to 12 events each, several purposes, every action, times to the second),
# the demo's organisations and both notices: varied_store BIN DIR SUBJECTS.
# Leaves DIR/custody.db, DIR/custody.key and the generated files in DIR.
varied_store() {
  local bin=$1 dir=$2 n=$3
  local c=("$bin" --db "$dir/custody.db")
  mkdir -p "$dir"
  "$bin" gen --subjects "$n" --out "$dir" --varied >/dev/null
  CUSTODY_SIGNING_KEY="$dir/custody.key" "${c[@]}" init --origin bench.custody.invalid/varied >/dev/null
  export CUSTODY_SIGNING_KEY="$dir/custody.key"
  "${c[@]}" org add emmas-diary --name "Emma's Diary" --role controller >/dev/null
  "${c[@]}" org add experian --name Experian --role broker >/dev/null
  "${c[@]}" org add labour --name Labour --role campaign >/dev/null
  "${c[@]}" notice publish emmas-diary "$dir/notice-2017.toml" >/dev/null
  "${c[@]}" notice publish emmas-diary "$dir/notice-2018-05.toml" >/dev/null
  "${c[@]}" collect emmas-diary "$dir/signups.csv" --mapping "$dir/signups.mapping.toml" \
    --notice 2017 >/dev/null
  "${c[@]}" consent emmas-diary --file "$dir/events-varied.csv" >/dev/null
  unset CUSTODY_SIGNING_KEY
}

# The load test on build BIN for SECONDS (bench/load.sh, its own database):
# prints its result line, then the decisions a second alone (0 if none):
# load_rate BIN SECONDS.
load_rate() {
  local r d
  r=$(CUSTODY_BIN="$1" "$root/bench/load.sh" --seconds "$2" 2>&1 | grep -E 'decisions/s' | head -1)
  d=$(echo "$r" | grep -oE '[0-9,]+ decisions/s' | head -1 | tr -d ', decisions/s')
  echo "$r"
  echo "${d:-0}"
}
