/* opentlsrpt-agent db init|upgrade|status: the fleet database's schema, applied only here
 * (never implicitly by the daemon), and how far each host has shipped. */
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agent.h"
#include "fleet_db.h"
#include "msg.h"

/* Prints each registered host, what it shipped and how far behind it is. */
static int db_status(PGconn *db)
{
    char err[512];
    PGresult *res = PQexec(db, "SELECT host, shipped, shipped_through, "
                               "extract(epoch FROM now())::bigint - extract(epoch FROM "
                               "last_seen)::bigint FROM otr_host ORDER BY host");

    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        fleet_db_error(db, res, err, sizeof(err));
        msg_error("fleet database: %s", err);
        PQclear(res);
        return 1;
    }
    time_t now = time(NULL);
    printf("schema version %d, %d host(s)\n", FLEET_SCHEMA_VERSION, PQntuples(res));
    for (int i = 0; i < PQntuples(res); i++) {
        long long through = strtoll(PQgetvalue(res, i, 2), NULL, 10);
        char when[32] = "never";
        if (through > 0) {
            time_t t = (time_t)through;
            struct tm tm;
            gmtime_r(&t, &tm);
            strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
        }
        printf("host %s: %s outcome(s) shipped, complete through %s (lag %llds), last seen "
               "%ss ago\n",
               PQgetvalue(res, i, 0), PQgetvalue(res, i, 1), when,
               through > 0 ? (long long)(now - through) : -1LL, PQgetvalue(res, i, 3));
    }
    PQclear(res);
    return fflush(stdout) == 0 ? 0 : 1;
}

int cmd_db(agent_ctx *ctx, int argc, char **argv)
{
    char err[512];

    if (argc != 2 ||
        (strcmp(argv[1], "init") && strcmp(argv[1], "upgrade") && strcmp(argv[1], "status"))) {
        fprintf(stderr, "usage: opentlsrpt-agent db init|upgrade|status\n");
        return 2;
    }
    if (!fleet_enabled(ctx->cfg)) {
        msg_error("db: fleet_database is not set");
        return 1;
    }
    int status = strcmp(argv[1], "status") == 0;
    PGconn *db = status ? fleet_db_open(ctx->cfg, err, sizeof(err))
                        : fleet_db_connect(ctx->cfg, err, sizeof(err));
    if (db == NULL) {
        msg_error("fleet database: %s", err);
        return 1;
    }
    int ret = 0;
    if (status) {
        ret = db_status(db);
    } else {
        int v = fleet_db_migrate(db, strcmp(argv[1], "init") == 0, err, sizeof(err));
        if (v < 0) {
            msg_error("fleet database: %s", err);
            ret = 1;
        } else {
            printf("fleet database at schema version %d\n", v);
        }
    }
    PQfinish(db);
    return ret;
}
