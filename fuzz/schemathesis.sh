#!/usr/bin/env bash
# schemathesis (PyPI) against docs/openapi.json on a running `custody serve`:
# a small demo store, the server on a loopback port, an admin key of
# emmas-diary. Fails on a 5xx, a response the document does not describe,
# or any other check schemathesis makes.
#
#   fuzz/schemathesis.sh [MAX_EXAMPLES]   (per operation; default 50)
#
# CUSTODY_BIN: the custody binary (default target/debug/custody, built if
# missing). SCHEMATHESIS_VENV: where schemathesis is installed (default
# fuzz/target/schemathesis, made if missing). Extra schemathesis arguments
# go in SCHEMATHESIS_ARGS (e.g. "--seed 1").
set -euo pipefail
cd "$(dirname "$0")/.."
examples=${1:-50}
bin=${CUSTODY_BIN:-target/debug/custody}
[ -x "$bin" ] || cargo build -p custody-cli
venv=${SCHEMATHESIS_VENV:-fuzz/target/schemathesis}
if [ ! -x "$venv/bin/schemathesis" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet 'schemathesis==4.32.5'
fi

work=$(mktemp -d)
server=
cleanup() {
  [ -n "$server" ] && kill "$server" 2>/dev/null && wait "$server" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
"$bin" demo --subjects 200 --dir "$work" >/dev/null
db="$work/custody.db"
key=$("$bin" --db "$db" key create emmas-diary --role admin | grep -o 'ck_[A-Za-z0-9_-]*' | head -n 1)
[ -n "$key" ] || { echo "schemathesis: no key from custody key create" >&2; exit 1; }
RUST_LOG=warn "$bin" --db "$db" serve --listen 127.0.0.1:0 2>"$work/serve.log" &
server=$!
addr=
for _ in $(seq 100); do
  addr=$(sed -n 's|^custody serving on http://||p' "$work/serve.log" | head -n 1)
  [ -n "$addr" ] && break
  sleep 0.1
done
[ -n "$addr" ] || { cat "$work/serve.log" >&2; echo "schemathesis: the server did not start" >&2; exit 1; }

# Every check but positive_data_acceptance: a request the schema allows can
# still name an organisation, term or cursor that does not exist, and the
# server rightly refuses it (422); the schema cannot say what is in the store.
# Nor ensure_resource_availability: its stateful links put the organisation
# just created in {org}, which schemathesis.toml pins to the demo's.
# shellcheck disable=SC2086
# From the scratch directory: schemathesis keeps its cache (.schemathesis/)
# where it runs.
repo=$PWD
venv=$(realpath "$venv")
cd "$work"
"$venv/bin/schemathesis" --config-file "$repo/fuzz/schemathesis.toml" run "$repo/docs/openapi.json" \
  --url "http://$addr" \
  --header "Authorization: Bearer $key" \
  --checks all \
  --exclude-checks positive_data_acceptance,ensure_resource_availability \
  --max-examples "$examples" \
  --workers 1 \
  --no-color \
  ${SCHEMATHESIS_ARGS:-} \
  || { echo "schemathesis: the server's log:" >&2; tail -n 40 "$work/serve.log" >&2; exit 1; }
