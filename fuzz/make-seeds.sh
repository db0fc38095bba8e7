#!/usr/bin/env bash
# Remakes the seeds that come from a demo log (receipts, signed checkpoints,
# entries, Parquet records) and the verifier key the receipt target trusts.
# The others are copies of examples/ and crates/log/testdata, or written by
# hand. The demo's key is new each time, so the receipt seeds and
# src/receipt-log.vkey change together.
#
#   fuzz/make-seeds.sh [CUSTODY_BIN]   (default target/debug/custody)
set -euo pipefail
cd "$(dirname "$0")"
bin=$(realpath "${1:-../target/debug/custody}")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$bin" demo --subjects 20 --dir "$work/demo" >/dev/null
db="$work/demo/custody.db"
c() { "$bin" --db "$db" "$@"; }

c log key >src/receipt-log.vkey
rm -f seeds/receipt/seed-*
n=0
for r in "$work"/demo/receipts/*; do
  n=$((n + 1))
  [ "$n" -le 4 ] && cp "$r" "seeds/receipt/seed-demo-$n.tlog-proof"
done

c log checkpoint >seeds/checkpoint/seed-demo-signed
c log checkpoint >seeds/signed_note/seed-demo-checkpoint

# Entries, one of each kind, from the demo log's entry bundles (each entry
# a u16 length and its bytes).
c log export "$work/tiles" >/dev/null
rm -f seeds/entry/seed-demo-*
python3 - "$work/tiles" seeds/entry <<'PY'
import os, struct, sys
tiles, out = sys.argv[1], sys.argv[2]
seen = set()
for root, _, files in sorted(os.walk(tiles)):
    if "/entries" not in root:
        continue
    for f in sorted(files):
        data = open(os.path.join(root, f), "rb").read()
        i = 0
        while i + 2 <= len(data):
            (n,) = struct.unpack(">H", data[i:i + 2])
            entry = data[i + 2:i + 2 + n]
            i += 2 + n
            if len(entry) > 1 and entry[1] not in seen:
                seen.add(entry[1])
                open(os.path.join(out, "seed-demo-kind-%d" % entry[1]), "wb").write(entry)
PY

"$bin" gen --subjects 5 --format parquet --out "$work/gen" >/dev/null
cp "$work/gen/signups.parquet" seeds/records_parquet/seed-signups.parquet
"$bin" gen --subjects 5 --out "$work/gen-csv" >/dev/null
cp "$work/gen-csv/signups.csv" seeds/records_csv/seed-signups.csv
ls seeds/*/ | wc -l
