#!/usr/bin/env bash
# A throw-away PostgreSQL cluster for the tests and benchmarks.
#
#   scripts/pg-cluster.sh start DIR   # installs Debian's postgresql if missing, initdb in DIR, starts it,
#                                     # prints the URL (postgres://postgres@127.0.0.1:PORT/postgres)
#   scripts/pg-cluster.sh stop DIR    # stops it (the caller removes DIR)
#
# The server runs as the `postgres` user (initdb refuses root), listens on a unix socket in DIR and on
# 127.0.0.1 at a free port, trusts local connections (nothing else can reach it), and keeps fsync and
# synchronous_commit on, so that what the tests and benchmarks call durable is.
set -euo pipefail
cmd=${1:?start|stop}
dir=${2:?directory}

bindir() {
    local d
    d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)
    [ -n "$d" ] && echo "$d"
}

case "$cmd" in
start)
    if [ -z "$(bindir)" ]; then
        echo "installing postgresql" >&2
        SUDO=""
        if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
        $SUDO apt-get update -qq
        DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq postgresql >/dev/null
    fi
    bin=$(bindir)
    mkdir -p "$dir"
    as=()
    if [ "$(id -u)" -eq 0 ]; then
        id postgres >/dev/null 2>&1 || useradd --system --home-dir "$dir" postgres
        chown postgres "$dir"
        as=(runuser -u postgres --)
    fi
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    "${as[@]}" "$bin/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
    "${as[@]}" "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
        -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c max_connections=400 -c fsync=on -c synchronous_commit=on" \
        start >/dev/null
    echo "postgres://postgres@127.0.0.1:$port/postgres"
    ;;
stop)
    bin=$(bindir)
    as=()
    if [ "$(id -u)" -eq 0 ]; then as=(runuser -u postgres --); fi
    [ -d "$dir/data" ] && "${as[@]}" "$bin/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null || true
    ;;
*)
    echo "usage: $0 start|stop DIR" >&2
    exit 2
    ;;
esac
