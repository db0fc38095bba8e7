#!/usr/bin/env bash
# Issue #4's peer benchmark: custody against a hand-written DuckDB SQL join,
# screening the same mailing list (Emma's Diary to Labour, political campaign,
# 2018-10-01, on consent) from the same files, alternating, RUNS times each.
#
# custody's time includes loading the consent state: a fresh database, the
# notices, `collect` of the sign-ups and `consent --file` of both event files,
# then `share`. DuckDB's time is one query over the files (bench/duckdb_screen.py).
# The allowed sets are checked equal. DuckDB comes from PyPI into target/bench-venv.
#
# Usage: bench/screen_vs_duckdb.sh [RUNS] [SIZES...]    (default: 3 1065220)
#   e.g. bench/screen_vs_duckdb.sh 3 1065220 10000000
#   Cambridge Analytica scale, Parquet only (not in CI; about 60 GB of disk):
#        FORMATS=parquet bench/screen_vs_duckdb.sh 1 87000000
# custody's memory is the largest peak RSS of its steps.
set -euo pipefail
runs=${1:-3}; shift || true
sizes=("${@:-1065220}")
[ ${#sizes[@]} -eq 0 ] && sizes=(1065220)
root=$(cd "$(dirname "$0")/.." && pwd)
venv="$root/target/bench-venv"
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/python" -c 'import duckdb' 2>/dev/null || "$venv/bin/pip" install -q duckdb
cargo build --release --manifest-path "$root/Cargo.toml" -q
bin="$root/target/release/custody"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
echo "duckdb $("$venv/bin/python" -c 'import duckdb; print(duckdb.__version__)'), custody $("$bin" --version)"

seconds() { /usr/bin/time -f "%e %M" "$@" 2>&1 >/dev/null | tail -1; }
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

# Runs one custody step under /usr/bin/time, keeping the largest peak RSS seen.
step() {
  local m
  m=$(/usr/bin/time -f "%M" "$@" 2>&1 >/dev/null | tail -1)
  [ "$m" -gt "$peak" ] && peak=$m
  return 0
}

custody_run() { # data fmt out -> prints "seconds share-seconds peak-rss-kib"
  local data=$1 fmt=$2 out=$3 db="$3/c.db"
  local start end s0 s1
  peak=0
  start=$(date +%s.%N)
  "$bin" --db "$db" init --origin bench.invalid/screen >/dev/null 2>&1
  "$bin" --db "$db" org add emmas-diary --name "Emma's Diary" --role controller >/dev/null
  "$bin" --db "$db" org add labour --name "The Labour Party" --role campaign >/dev/null
  "$bin" --db "$db" notice publish emmas-diary "$data/notice-2017.toml" >/dev/null
  "$bin" --db "$db" notice publish emmas-diary "$data/notice-2018-05.toml" >/dev/null
  step "$bin" --db "$db" collect emmas-diary "$data/signups.$fmt" --notice 2017 --mapping "$data/signups.mapping.toml"
  step "$bin" --db "$db" consent emmas-diary --file "$data/preferences-2017.csv"
  step "$bin" --db "$db" consent emmas-diary --file "$data/reconsents-2018.csv"
  s0=$(date +%s.%N)
  step "$bin" --db "$db" share emmas-diary --to labour --purpose PoliticalCampaign \
      --categories Name,PhysicalAddress,PostalCode --basis consent --at 2018-10-01 \
      --out "$out/allowed.$fmt" --refused "$out/refused.$fmt"
  end=$(date +%s.%N)
  echo "$(echo "$end - $start" | bc) $(echo "$end - $s0" | bc) $peak"
}

for n in "${sizes[@]}"; do
  for fmt in ${FORMATS:-csv parquet}; do
    data="$work/data-$n-$fmt"
    "$bin" gen --subjects "$n" --out "$data" --format "$fmt" >/dev/null
    c=(); s=(); d=(); cm=(); dm=()
    for i in $(seq "$runs"); do
      rm -rf "$work/c" "$work/d"; mkdir -p "$work/c" "$work/d"
      read -r total share mem < <(custody_run "$data" "$fmt" "$work/c")
      c+=("$total"); s+=("$share"); cm+=("$mem")
      read -r t m < <(seconds "$venv/bin/python" "$root/bench/duckdb_screen.py" "$data" "$fmt" "$work/d")
      d+=("$t"); dm+=("$m")
      # the same people allowed, each side
      if [ "$fmt" = csv ]; then
        cut -d, -f1 "$work/c/allowed.csv" | tail -n +2 | sort > "$work/c.ids"
        cut -d, -f1 "$work/d/allowed.csv" | tail -n +2 | sort > "$work/d.ids"
      else
        "$venv/bin/python" -c "import duckdb,sys; [print(r[0]) for r in duckdb.sql(\"select subject from read_parquet('$work/c/allowed.parquet') order by 1\").fetchall()]" > "$work/c.ids"
        "$venv/bin/python" -c "import duckdb,sys; [print(r[0]) for r in duckdb.sql(\"select subject from read_parquet('$work/d/allowed.parquet') order by 1\").fetchall()]" > "$work/d.ids"
      fi
      cmp -s "$work/c.ids" "$work/d.ids" || { echo "allowed sets differ ($n, $fmt)"; diff "$work/c.ids" "$work/d.ids" | head; exit 1; }
      echo "$n $fmt run $i: custody ${total}s (share alone ${share}s, peak ${mem} KiB), duckdb ${t}s (${m} KiB), $(wc -l < "$work/c.ids") allowed on both"
    done
    mc=$(printf '%s\n' "${c[@]}" | median); ms=$(printf '%s\n' "${s[@]}" | median); md=$(printf '%s\n' "${d[@]}" | median)
    pc=$(printf '%s\n' "${cm[@]}" | sort -n | tail -1); pd=$(printf '%s\n' "${dm[@]}" | sort -n | tail -1)
    echo "== $n records, $fmt: median custody ${mc}s (of which share ${ms}s), duckdb ${md}s; duckdb/custody = $(echo "scale=2; $md / $mc" | bc); peak RSS custody ${pc} KiB, duckdb ${pd} KiB"
  done
done
