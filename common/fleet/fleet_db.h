#ifndef OTR_FLEET_DB_H
#define OTR_FLEET_DB_H
/*
 * Fleet mode's PostgreSQL database: the connection (fleet_database, the password from
 * fleet_database_password_file) and the versioned schema. Migrations are applied only by
 * fleet_db_migrate (opentlsrpt-agent db init / db upgrade); everything else refuses a
 * database whose schema version is not the one this build knows.
 */
#include <libpq-fe.h>
#include <stddef.h>

#include "config.h"

#define FLEET_SCHEMA_VERSION 1

/* Whether cfg enables fleet mode. */
int fleet_enabled(const config *cfg);
/* This host's fleet name (fleet_host, else the host name) into out. */
void fleet_host_name(const config *cfg, char *out, size_t size);
/* Connects; returns the connection, or NULL with the reason in err. Caller PQfinish()es. */
PGconn *fleet_db_connect(const config *cfg, char *err, size_t errsize);
/* The schema version of the database (0: none yet), or -1 with the reason in err. */
int fleet_db_version(PGconn *db, char *err, size_t errsize);
/* Connects and checks the schema version; NULL with the reason in err. */
PGconn *fleet_db_open(const config *cfg, char *err, size_t errsize);
/* Applies the migrations past the database's version (init: the database must have none);
 * returns the version reached, or -1 with the reason in err. */
int fleet_db_migrate(PGconn *db, int init, char *err, size_t errsize);
/* Runs sql (no parameters, no rows wanted); 0, or -1 with the reason in err. */
int fleet_db_exec(PGconn *db, const char *sql, char *err, size_t errsize);
/* Runs one statement with n text parameters (no rows wanted); 0, or -1 with the reason in
 * err. */
int fleet_db_exec_params(PGconn *db, const char *sql, int n, const char *const *params, char *err,
                         size_t errsize);
/* Copies the error of db (or of res when not NULL) into err, one line. */
void fleet_db_error(PGconn *db, const PGresult *res, char *err, size_t errsize);
#endif
