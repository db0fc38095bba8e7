#!/usr/bin/env bash
# Issue #4's peer benchmark: custody against a hand-written DuckDB SQL join,
# screening the same mailing list (Emma's Diary to Labour, political campaign,
# 2018-10-01, on consent) from the same files, alternating, RUNS times each.
#
# Per size and format, the store is loaded once, as a collector's store is:
# a fresh database, the notices, `collect` of the sign-ups and `consent --file`
# of both event files (each keeps the holdings snapshot current). Its time is
# reported apart. Then, alternating:
#   custody: `custody screen` of the sign-ups file. Its time includes loading
#            the consent state (the holdings snapshot, caught up with the
#            store first), deciding every row with its reasons, and writing
#            the allowed and refused sets in the list's format.
#   duckdb:  one query joining the sign-ups to the latest re-consent events,
#            writing the same two sets (bench/duckdb_screen.py): the whole
#            process, and apart the query alone as timed inside it (without
#            starting Python and importing duckdb).
#   duckdb with state: the members and events loaded once into a DuckDB
#            database file (not timed, as custody's store is not), then the
#            same query over its tables and the two outputs, timed inside
#            the process.
# Two kinds of data (KINDS, default "emmas varied"): the case's (about 40
# histories) and varied histories (`custody gen --varied`: 0 to 12 events a
# mother, several purposes, every action, times to the second), whose
# events-varied.csv is loaded instead of the two event files.
# The allowed sets are checked equal on every run. DuckDB comes from PyPI into
# target/bench-venv. Times are wall-clock medians; memory is peak RSS.
#
# Usage: bench/screen_vs_duckdb.sh [RUNS] [SIZES...]    (default: 5 1065220)
#   e.g. bench/screen_vs_duckdb.sh 5 1065220 10000000
#   FORMATS=parquet to run one format (default: csv parquet).
#   Cambridge Analytica scale (not in CI; about 60 GB of disk):
#        FORMATS=parquet bench/screen_vs_duckdb.sh 1 87000000
#   WORK=DIR keeps the data there (default: a temporary directory).
set -euo pipefail
runs=${1:-5}; shift || true
sizes=("${@:-1065220}")
[ ${#sizes[@]} -eq 0 ] && sizes=(1065220)
root=$(cd "$(dirname "$0")/.." && pwd)
venv="$root/target/bench-venv"
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/python" -c 'import duckdb' 2>/dev/null || "$venv/bin/pip" install -q duckdb
cargo build --release --manifest-path "$root/Cargo.toml" -q
bin="$root/target/release/custody"
if [ -n "${WORK:-}" ]; then work=$WORK; mkdir -p "$work"; else
  work=$(mktemp -d); trap 'rm -rf "$work"' EXIT; fi
echo "duckdb $("$venv/bin/python" -c 'import duckdb; print(duckdb.__version__)'), $("$bin" --version), $(nproc) cores"

. "$root/bench/common.sh"
# Runs a command under /usr/bin/time: prints "seconds peak-KiB".
timed() { /usr/bin/time -f "%e %M" "$@" 2>&1 >/dev/null | tail -1; }

ingest() { # data fmt db records kind -> prints "seconds peak-KiB"
  local data=$1 fmt=$2 db=$3 kind=$5 start peak=0 m
  start=$(date +%s.%N)
  "$bin" --db "$db" init --origin bench.invalid/screen >/dev/null 2>&1
  "$bin" --db "$db" org add emmas-diary --name "Emma's Diary" --role controller >/dev/null
  "$bin" --db "$db" org add labour --name "The Labour Party" --role campaign >/dev/null
  "$bin" --db "$db" notice publish emmas-diary "$data/notice-2017.toml" >/dev/null
  "$bin" --db "$db" notice publish emmas-diary "$data/notice-2018-05.toml" >/dev/null
  # collect writes a file in one transaction, and SQLite's write-ahead log
  # grows to the transaction's size: above 20M records the sign-ups are
  # collected in files of 10M (split by DuckDB), so that the log stays
  # small beside the database.
  local files=("$data/signups.$fmt")
  if [ "$4" -gt 20000000 ]; then
    mkdir -p "$data/parts"
    [ -f "$data/parts/done" ] || "$venv/bin/python" - "$data" "$fmt" <<'PY'
import sys, duckdb
data, fmt = sys.argv[1], sys.argv[2]
src = f"read_parquet('{data}/signups.parquet')" if fmt == "parquet" else f"read_csv('{data}/signups.csv', all_varchar=true)"
opts = "(FORMAT PARQUET)" if fmt == "parquet" else "(HEADER)"
n = duckdb.sql(f"select count(*) from {src}").fetchall()[0][0]
for k, start in enumerate(range(0, n, 10_000_000)):
    duckdb.sql(f"COPY (SELECT * FROM {src} LIMIT 10000000 OFFSET {start}) TO '{data}/parts/signups-{k:02}.{fmt}' {opts}")
open(f"{data}/parts/done", "w").close()
PY
    files=("$data"/parts/signups-*."$fmt")
  fi
  local steps=()
  for f in "${files[@]}"; do steps+=("collect emmas-diary $f --notice 2017 --mapping $data/signups.mapping.toml"); done
  if [ "$kind" = varied ]; then
    steps+=("consent emmas-diary --file $data/events-varied.csv")
  else
    steps+=("consent emmas-diary --file $data/preferences-2017.csv" "consent emmas-diary --file $data/reconsents-2018.csv")
  fi
  for step in "${steps[@]}"; do
    # shellcheck disable=SC2086
    read -r _ m < <(timed "$bin" --db "$db" $step)
    [ "$m" -gt "$peak" ] && peak=$m
  done
  echo "$(echo "$(date +%s.%N) - $start" | bc) $peak"
}

ids() { # file fmt -> the allowed subjects, sorted
  if [ "$2" = csv ]; then cut -d, -f1 "$1" | tail -n +2 | sort
  else "$venv/bin/python" -c "import duckdb; [print(r[0]) for r in duckdb.sql(\"select subject from read_parquet('$1') order by 1\").fetchall()]"; fi
}

for n in "${sizes[@]}"; do
 for kind in ${KINDS:-emmas varied}; do
  for fmt in ${FORMATS:-csv parquet}; do
    data="$work/data-$n-$fmt-$kind" db="$work/store-$n-$fmt-$kind/c.db" state="$work/state-$n-$fmt-$kind.duckdb"
    varied=(); [ "$kind" = varied ] && varied=(--varied)
    [ -f "$data/signups.$fmt" ] || "$bin" gen --subjects "$n" --out "$data" --format "$fmt" "${varied[@]}" >/dev/null
    rm -rf "$(dirname "$db")" "$state"; mkdir -p "$(dirname "$db")"
    read -r load load_mem < <(ingest "$data" "$fmt" "$db" "$n" "$kind")
    echo "$n $fmt $kind: store loaded in ${load}s (collect + consent files, peak ${load_mem} KiB)"
    "$venv/bin/python" "$root/bench/duckdb_screen.py" load "$data" "$fmt" "$kind" "$state"
    c=(); d=(); dq=(); cm=(); dm=(); s=(); sm=()
    for i in $(seq "$runs"); do
      rm -rf "$work/c" "$work/d" "$work/s"; mkdir -p "$work/c" "$work/d" "$work/s"
      read -r t m < <(timed "$bin" --db "$db" screen emmas-diary "$data/signups.$fmt" \
          --to labour --purpose PoliticalCampaign --categories Name,PhysicalAddress,PostalCode \
          --basis consent --at 2018-10-01 --out "$work/c/allowed.$fmt" --refused "$work/c/refused.$fmt")
      c+=("$t"); cm+=("$m")
      # Waits for the process, so that time's file is written.
      out=$(/usr/bin/time -f "%e %M" -o "$work/time" \
          "$venv/bin/python" "$root/bench/duckdb_screen.py" screen "$data" "$fmt" "$kind" "$work/d")
      read -r _ _ q <<< "$out"
      read -r t m < "$work/time"
      d+=("$t"); dm+=("$m"); dq+=("$q")
      out=$(/usr/bin/time -f "%e %M" -o "$work/time" \
          "$venv/bin/python" "$root/bench/duckdb_screen.py" screen "$data" "$fmt" "$kind" "$work/s" --state "$state")
      read -r _ _ q <<< "$out"
      read -r _ m < "$work/time"
      s+=("$q"); sm+=("$m")
      ids "$work/c/allowed.$fmt" "$fmt" > "$work/c.ids"
      for peer in d s; do
        ids "$work/$peer/allowed.$fmt" "$fmt" > "$work/$peer.ids"
        cmp -s "$work/c.ids" "$work/$peer.ids" || { echo "allowed sets differ ($n, $fmt, $kind, $peer)"; diff "$work/c.ids" "$work/$peer.ids" | head; exit 1; }
      done
      echo "$n $fmt $kind run $i: custody ${c[-1]}s (${cm[-1]} KiB), duckdb ${d[-1]}s (query alone ${dq[-1]}s, ${dm[-1]} KiB), duckdb with state ${s[-1]}s (${sm[-1]} KiB), $(wc -l < "$work/c.ids") allowed on all"
    done
    mc=$(printf '%s\n' "${c[@]}" | median); md=$(printf '%s\n' "${d[@]}" | median)
    mq=$(printf '%s\n' "${dq[@]}" | median); ms=$(printf '%s\n' "${s[@]}" | median)
    pc=$(printf '%s\n' "${cm[@]}" | sort -n | tail -1); pd=$(printf '%s\n' "${dm[@]}" | sort -n | tail -1)
    echo "== $n records, $fmt, $kind: median custody ${mc}s, duckdb ${md}s (query alone ${mq}s), duckdb with state ${ms}s; duckdb/custody = $(echo "scale=2; $md / $mc" | bc) (query alone: $(echo "scale=2; $mq / $mc" | bc); with state: $(echo "scale=2; $ms / $mc" | bc)); peak RSS custody ${pc} KiB, duckdb ${pd} KiB"
  done
 done
done
