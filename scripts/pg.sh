#!/usr/bin/env bash
# A throwaway PostgreSQL 15 cluster for the store tests, independent of any system cluster.
#   scripts/pg.sh [start]   install postgresql-15 if missing, start (or reuse) the cluster and
#                           print "export HL7GW_TEST_PG_URL=..." on stdout (also in $DIR/env)
#   scripts/pg.sh stop      stop it (the data stays in $DIR until the next boot clears /tmp)
#   scripts/pg.sh url       print the URL of the running cluster
# Settings: HL7GW_PG_DIR (default /tmp/hl7gw-pg), HL7GW_PG_PORT (default 55432; the next free
# port is taken when another program holds it). As root the server runs as the `postgres` OS
# user, because initdb and postgres refuse to run as root. Loopback only, trust auth.
# Typical use: eval "$(scripts/pg.sh)"
set -euo pipefail

DIR=${HL7GW_PG_DIR:-/tmp/hl7gw-pg}
DATA=$DIR/data
PGBIN=/usr/lib/postgresql/15/bin
DB=hl7gw_test
action=${1:-start}

log() { echo "pg.sh: $*" >&2; }

as_owner() {
    if [ "$(id -u)" -eq 0 ]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

install_if_missing() {
    if [ -x "$PGBIN/initdb" ] && [ -x "$PGBIN/pg_ctl" ]; then
        return
    fi
    log "installing postgresql-15"
    local sudo=""
    if [ "$(id -u)" -ne 0 ]; then
        sudo="sudo"
    fi
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
        postgresql-15 >/dev/null
}

port_in_use() {
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

is_running() {
    [ -f "$DATA/PG_VERSION" ] && as_owner "$PGBIN/pg_ctl" -D "$DATA" status >/dev/null 2>&1
}

configured_port() {
    sed -n 's/^port = \([0-9]*\).*/\1/p' "$DATA/postgresql.auto.conf" 2>/dev/null | tail -n 1
}

url() {
    echo "postgresql://postgres@127.0.0.1:$(configured_port)/$DB"
}

start() {
    install_if_missing
    mkdir -p "$DIR"
    if [ "$(id -u)" -eq 0 ]; then
        chown postgres: "$DIR"
    fi
    chmod 700 "$DIR"
    if [ ! -f "$DATA/PG_VERSION" ]; then
        log "initdb in $DATA"
        rm -rf "$DATA"
        as_owner "$PGBIN/initdb" -D "$DATA" -U postgres --auth=trust --encoding=UTF8 \
            --locale=C.UTF-8 >"$DIR/initdb.log" 2>&1 || {
            cat "$DIR/initdb.log" >&2
            exit 1
        }
    fi
    if ! is_running; then
        local port=${HL7GW_PG_PORT:-55432}
        local last=$((port + 100))
        while port_in_use "$port"; do
            port=$((port + 1))
            if [ "$port" -gt "$last" ]; then
                log "no free port up to $last"
                exit 1
            fi
        done
        # postgresql.auto.conf wins over postgresql.conf; rewrite it on every start so the
        # port follows what is free now. The socket lives in $DIR, not /var/run/postgresql.
        as_owner tee "$DATA/postgresql.auto.conf" >/dev/null <<EOF
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$DIR'
max_connections = 200
EOF
        log "starting on 127.0.0.1:$port"
        as_owner "$PGBIN/pg_ctl" -D "$DATA" -l "$DIR/server.log" -w -t 60 start >/dev/null || {
            tail -n 20 "$DIR/server.log" >&2
            exit 1
        }
    fi
    local port
    port=$(configured_port)
    local psql=("$PGBIN/psql" -X -q -h 127.0.0.1 -p "$port" -U postgres -d postgres -tA)
    if [ "$("${psql[@]}" -c "SELECT 1 FROM pg_database WHERE datname = '$DB'")" != 1 ]; then
        "${psql[@]}" -c "CREATE DATABASE $DB" >/dev/null
    fi
    echo "export HL7GW_TEST_PG_URL=$(url)" | tee "$DIR/env"
}

stop() {
    if is_running; then
        as_owner "$PGBIN/pg_ctl" -D "$DATA" -m fast -w stop >/dev/null
        log "stopped"
    fi
    rm -f "$DIR/env"
}

case "$action" in
start) start ;;
stop) stop ;;
url)
    is_running || {
        log "not running"
        exit 1
    }
    url
    ;;
*)
    echo "usage: scripts/pg.sh [start|stop|url]" >&2
    exit 2
    ;;
esac
