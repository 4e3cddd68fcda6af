#!/usr/bin/env bash
# The Casebook demo: a server on a temporary embedded store, two researchers, the UPR demo
# data (illustrative, see demo/generate.py), offline edits on both sides, a conflict, its
# resolution, and the report. Usage: scripts/demo.sh [BIN_DIR]   (default .build/debug)
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
bin="${1:-$here/.build/debug}"
server="$bin/casebook-server"
client="$bin/casebook"
for program in "$server" "$client"; do
    [ -x "$program" ] || { echo "error: $program is missing: run 'swift build' first (or 'make demo')" >&2; exit 1; }
done

# The demo shows the passphrase flow itself: nothing from the caller's environment.
unset CASEBOOK_PASSPHRASE CASEBOOK_NEW_PASSPHRASE CASEBOOK_KDF
work="$(mktemp -d "${TMPDIR:-/tmp}/casebook-demo.XXXXXX")"
pid=""
cleanup() {
    [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true
    # Forget the keys the demo unlocked (the key agents would otherwise wait out their 30 minutes).
    for person in ana bek; do "$client" lock --home "$work/$person" >/dev/null 2>&1 || true; done
    rm -rf "$work"
}
trap cleanup EXIT

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
show() { printf '$ %s\n' "$*"; "$@"; }
ana() { "$client" "$@" --home "$work/ana"; }
bek() { "$client" "$@" --home "$work/bek"; }

step "Start a server on a temporary embedded store"
"$server" project create kazakhstan --schema upr --data "$work/server"
ana_token="$("$server" user add ana --project kazakhstan --data "$work/server" | tail -n 1)"
bek_token="$("$server" user add bek --project kazakhstan --data "$work/server" | tail -n 1)"
"$server" serve --data "$work/server" --port 0 >"$work/serve.out" 2>"$work/serve.log" &
pid=$!
for _ in $(seq 1 100); do
    grep -q '^listening on ' "$work/serve.out" 2>/dev/null && break
    sleep 0.1
done
url="$(sed -n 's/^listening on //p' "$work/serve.out")"
[ -n "$url" ] || { echo "error: the server did not start:" >&2; cat "$work/serve.log" >&2; exit 1; }
echo "server: $url (users ana and bek, project kazakhstan)"

step "Two researchers set up their replicas (encrypted: each has a passphrase)"
# On a laptop each researcher types the passphrase when asked; the demo reads it from a file.
printf 'ana: a long passphrase only ana knows\n' >"$work/ana.passphrase"
printf 'bek: a long passphrase only bek knows\n' >"$work/bek.passphrase"
ana init --server "$url" --project kazakhstan --token "$ana_token" --passphrase-file "$work/ana.passphrase"
bek init --server "$url" --project kazakhstan --token "$bek_token" --passphrase-file "$work/bek.passphrase"
# Unlocked for half an hour: the commands below need no passphrase.
show "$client" unlock --for 30m --passphrase-file "$work/ana.passphrase" --home "$work/ana"
bek unlock --for 30m --passphrase-file "$work/bek.passphrase" >/dev/null

step "Ana imports the demo data (illustrative, drawn from HRW's 23 January 2025 release)"
for collection in reviews sources recommendations assessments incidents; do
    show "$client" import "$collection" "$here/demo/$collection.csv" --home "$work/ana"
done
ana sync
bek sync

step "Both work offline and edit the same recommendation"
rec="71fccf6e449716b734dc77ef13485668"   # UK: revise the definition of extremism
show "$client" show "${rec:0:8}" --home "$work/ana"
show "$client" edit "${rec:0:8}" --set status=not_implemented --home "$work/ana"
show "$client" edit "${rec:0:8}" --set status=partially_implemented --home "$work/bek"
incident="$(bek add incidents --set 'title=Blogger questioned by police after posting about the review' \
    --set date=2025-02-03 --set themes=freedom_of_expression_and_media --set recommendations="${rec:0:8}")"
echo "bek added incident $incident"
show "$client" status --home "$work/bek"

step "Back online: both sync, and the edits meet"
show "$client" sync --home "$work/ana"
show "$client" sync --home "$work/bek"
show "$client" sync --home "$work/ana"
show "$client" conflicts --home "$work/ana"

step "Ana settles it, and everyone converges"
conflict="$(ana conflicts --json | sed -n 's/.*"id":"\([0-9a-f]*\)".*/\1/p' | head -n 1)"
show "$client" resolve "$conflict" --value partially_implemented --home "$work/ana"
ana sync
bek sync
show "$client" log "${rec:0:8}" --home "$work/bek"
if diff <(ana export recommendations) <(bek export recommendations) >/dev/null \
    && diff <(ana export incidents) <(bek export incidents) >/dev/null; then
    echo "both replicas hold the same records"
else
    echo "error: the replicas differ" >&2
    exit 1
fi

step "The report"
show "$client" report --home "$work/ana"

step "Leaving for the border: lock, or wipe"
show "$client" lock --home "$work/bek"
if bek status </dev/null >/dev/null 2>&1; then
    echo "error: a locked replica opened without its passphrase" >&2
    exit 1
fi
echo "bek's replica is locked: without the passphrase it opens for no one"
show "$client" wipe --yes --home "$work/bek"
