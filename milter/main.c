/* opentlsrpt: the MTA-facing daemon. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "fleet_db.h"
#include "instance.h"
#include "msg.h"
#include "supervisor.h"

static void usage(void)
{
    fprintf(stderr,
            "usage: opentlsrpt [-f] [-n] [-v] [-c FILE] [-o name=value]...\n"
            "  -f  stay in the foreground and log to stderr\n"
            "  -n  check the configuration (and the fleet database), print the effective settings, "
            "exit\n"
            "  -v  verbose logging\n"
            "  -c  configuration file (default %s)\n"
            "  -o  override a setting\n",
            config_default_path());
    exit(2);
}

/* -n with fleet_database: connect and check the schema, as the ship role will. */
static int main_check_fleet(const config *cfg)
{
    char err[512];
    PGconn *db = fleet_db_open(cfg, err, sizeof(err));

    if (db == NULL) {
        msg_error("fleet database: %s", err);
        return 1;
    }
    msg_info("fleet database: connected, schema version %d", FLEET_SCHEMA_VERSION);
    PQfinish(db);
    return 0;
}

static void daemonize(void)
{
    pid_t pid = fork();

    if (pid < 0)
        msg_fatal("fork: %m");
    if (pid > 0)
        _exit(0);
    if (setsid() < 0)
        msg_fatal("setsid: %m");
    if (chdir("/") < 0)
        msg_fatal("chdir /: %m");
    int fd = open("/dev/null", O_RDWR);
    if (fd >= 0) {
        dup2(fd, 0);
        dup2(fd, 1);
        dup2(fd, 2);
        if (fd > 2)
            close(fd);
    }
}

/* Settings that each make sense alone but together lose outcomes: said on -n. */
static void main_warn_combinations(const config *cfg)
{
    if (*cfg->policy_socket && !*cfg->tlsrpt_socket && !*cfg->log_follow)
        msg_warn("policy_socket is set but neither tlsrpt_socket nor log_follow: a failed "
                 "MTA-STS fetch is reported only on the sessions it affected, and no role "
                 "sees them");
    if (*cfg->policy_socket && strcmp(cfg->postfix_tls_level, "none") == 0)
        msg_warn("postfix_tls_level = none: Postfix sends no TLS to domains without an "
                 "enforced MTA-STS policy, so their failed fetches and testing-mode "
                 "sessions cannot be reported");
    if (*cfg->policy_socket && cfg->postfix_tlsrpt_attributes && *cfg->log_follow &&
        !*cfg->tlsrpt_socket)
        msg_warn("postfix_tlsrpt_attributes = yes with log_follow and no tlsrpt_socket: "
                 "Postfix 3.9 and older reject the attributes (\"invalid attribute name\")");
}

int main(int argc, char **argv)
{
    config_args args;
    int foreground = 0, check = 0, ch;

    msg_open("opentlsrpt", MSG_TO_STDERR);
    config_args_init(&args);
    while ((ch = getopt(argc, argv, "fnvc:o:h")) != -1) {
        switch (ch) {
        case 'f':
            foreground = 1;
            break;
        case 'n':
            check = 1;
            break;
        default:
            if (!config_args_option(&args, ch, optarg))
                usage();
        }
    }
    if (optind != argc)
        usage();
    msg_set_verbose(args.verbose);
    config *cfg = config_args_load(&args);
    if (cfg == NULL)
        return 1;
    if (check) {
        main_warn_combinations(cfg);
        config_print(cfg, stdout, 0);
        int ret = fleet_enabled(cfg) ? main_check_fleet(cfg) : 0;
        config_free(cfg);
        return ret;
    }
    /* Before daemonizing: a refused second instance says why on the terminal. */
    instance_lock(cfg->spool_directory);
    if (!foreground) {
        daemonize();
        msg_destinations(MSG_TO_SYSLOG);
    }
    return supervisor_run(cfg, &args);
}
