#!/usr/bin/env bash
# Runs every fuzz target for SECONDS each (default 60), one after another,
# from its committed seeds (seeds/TARGET) and what earlier runs found
# (corpus/TARGET, not committed). A crash stops the run and leaves its
# input in artifacts/TARGET (README: Fuzzing says how to replay it).
#
#   fuzz/run.sh [SECONDS] [TARGET...]
#
# Built without a sanitizer (`-s none`): the code is safe Rust, so what the
# fuzzer finds are panics, and the instrumented build of arrow and parquet
# with AddressSanitizer would take most of CI's time for it.
#
# Built unoptimised (`--dev`) unless FUZZ_OPTIMISED=1: cargo-fuzz's default
# release build runs one codegen unit per crate, and arrow and parquet took
# 42 minutes to build that way on CI's two cores, against 2 minutes 15 for
# the unoptimised build. An unoptimised target runs several times fewer
# inputs a second, which matters for an hour's run, not for CI's seconds:
# FUZZ_OPTIMISED=1 builds with optimisations and 16 codegen units.
set -euo pipefail
cd "$(dirname "$0")"
seconds=${1:-60}
shift || true
if ! cargo +nightly --version >/dev/null 2>&1 || ! command -v cargo-fuzz >/dev/null 2>&1; then
  if [ "${CI:-}" = true ]; then
    echo "fuzz: cargo-fuzz or the nightly toolchain is missing" >&2
    exit 1
  fi
  echo "fuzz: SKIPPED (needs the nightly toolchain and cargo-fuzz: cargo install cargo-fuzz --locked)"
  exit 0
fi
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  mapfile -t targets < <(cargo +nightly fuzz list)
fi
# FUZZ_TARGET_DIR: where to build (default fuzz/target).
dir=()
[ -n "${FUZZ_TARGET_DIR:-}" ] && dir=(--target-dir "$FUZZ_TARGET_DIR")
profile=(--dev)
[ "${FUZZ_OPTIMISED:-}" = 1 ] && profile=(-O --codegen-units 16)
cargo +nightly fuzz build -s none "${profile[@]}" "${dir[@]}"
for t in "${targets[@]}"; do
  mkdir -p "corpus/$t"
  echo "fuzz: $t for ${seconds}s"
  # -jobs/-workers stay 1: the machine is shared. The summary line says how
  # many inputs were tried.
  cargo +nightly fuzz run -s none "${profile[@]}" "${dir[@]}" "$t" "corpus/$t" "seeds/$t" -- \
    -max_total_time="$seconds" -print_final_stats=1 2>"corpus/$t.log" \
    || { tail -n 60 "corpus/$t.log" >&2; exit 1; }
  grep -E '^stat::number_of_executed_units|^Done' "corpus/$t.log" | tr '\n' ' '
  echo
done
