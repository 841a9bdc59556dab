#!/bin/sh
# Fleet mode's schema on a real PostgreSQL: db init/upgrade (never the daemon), -n checking
# the connection, and the least-privilege roles.
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/lib_pg.sh"
time_limit 120
pg_start
write_conf "$T/c.conf" "fleet_database=$PG_CONN"

# No schema yet: the daemon's check says what to do and fails; it created nothing.
"$OTR" -n -c "$T/c.conf" >/dev/null 2>"$T/n.err" && fail "-n passed on an empty database"
grep -q "run opentlsrpt-agent db init" "$T/n.err" || fail "-n did not say what to do: $(cat "$T/n.err")"
[ "$(psql_q "SELECT count(*) FROM pg_tables WHERE tablename LIKE 'otr_%'")" = 0 ] ||
    fail "the daemon's check created tables"
"$AGENT" -c "$T/c.conf" db status >/dev/null 2>&1 && fail "db status passed without a schema"

"$AGENT" -c "$T/c.conf" db init >"$T/init.out" 2>&1 || { cat "$T/init.out"; fail "db init failed"; }
[ "$(psql_q "SELECT max(version) FROM otr_schema")" = 1 ] || fail "schema version not recorded"
"$AGENT" -c "$T/c.conf" db init >/dev/null 2>&1 && fail "db init ran twice"
"$AGENT" -c "$T/c.conf" db upgrade >/dev/null 2>&1 || fail "db upgrade at the current version failed"
[ "$(psql_q "SELECT count(*) FROM otr_schema")" = 1 ] || fail "db upgrade applied a migration twice"
"$OTR" -n -c "$T/c.conf" >/dev/null 2>"$T/n.err" || fail "-n failed: $(cat "$T/n.err")"
grep -q "connected, schema version 1" "$T/n.err" || fail "-n did not report the connection"
pass "db init/upgrade, -n"

# A database newer than this build is refused, not used.
psql_q "INSERT INTO otr_schema (version) VALUES (99)"
"$OTR" -n -c "$T/c.conf" >/dev/null 2>"$T/n.err" && fail "-n accepted schema version 99"
grep -q "newer than this build" "$T/n.err" || fail "no clear error for a newer schema"
psql_q "DELETE FROM otr_schema WHERE version = 99"

# Least privilege: a host's login role (in opentlsrpt_daemon) ships but cannot read the
# fleet's outcomes or the delivery state; the agent's can, but cannot ship as a host.
printf 'secret-mta1\n' > "$T/mta1.pw"
chmod 600 "$T/mta1.pw"
psql_q "CREATE ROLE mta1 LOGIN PASSWORD 'secret-mta1' IN ROLE opentlsrpt_daemon"
psql_q "CREATE ROLE agent1 LOGIN IN ROLE opentlsrpt_agent"
as() { "$PG_BIN/psql" -X -qAt -d "host=$PG_DIR dbname=postgres user=$1" -c "$2" 2>&1; }
as mta1 "INSERT INTO otr_host (host) VALUES ('mta1')" | grep -q "denied" && fail "daemon role cannot register"
as mta1 "SELECT count(*) FROM otr_outcome" | grep -q "permission denied" || fail "daemon role reads outcomes"
as mta1 "SELECT count(*) FROM otr_state" | grep -q "permission denied" || fail "daemon role reads delivery state"
as agent1 "SELECT count(*) FROM otr_outcome" | grep -q "denied" && fail "agent role cannot read outcomes"
as agent1 "INSERT INTO otr_host (host) VALUES ('x')" | grep -q "permission denied" || fail "agent role registers hosts"
as mta1 "CREATE TABLE otr_x (a int)" | grep -q "denied" || fail "daemon role may create tables"
# The password comes from fleet_database_password_file (trust auth here: the file must
# still be read, and a missing one is a clear error).
write_conf "$T/m.conf" "fleet_database=host=$PG_DIR dbname=postgres user=mta1" \
    "fleet_database_password_file=$T/mta1.pw"
"$OTR" -n -c "$T/m.conf" >/dev/null 2>&1 || fail "-n as the daemon role failed"
write_conf "$T/m2.conf" "fleet_database=host=$PG_DIR dbname=postgres user=mta1" \
    "fleet_database_password_file=$T/missing.pw"
"$OTR" -n -c "$T/m2.conf" >/dev/null 2>"$T/n.err" && fail "-n passed without its password file"
grep -q "fleet_database_password_file: $T/missing.pw" "$T/n.err" || fail "unclear error: $(cat "$T/n.err")"
pass "least-privilege roles, password file"
