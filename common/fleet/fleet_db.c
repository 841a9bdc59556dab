/*
 * Fleet database connection and schema migrations. The schema is documented in
 * docs/FLEET.md; each migration is one transaction, serialised by an advisory lock, and
 * recorded in otr_schema, so an interrupted or concurrent upgrade leaves no half schema.
 */
#include "fleet_db.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fsutil.h"
#include "msg.h"
#include "mymalloc.h"
#include "vstring.h"

#define FLEET_PASSWORD_MAX  1024
#define FLEET_MIGRATE_LOCK  "7412001" /* advisory lock key of migrations */
#define FLEET_CONNECT_TIMEO "10"

/* Migration n (1-based) takes the schema from version n-1 to n. Never edit a released one:
 * add the next. */
static const char *const fleet_migrations[FLEET_SCHEMA_VERSION] = {
    /* 1: hosts, shipped outcomes and positions, shared documents, delivery state, roles */
    "CREATE TABLE otr_host ("
    " host text PRIMARY KEY,"
    " registered timestamptz NOT NULL DEFAULT now(),"
    " last_seen timestamptz NOT NULL DEFAULT now(),"
    " shipped_through bigint NOT NULL DEFAULT 0,"
    " shipped bigint NOT NULL DEFAULT 0);"
    "CREATE TABLE otr_ship ("
    " host text NOT NULL REFERENCES otr_host ON DELETE CASCADE,"
    " journal text NOT NULL,"
    " position bigint NOT NULL,"
    " PRIMARY KEY (host, journal));"
    "CREATE TABLE otr_outcome ("
    " day date NOT NULL,"
    " host text NOT NULL,"
    " journal text NOT NULL,"
    " pos bigint NOT NULL,"
    " payload bytea NOT NULL,"
    " PRIMARY KEY (day, host, journal, pos));"
    "CREATE TABLE otr_doc ("
    " area text NOT NULL,"
    " key text NOT NULL,"
    " data bytea NOT NULL,"
    " updated timestamptz NOT NULL DEFAULT now(),"
    " PRIMARY KEY (area, key));"
    "CREATE TABLE otr_state ("
    " key text PRIMARY KEY,"
    " data bytea NOT NULL,"
    " updated timestamptz NOT NULL DEFAULT now());"
    "DO $$ BEGIN"
    " IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'opentlsrpt_daemon') THEN"
    "  CREATE ROLE opentlsrpt_daemon NOLOGIN; END IF;"
    " IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'opentlsrpt_agent') THEN"
    "  CREATE ROLE opentlsrpt_agent NOLOGIN; END IF;"
    " END $$;"
    "GRANT SELECT ON otr_schema TO opentlsrpt_daemon, opentlsrpt_agent;"
    "GRANT SELECT, INSERT, UPDATE ON otr_host, otr_ship TO opentlsrpt_daemon;"
    "GRANT INSERT ON otr_outcome TO opentlsrpt_daemon;"
    "GRANT SELECT, INSERT, UPDATE, DELETE ON otr_doc TO opentlsrpt_daemon;"
    "GRANT SELECT ON otr_host TO opentlsrpt_agent;"
    "GRANT SELECT, DELETE ON otr_ship, otr_outcome TO opentlsrpt_agent;"
    "GRANT SELECT, INSERT, UPDATE, DELETE ON otr_doc, otr_state TO opentlsrpt_agent;",
};

int fleet_enabled(const config *cfg)
{
    return cfg && cfg->fleet_database && *cfg->fleet_database;
}

void fleet_host_name(const config *cfg, char *out, size_t size)
{
    if (*cfg->fleet_host) {
        snprintf(out, size, "%s", cfg->fleet_host);
        return;
    }
    if (gethostname(out, size) < 0 || !*out)
        snprintf(out, size, "%s", "localhost");
    out[size - 1] = 0;
}

void fleet_db_error(PGconn *db, const PGresult *res, char *err, size_t errsize)
{
    const char *m = res ? PQresultErrorMessage(res) : NULL;

    if (m == NULL || !*m)
        m = db ? PQerrorMessage(db) : "out of memory";
    snprintf(err, errsize, "%s", m);
    /* libpq's messages end in a newline and may hold more lines: keep one. */
    err[strcspn(err, "\r\n")] = 0;
    if (!*err)
        snprintf(err, errsize, "%s", "unknown database error");
}

/* The server's notices (a shutdown under way, ...) go to our log, not to stderr. */
static void fleet_db_notice(void *ctx, const char *text)
{
    (void)ctx;
    msg_info("fleet database: %.*s", (int)strcspn(text, "\r\n"), text);
}

PGconn *fleet_db_connect(const config *cfg, char *err, size_t errsize)
{
    const char *keys[5], *vals[5];
    char password[FLEET_PASSWORD_MAX + 1];
    int n = 0;

    if (!fleet_enabled(cfg)) {
        snprintf(err, errsize, "%s", "fleet_database is not set");
        return NULL;
    }
    /* expand_dbname: fleet_database is a whole conninfo string or URI. */
    keys[n] = "dbname", vals[n++] = cfg->fleet_database;
    keys[n] = "application_name", vals[n++] = "opentlsrpt";
    keys[n] = "connect_timeout", vals[n++] = FLEET_CONNECT_TIMEO;
    if (*cfg->fleet_database_password_file) {
        vstring *pw = vstring_alloc(0);
        if (fsutil_read_file(cfg->fleet_database_password_file, pw, FLEET_PASSWORD_MAX) < 0) {
            snprintf(err, errsize, "fleet_database_password_file: %s: %s",
                     cfg->fleet_database_password_file, strerror(errno));
            vstring_free(pw);
            return NULL;
        }
        size_t len = strcspn(pw->data, "\r\n"); /* the first line */
        memcpy(password, pw->data, len);
        password[len] = 0;
        memset(pw->data, 0, pw->cap);
        vstring_free(pw);
        keys[n] = "password", vals[n++] = password;
    }
    keys[n] = NULL, vals[n] = NULL;
    PGconn *db = PQconnectdbParams(keys, vals, 1);
    memset(password, 0, sizeof(password));
    if (db == NULL || PQstatus(db) != CONNECTION_OK) {
        fleet_db_error(db, NULL, err, errsize);
        PQfinish(db);
        return NULL;
    }
    PQsetNoticeProcessor(db, fleet_db_notice, NULL);
    return db;
}

