/* opentlsrpt-agent: reports, delivery and tools, run from cron or by hand. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent.h"
#include "deliver.h"
#include "msg.h"
#include "privs.h"

static const struct {
    const char *name;
    int (*fn)(agent_ctx *ctx, int argc, char **argv);
    const char *help;
} agent_cmds[] = {
    {"check", cmd_check,
     "audit a domain's TLS-RPT, MTA-STS, MX TLS and DANE as senders see it: "
     "[--port N] [--format text|json] [--timeout S] [--all] DOMAIN"},
    {"config", cmd_config, "print the effective settings (-n: only those set)"},
    {"db", cmd_db,
     "fleet database (fleet_database): init | upgrade (apply the schema) | status (hosts, "
     "lag)"},
    {"report", cmd_report,
     "print the reports of a day: --day YYYY-MM-DD [--domain D] [--pretty] "
     "[--with-rua]"},
    {"expire", cmd_expire, "remove outcomes older than retention_days"},
    {"run", cmd_run, "deliver the due reports of finished days, then expire (cron): [--now]"},
    {"send", cmd_send,
     "deliver a day's pending reports now: --day YYYY-MM-DD [--domain D] [--force]"},
    {"status", cmd_status, "delivery state per day: [--day YYYY-MM-DD]"},
    {"ingest", cmd_ingest,
     "store received reports from files: FILE... (.eml, .json, .json.gz, .zip)"},
    {"summary", cmd_summary,
     "received reports in plain words: [--since D] [--until D] [--domain X] "
     "[--format text|json|html|csv|jsonl] [--alerts] | --report ID"},
    {"policy", cmd_policy,
     "what the MTA-STS policy service answers for a domain and why: [--fetch] DOMAIN"},
    {"import-log", cmd_import_log,
     "backfill outcomes from mail logs: [--format postfix|sendmail] FILE..."},
};

#define NCMDS (sizeof(agent_cmds) / sizeof(agent_cmds[0]))

static void usage(void)
{
    fprintf(stderr, "usage: opentlsrpt-agent [-v] [-c FILE] [-o name=value]... [-u USER] COMMAND "
                    "[ARGS]\n"
                    "commands:\n");
    for (size_t i = 0; i < NCMDS; i++)
        fprintf(stderr, "  %-8s %s\n", agent_cmds[i].name, agent_cmds[i].help);
    exit(2);
}

/* Root is refused unless -u names the user to become: the agent parses mail, reports and
 * DNS answers from strangers. What only root may read (the DKIM key, the SMTP password) is
 * loaded first; deliver_mail_init keeps it, so delivery later finds it loaded. */
static void agent_privs(agent_ctx *ctx, const char *cmd, const char *user)
{
    if (geteuid() != 0)
        return;
    if (user == NULL)
        msg_fatal("refusing to run as root: give -u USER (the user owning %s, e.g. -u %s)",
                  ctx->cfg->spool_directory, ctx->cfg->user);
    if ((strcmp(cmd, "run") == 0 || strcmp(cmd, "send") == 0) &&
        strncmp(ctx->cfg->deliver_to, "file:", 5) != 0)
        (void)deliver_mail_init(ctx); /* logs now; delivery stops on the remembered failure */
    privs_drop(user, NULL);
}

int main(int argc, char **argv)
{
    const char *user = NULL;
    config_args args;
    agent_ctx ctx;
    int ch;

    memset(&ctx, 0, sizeof(ctx));
    /* Line by line: with stdout and stderr in one file (cron, 2>&1), an error line then
     * lands between whole lines, next to the line of the file it is about. */
    setvbuf(stdout, NULL, _IOLBF, 0);
    /* Cron mails what a job prints: errors go to stderr, and to syslog when unattended. */
    msg_open("opentlsrpt-agent", MSG_TO_STDERR | (isatty(2) ? 0 : MSG_TO_SYSLOG));
    config_args_init(&args);
    while ((ch = getopt(argc, argv, "+vc:o:u:h")) != -1) {
        switch (ch) {
        case 'u':
            user = optarg;
            break;
        default:
            if (!config_args_option(&args, ch, optarg))
                usage();
        }
    }
    if (optind >= argc)
        usage();
    ctx.verbose = args.verbose;
    msg_set_verbose(ctx.verbose > 1);
    char **sub = argv + optind;
    int subc = argc - optind;
    for (size_t i = 0; i < NCMDS; i++) {
        if (strcmp(sub[0], agent_cmds[i].name) != 0)
            continue;
        ctx.cfg = config_args_load(&args);
        if (ctx.cfg == NULL)
            return 1;
        agent_privs(&ctx, agent_cmds[i].name, user);
        /* glibc: a fresh start on the subcommand's own argv, in GNU order (options before or
         * after operands): "+" above made it stop at the command name. */
        optind = 0;
        int status = agent_cmds[i].fn(&ctx, subc, sub);
        spool_close(ctx.spool);
        config_free(ctx.cfg);
        return status;
    }
    msg_error("unknown command \"%s\"", sub[0]);
    usage();
}
