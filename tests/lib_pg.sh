# PostgreSQL for the fleet tests: Debian's server, started by the test in $T as an
# unprivileged user (the server refuses root), on a unix socket in $T only (no TCP), and
# stopped when the test ends, failed or not. Source after lib.sh.
PG_BIN=${PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)}
[ -n "$PG_BIN" ] && [ -x "$PG_BIN/initdb" ] || skip "PostgreSQL server is not installed (tests/deps.sh installs postgresql)"
PG_DIR="$T/pg"
PG_USER=nobody
if [ "$(id -u)" -eq 0 ]; then
    id "$PG_USER" >/dev/null 2>&1 || skip "no user $PG_USER to run PostgreSQL as"
    PG_RUN="runuser -u $PG_USER --"
    chmod 711 "$T" # the server's user must reach its directory
else
    PG_RUN=""
fi

# pg_start: initdb (first time) and start; PG_CONN is the conninfo of the superuser "otr".
pg_start() {
    if [ ! -d "$PG_DIR/data" ]; then
        mkdir -p "$PG_DIR"
        [ -z "$PG_RUN" ] || chown "$PG_USER" "$PG_DIR"
        $PG_RUN test -w "$PG_DIR" ||
            skip "$PG_USER cannot reach $PG_DIR (the directories above TMPDIR must be searchable by others)"
        $PG_RUN "$PG_BIN/initdb" -D "$PG_DIR/data" -U otr -A trust --no-sync -E UTF8 \
            >"$PG_DIR/initdb.log" 2>&1 || { cat "$PG_DIR/initdb.log"; fail "initdb failed"; }
        at_exit "pg_stop"
    fi
    # fsync off: a test database need not survive a power cut, and the machine is shared.
    $PG_RUN "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -w -t 60 -l "$PG_DIR/server.log" \
        -o "-k $PG_DIR -c listen_addresses= -c fsync=off -c max_connections=40" start \
        >/dev/null || { tail -n 20 "$PG_DIR/server.log"; fail "PostgreSQL did not start"; }
    PG_CONN="host=$PG_DIR dbname=postgres user=otr"
}

# pg_stop: stops the server now (immediate: as a crash of the database host would).
pg_stop() {
    [ -f "$PG_DIR/data/postmaster.pid" ] || return 0
    $PG_RUN "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m immediate -w stop >/dev/null 2>&1 || true
}

# psql_q SQL: one value, unaligned.
psql_q() { "$PG_BIN/psql" -X -qAt -d "$PG_CONN" -c "$1"; }
