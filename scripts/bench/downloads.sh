#!/usr/bin/env bash
# Downloads of one evidence file, builds side by side (docs/performance.md, "Chunk hashes kept by
# the server"): one server per build, each holding the same file uploaded once; then, RUNS rounds,
# each build in turn, a fresh encrypted replica syncs and times `fetch --all` with /usr/bin/time.
#
#   scripts/bench/downloads.sh RUNS BINDIR...     (each BINDIR holds casebook and casebook-server)
#   MIB=256 scripts/bench/downloads.sh 3 old/ new/
set -euo pipefail
runs=$1; shift
work=$(mktemp -d "${TMPDIR:-/tmp}/casebook-downloads.XXXXXX")
pids=()
trap 'kill "${pids[@]}" 2>/dev/null; rm -rf "$work"' EXIT
head -c $(( ${MIB:-1024} * 1024 * 1024 )) /dev/urandom > "$work/file"
echo "a benchmark passphrase of decent length" > "$work/pass"
port=$(( 20000 + RANDOM % 20000 ))
declare -A ports tokens
for bin in "$@"; do
    name=$(basename "$bin"); data="$work/$name"; port=$((port + 1))
    "$bin/casebook-server" project create bench --schema upr --data "$data/srv" >/dev/null
    tokens[$name]=$("$bin/casebook-server" user add ana --project bench --role admin --data "$data/srv" --json |
        python3 -c 'import json, sys; print(json.load(sys.stdin)["token"])')
    ports[$name]=$port
    "$bin/casebook-server" serve --data "$data/srv" --port "$port" > "$data/server.log" 2>&1 &
    pids+=($!)
    sleep 1.5
    export CASEBOOK_TOKEN=${tokens[$name]}
    "$bin/casebook" init --server "http://127.0.0.1:$port" --project bench --home "$data/up" --passphrase-file "$work/pass" >/dev/null 2>&1
    "$bin/casebook" unlock --for 2h --passphrase-file "$work/pass" --home "$data/up" >/dev/null
    id=$("$bin/casebook" add incidents --set title=x --home "$data/up")
    "$bin/casebook" attach "$id" "$work/file" --home "$data/up" >/dev/null
    "$bin/casebook" sync --home "$data/up" >/dev/null
done
for _ in $(seq "$runs"); do
    for bin in "$@"; do
        name=$(basename "$bin"); data="$work/$name"; rm -rf "$data/down"
        export CASEBOOK_TOKEN=${tokens[$name]}
        "$bin/casebook" init --server "http://127.0.0.1:${ports[$name]}" --project bench --home "$data/down" --passphrase-file "$work/pass" >/dev/null 2>&1
        "$bin/casebook" unlock --for 2h --passphrase-file "$work/pass" --home "$data/down" >/dev/null
        "$bin/casebook" sync --home "$data/down" >/dev/null
        /usr/bin/time -f "$name download %e s (user %U sys %S)" "$bin/casebook" fetch --all --home "$data/down" >/dev/null
    done
done
