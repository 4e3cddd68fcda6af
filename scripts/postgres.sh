#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for tests and benchmarks, in its own folder on its own port
# (never the system's 5432).
#
#   scripts/postgres.sh start DIR PORT [--fast]   # initdb (first time) and start; prints the database URL
#   scripts/postgres.sh stop DIR
#
# --fast turns off fsync and full-page writes: for throwaway test clusters only (a crash loses
# the data). Without it the cluster is as durable as a production one (use that for benchmarks).
#
# The cluster's superuser is 'casebook' with password 'casebook' (password auth, scram), and the
# database 'casebook' is created. Run as root, the cluster runs as the 'postgres' user.
set -euo pipefail

bin=""
for candidate in /usr/lib/postgresql/*/bin; do
    [ -x "$candidate/pg_ctl" ] && bin="$candidate"
done
if [ -z "$bin" ]; then
    echo "postgres.sh: no PostgreSQL server found: apt-get install -y postgresql" >&2
    exit 1
fi

as_owner() {
    if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

command="${1:-}"
dir="${2:-}"
[ -n "$dir" ] || { echo "usage: $0 start DIR PORT [--fast] | stop DIR" >&2; exit 64; }

case "$command" in
start)
    port="${3:?usage: $0 start DIR PORT [--fast]}"
    settings="-c fsync=on"
    if [ "${4:-}" = "--fast" ]; then
        settings="-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
    fi
    mkdir -p "$dir"
    [ "$(id -u)" = 0 ] && chown postgres "$dir"
    if [ ! -f "$dir/data/PG_VERSION" ]; then
        printf 'casebook\n' > "$dir/password"
        [ "$(id -u)" = 0 ] && chown postgres "$dir/password"
        as_owner "$bin/initdb" -D "$dir/data" -U casebook --pwfile="$dir/password" \
            --auth=scram-sha-256 -E UTF8 --no-instructions >"$dir/initdb.log" 2>&1 \
            || { cat "$dir/initdb.log" >&2; exit 1; }
    fi
    as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
        -o "-p $port -k $dir -c listen_addresses=127.0.0.1 $settings -c max_connections=300" start >/dev/null \
        || { cat "$dir/server.log" >&2; exit 1; }
    PGPASSWORD=casebook psql -h 127.0.0.1 -p "$port" -U casebook -d postgres -qtAc \
        "SELECT 1 FROM pg_database WHERE datname = 'casebook'" | grep -q 1 \
        || PGPASSWORD=casebook psql -h 127.0.0.1 -p "$port" -U casebook -d postgres -qc "CREATE DATABASE casebook" >/dev/null
    echo "postgres://casebook:casebook@127.0.0.1:$port/casebook"
    ;;
stop)
    as_owner "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null
    ;;
*)
    echo "usage: $0 start DIR PORT | stop DIR" >&2
    exit 64
    ;;
esac
