#ifndef OTR_AGENT_H
#define OTR_AGENT_H
/* opentlsrpt-agent: shared state of the subcommands. */
#include <time.h>

#include "config.h"
#include "domain.h"
#include "spool.h"

typedef struct agent_ctx {
    config *cfg;
    int verbose;
    spool *spool; /* opened on first use by agent_spool */
} agent_ctx;

/* Returns the spool, opening it on first use (fatal when it cannot be used). */
spool *agent_spool(agent_ctx *ctx);
/* Fleet mode, before delivering day: whether every host has shipped it (or fleet_max_lag
 * has passed), then the fleet-wide lock of the day (release: fleet_store_unlock_day).
 * Returns 1 to go on, 0 to leave the day for now (logged), -1 on error. */
int agent_fleet_day(agent_ctx *ctx, const char *day, time_t now);
/* Removes what is older than retention_days: the spool's days (journals and delivery
 * state) and the received reports. */
void agent_expire(agent_ctx *ctx, time_t now);
/* Logs a routine event (a delivery, a remote failure, a domain's bad record): to syslog
 * only unless -v, because cron mails whatever reaches stderr and these are not failures of
 * the run. warn selects msg_warn over msg_info. */
void agent_note(const agent_ctx *ctx, int warn, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* The day and report domain a subcommand is limited to (--day, --domain). */
typedef struct agent_scope {
    const char *day;    /* YYYY-MM-DD, or NULL */
    const char *domain; /* normalized (in norm), or NULL */
    char norm[DOMAIN_MAX + 2];
} agent_scope;

/* Checks and keeps --day (ch 'd') or --domain (ch 'D') in sc; returns 0, or 2 (the usage
 * exit status) after logging a value that is not a date or not a domain name. */
int agent_scope_option(agent_scope *sc, int ch, const char *arg);

/* Subcommands: each parses its own options (argv[0] is its name) and returns the exit
 * status. One file per subcommand (cmd_*.c); the table is in main.c, which restarts
 * getopt for them: options come before or after operands, and a subcommand never sets
 * optind itself (optind = 1 would keep main's stop-at-the-first-operand order). */
int cmd_check(agent_ctx *ctx, int argc, char **argv);
int cmd_config(agent_ctx *ctx, int argc, char **argv);
int cmd_db(agent_ctx *ctx, int argc, char **argv);
int cmd_report(agent_ctx *ctx, int argc, char **argv);
int cmd_expire(agent_ctx *ctx, int argc, char **argv);
int cmd_ingest(agent_ctx *ctx, int argc, char **argv);
int cmd_summary(agent_ctx *ctx, int argc, char **argv);
int cmd_policy(agent_ctx *ctx, int argc, char **argv);
int cmd_import_log(agent_ctx *ctx, int argc, char **argv);
int cmd_run(agent_ctx *ctx, int argc, char **argv);
int cmd_send(agent_ctx *ctx, int argc, char **argv);
int cmd_status(agent_ctx *ctx, int argc, char **argv);
#endif
