/*
 * opentlsrpt-agent check DOMAIN [--port 25] [--format text|json] [--timeout 10] [--all]
 * [--helo NAME]: audits DOMAIN's inbound mail TLS as senders see it (common/check/check.c) and
 * prints each step with its verdict, evidence and fix. Exit status: 0 ok, 1 warnings,
 * 2 errors, 3 the check could not run. The JSON form is described by
 * tests/data/check.schema.json and documented in opentlsrpt-agent(8).
 */
#include <getopt.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent.h"
#include "check.h"
#include "domain.h"
#include "msg.h"

#define CHECK_JSON_VERSION 1

static const char *cmd_check_result(int status)
{
    static const char *names[] = {"ok", "warning", "error", "failed"};
    return names[status < 0 || status > 3 ? 3 : status];
}

static void cmd_check_text(const check_report *rep, int status)
{
    const char *last_host = NULL, *last_addr = NULL;

    printf("check of %s\n", rep->domain);
    for (size_t i = 0; i < rep->nsteps; i++) {
        const check_step *s = &rep->steps[i];
        int same = (s->host == NULL) == (last_host == NULL) &&
                   (s->host == NULL || strcmp(s->host, last_host) == 0) &&
                   (s->address == NULL) == (last_addr == NULL) &&
                   (s->address == NULL || strcmp(s->address, last_addr) == 0);
        if (!same && s->host)
            printf("%s%s%s%s\n", s->host, s->address ? " [" : "", s->address ? s->address : "",
                   s->address ? "]" : "");
        last_host = s->host;
        last_addr = s->address;
        printf("  %-8s %-16s %s\n", check_verdict_name(s->verdict), s->name, s->evidence);
        if (s->fix)
            printf("  %-8s %-16s fix: %s\n", "", "", s->fix);
    }
    if (rep->could_not_run) {
        printf("the check could not run: %s\n", rep->why);
        return;
    }
    const check_sender *senders[2] = {&rep->sts, &rep->dane};
    const char *labels[2] = {"MTA-STS sender", "DANE sender"};
    printf("summary\n");
    for (int k = 0; k < 2; k++) {
        const check_sender *c = senders[k];
        printf("  %-15s %s (policy %s): %s\n", labels[k], c->action, c->policy, c->why);
        if (c->ntypes) {
            printf("  %-15s would report:", "");
            for (size_t i = 0; i < c->ntypes; i++)
                printf(" %s", c->types[i]);
            printf("\n");
        }
    }
    printf("result: %s (exit %d)\n", cmd_check_result(status), status);
}

static json_object *cmd_check_sender(const check_sender *c)
{
    json_object *o = json_object_new_object(), *t = json_object_new_array();
    json_object_object_add(o, "policy", json_object_new_string(c->policy));
    json_object_object_add(o, "action", json_object_new_string(c->action));
    json_object_object_add(o, "why", json_object_new_string(c->why));
    for (size_t i = 0; i < c->ntypes; i++)
        json_object_array_add(t, json_object_new_string(c->types[i]));
    json_object_object_add(o, "result-types", t);
    return o;
}

static void cmd_check_json(const check_report *rep, int status)
{
    json_object *root = json_object_new_object(), *steps = json_object_new_array();

    json_object_object_add(root, "version", json_object_new_int(CHECK_JSON_VERSION));
    json_object_object_add(root, "domain", json_object_new_string(rep->domain));
    json_object_object_add(root, "result", json_object_new_string(cmd_check_result(status)));
    json_object_object_add(root, "exit", json_object_new_int(status));
    for (size_t i = 0; i < rep->nsteps; i++) {
        const check_step *s = &rep->steps[i];
        json_object *o = json_object_new_object();
        json_object_object_add(o, "step", json_object_new_string(s->name));
        if (s->host)
            json_object_object_add(o, "host", json_object_new_string(s->host));
        if (s->address)
            json_object_object_add(o, "address", json_object_new_string(s->address));
        json_object_object_add(o, "verdict",
                               json_object_new_string(check_verdict_name(s->verdict)));
        json_object_object_add(o, "evidence", json_object_new_string(s->evidence));
        if (s->fix)
            json_object_object_add(o, "fix", json_object_new_string(s->fix));
        json_object_array_add(steps, o);
    }
    json_object_object_add(root, "steps", steps);
    if (rep->could_not_run) {
        json_object_object_add(root, "error", json_object_new_string(rep->why));
    } else {
        json_object *sum = json_object_new_object();
        json_object_object_add(sum, "sts", cmd_check_sender(&rep->sts));
        json_object_object_add(sum, "dane", cmd_check_sender(&rep->dane));
        json_object_object_add(root, "summary", sum);
    }
    printf("%s\n", json_object_to_json_string_ext(root, JSON_C_TO_STRING_PRETTY |
                                                            JSON_C_TO_STRING_NOSLASHESCAPE));
    json_object_put(root);
}

/* Parses a decimal option in [lo, hi]; -1 when it is not one. */
static long cmd_check_number(const char *s, long lo, long hi)
{
    char *end;
    long v = strtol(s, &end, 10);
    return *s == 0 || *end != 0 || v < lo || v > hi ? -1 : v;
}

int cmd_check(agent_ctx *ctx, int argc, char **argv)
{
    static const struct option opts[] = {
        {"port", required_argument, NULL, 'p'},    {"format", required_argument, NULL, 'f'},
        {"timeout", required_argument, NULL, 't'}, {"all", no_argument, NULL, 'a'},
        {"helo", required_argument, NULL, 'H'},    {NULL, 0, NULL, 0}};
    char domain[DOMAIN_MAX + 1], helo[DOMAIN_MAX + 1] = "";
    check_opts o = {ctx->cfg, 25, 10, 0, NULL};
    int json = 0, ch;
    long v;

    while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (ch) {
        case 'p':
            if ((v = cmd_check_number(optarg, 1, 65535)) < 0)
                goto usage;
            o.port = (unsigned)v;
            break;
        case 't':
            if ((v = cmd_check_number(optarg, 1, 300)) < 0)
                goto usage;
            o.timeout = (int)v;
            break;
        case 'f':
            if (strcmp(optarg, "json") != 0 && strcmp(optarg, "text") != 0)
                goto usage;
            json = strcmp(optarg, "json") == 0;
            break;
        case 'a':
            o.all = 1;
            break;
        case 'H':
            if (domain_normalize(optarg, strlen(optarg), helo, sizeof(helo)) < 0)
                goto usage;
            break;
        default:
            goto usage;
        }
    }
    if (optind != argc - 1)
        goto usage;
    if (domain_normalize(argv[optind], strlen(argv[optind]), domain, sizeof(domain)) < 0) {
        msg_error("\"%s\" is not a domain name", argv[optind]);
        return 3;
    }
    if (*helo == 0) {
        char local[256];
        if (gethostname(local, sizeof(local) - 1) != 0 ||
            domain_normalize(local, strnlen(local, sizeof(local) - 1), helo, sizeof(helo)) < 0)
            snprintf(helo, sizeof(helo), "localhost");
    }
    o.helo = helo;

    check_report rep;
    int status = check_run(domain, &o, &rep);
    if (json)
        cmd_check_json(&rep, status);
    else
        cmd_check_text(&rep, status);
    check_report_free(&rep);
    return status;

usage:
    fprintf(stderr, "usage: opentlsrpt-agent check [--port N] [--format text|json] "
                    "[--timeout SECONDS] [--all] [--helo NAME] DOMAIN\n");
    return 3;
}