/* Whether res succeeded (clearing it); -1 with the reason in err when not. */
static int fleet_db_done(PGconn *db, PGresult *res, char *err, size_t errsize)
{
    int ok = PQresultStatus(res) == PGRES_COMMAND_OK || PQresultStatus(res) == PGRES_TUPLES_OK;

    if (!ok)
        fleet_db_error(db, res, err, errsize);
    PQclear(res);
    return ok ? 0 : -1;
}

int fleet_db_exec(PGconn *db, const char *sql, char *err, size_t errsize)
{
    return fleet_db_done(db, PQexec(db, sql), err, errsize);
}

int fleet_db_exec_params(PGconn *db, const char *sql, int n, const char *const *params, char *err,
                         size_t errsize)
{
    return fleet_db_done(db, PQexecParams(db, sql, n, NULL, params, NULL, NULL, 0), err, errsize);
}

int fleet_db_version(PGconn *db, char *err, size_t errsize)
{
    PGresult *res = PQexec(db, "SELECT to_regclass('otr_schema') IS NOT NULL");
    int v = -1;

    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        fleet_db_error(db, res, err, errsize);
        PQclear(res);
        return -1;
    }
    int have = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
    PQclear(res);
    if (!have)
        return 0;
    res = PQexec(db, "SELECT coalesce(max(version), 0) FROM otr_schema");
    if (PQresultStatus(res) != PGRES_TUPLES_OK)
        fleet_db_error(db, res, err, errsize);
    else
        v = (int)strtol(PQgetvalue(res, 0, 0), NULL, 10);
    PQclear(res);
    return v;
}

PGconn *fleet_db_open(const config *cfg, char *err, size_t errsize)
{
    PGconn *db = fleet_db_connect(cfg, err, errsize);

    if (db == NULL)
        return NULL;
    int v = fleet_db_version(db, err, errsize);
    if (v != FLEET_SCHEMA_VERSION) {
        if (v == 0)
            snprintf(err, errsize, "%s",
                     "the fleet database has no schema yet: run opentlsrpt-agent db init");
        else if (v > 0 && v < FLEET_SCHEMA_VERSION)
            snprintf(err, errsize,
                     "the fleet database has schema version %d, this build needs %d: run "
                     "opentlsrpt-agent db upgrade",
                     v, FLEET_SCHEMA_VERSION);
        else if (v > FLEET_SCHEMA_VERSION)
            snprintf(err, errsize,
                     "the fleet database has schema version %d, newer than this build's %d: "
                     "upgrade opentlsrpt",
                     v, FLEET_SCHEMA_VERSION);
        PQfinish(db);
        return NULL;
    }
    return db;
}

int fleet_db_migrate(PGconn *db, int init, char *err, size_t errsize)
{
    char sql[128];
    int v;

    /* "relation already exists, skipping" is no news to the operator. */
    if (fleet_db_exec(db, "SET client_min_messages = warning", err, errsize) < 0 ||
        fleet_db_exec(db, "BEGIN", err, errsize) < 0)
        return -1;
    /* One migrator at a time; the second one then sees the version the first reached. */
    if (fleet_db_exec(db, "SELECT pg_advisory_xact_lock(" FLEET_MIGRATE_LOCK ")", err, errsize) <
            0 ||
        fleet_db_exec(db,
                      "CREATE TABLE IF NOT EXISTS otr_schema (version integer PRIMARY KEY, "
                      "applied timestamptz NOT NULL DEFAULT now())",
                      err, errsize) < 0 ||
        (v = fleet_db_version(db, err, errsize)) < 0)
        goto fail;
    if (init && v > 0) {
        snprintf(err, errsize,
                 "the fleet database already has schema version %d (db upgrade moves it on)", v);
        goto fail;
    }
    if (v > FLEET_SCHEMA_VERSION) {
        snprintf(err, errsize,
                 "the fleet database has schema version %d, newer than this "
                 "build's %d",
                 v, FLEET_SCHEMA_VERSION);
        goto fail;
    }
    for (int next = v + 1; next <= FLEET_SCHEMA_VERSION; next++) {
        snprintf(sql, sizeof(sql), "INSERT INTO otr_schema (version) VALUES (%d)", next);
        if (fleet_db_exec(db, fleet_migrations[next - 1], err, errsize) < 0 ||
            fleet_db_exec(db, sql, err, errsize) < 0)
            goto fail;
        msg_info("fleet database: schema version %d applied", next);
    }
    if (fleet_db_exec(db, "COMMIT", err, errsize) < 0)
        return -1;
    return FLEET_SCHEMA_VERSION;

fail:
    PQclear(PQexec(db, "ROLLBACK"));
    return -1;
}
