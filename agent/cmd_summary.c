/* opentlsrpt-agent summary: the received reports translated into plain words, with the
 * issues worth acting on; --alerts prints only the issues new since its last run. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agent.h"
#include "domain.h"
#include "fsutil.h"
#include "htable.h"
#include "inbound_tls.h"
#include "msg.h"
#include "report_export.h"
#include "report_store.h"
#include "spool_store.h"
#include "summary.h"

#define SUMMARY_STATE     "alerts.seen" /* in the spool's state area */
#define SUMMARY_STATE_MAX (16 * 1024 * 1024)

typedef struct {
    summary *sum;
    const char *report_id; /* --report: only this one, printed as stored */
    json_object *found;
    vstring *export; /* --format csv or jsonl: the reports of the days shown */
    int csv;
    const char *domain;
    char from[SPOOL_DAY_LEN + 1], to[SPOOL_DAY_LEN + 1];
} summary_walk;

static json_object *summary_str(const char *s)
{
    return s ? json_object_new_string(s) : NULL;
}

#define SUMMARY_RAW_TREE_MAX (64 * 1024)

static int summary_visit(const inreport *r, const report_store_info *info, void *ctx)
{
    summary_walk *w = ctx;
    if (w->export) {
        char day[SPOOL_DAY_LEN + 1];
        spool_day_of(r->start, day);
        if (strcmp(day, w->from) >= 0 && strcmp(day, w->to) <= 0) {
            if (w->csv)
                report_export_csv(r, w->domain, w->export);
            else
                report_export_jsonl(r, w->domain, w->export);
        }
        return 0;
    }
    if (w->report_id == NULL) {
        summary_add(w->sum, r, info);
        return 0;
    }
    if (strcmp(r->report_id, w->report_id) != 0)
        return 0;
    if (w->found == NULL)
        w->found = json_object_new_array();
    json_object *o = json_object_new_object();
    json_object_object_add(o, "received", json_object_new_int64((int64_t)info->received));
    json_object_object_add(o, "source", summary_str(info->source));
    json_object_object_add(o, "dkim", summary_str(info->dkim));
    json_object_object_add(o, "tls-report-domain", summary_str(info->header_domain));
    json_object_object_add(o, "report", inreport_json(r));
    /* As the reporter sent it: the fields the normalized form leaves out, its own spelling.
     * A json-c tree costs ~1 KB per value: a large text is shown as the string it is. */
    json_object *raw = info->raw && strlen(info->raw) <= SUMMARY_RAW_TREE_MAX
                           ? json_tokener_parse(info->raw)
                           : NULL;
    json_object_object_add(o, "as-received", raw ? raw : summary_str(info->raw));
    json_object_array_add(w->found, o);
    return 0;
}

/* Writes out to the file output (replaced atomically), or to stdout; returns 0 or 1. */
static int summary_write(const vstring *out, const char *output)
{
    if (output) {
        if (fsutil_write_atomic(output, out->data, out->len, 0644) == 0)
            return 0;
        msg_error("%s: %m", output);
        return 1;
    }
    fwrite(out->data, 1, out->len, stdout);
    return fflush(stdout) == 0 ? 0 : 1;
}

/* --since: YYYY-MM-DD, or N days back ("7d"; "0d" is today). */
static int summary_since(const char *arg, char *out)
{
    char *end;
    if (spool_day_parse(arg) >= 0) {
        snprintf(out, SPOOL_DAY_LEN + 1, "%s", arg);
        return 0;
    }
    errno = 0;
    long n = strtol(arg, &end, 10);
    if (errno || end == arg || strcmp(end, "d") != 0 || n < 0 || n > 36600)
        return -1;
    spool_day_of(time(NULL) - n * 86400L, out);
    return 0;
}

/* Prints the issues not in the state file, then records them all; returns how many were new. */
static int summary_alerts(agent_ctx *ctx, summary *sum)
{
    char path[PATH_MAX], oldest[SPOOL_DAY_LEN + 1];
    vstring *state = vstring_alloc(0), *next = vstring_alloc(0);
    htable *seen = htable_create(64);
    size_t n;
    int fresh = 0;

    const char *root = spool_dir(agent_spool(ctx));
    spool_store_describe(root, SPOOL_AREA_STATE, SUMMARY_STATE, path, sizeof(path));
    if (spool_store_read(root, SPOOL_AREA_STATE, SUMMARY_STATE, state, SUMMARY_STATE_MAX) < 0 &&
        errno != ENOENT)
        msg_warn("%s: %m; every issue counts as new", path);
    /* Keys name their day (kind|domain|day|detail): forget those past retention. */
    spool_day_of(time(NULL) - (time_t)ctx->cfg->retention_days * 86400, oldest);
    for (char *line = state->data, *nl; line && *line; line = nl ? nl + 1 : NULL) {
        nl = strchr(line, '\n');
        if (nl)
            *nl = 0;
        int created;
        char *d1 = strchr(line, '|'), *d2 = d1 ? strchr(d1 + 1, '|') : NULL;
        if (d2 == NULL || strncmp(d2 + 1, oldest, SPOOL_DAY_LEN) < 0)
            continue;
        htable_enter(seen, line, strlen(line), &created);
        if (created) {
            vstring_append_str(next, line);
            vstring_append_char(next, '\n');
        }
    }
    const summary_issue *is = summary_issues(sum, &n);
    for (size_t i = 0; i < n; i++) {
        int created;
        htable_enter(seen, is[i].key, strlen(is[i].key), &created);
        if (!created)
            continue;
        printf("%s\n", is[i].text);
        vstring_append_str(next, is[i].key);
        vstring_append_char(next, '\n');
        fresh++;
    }
    if (fresh &&
        spool_store_replace(root, SPOOL_AREA_STATE, SUMMARY_STATE, next->data, next->len) < 0)
        msg_error("%s: %m (the same issues will be reported again)", path);
    htable_free(seen, NULL);
    vstring_free(state);
    vstring_free(next);
    return fresh;
}

int cmd_summary(agent_ctx *ctx, int argc, char **argv)
{
    static const struct option opts[] = {
        {"since", required_argument, NULL, 's'},  {"domain", required_argument, NULL, 'D'},
        {"format", required_argument, NULL, 'f'}, {"output", required_argument, NULL, 'o'},
        {"alerts", no_argument, NULL, 'a'},       {"until", required_argument, NULL, 'u'},
        {"report", required_argument, NULL, 'r'}, {NULL, 0, NULL, 0},
    };
    char since[SPOOL_DAY_LEN + 1];
    const char *format = "text", *output = NULL, *until = NULL, *report_id = NULL;
    agent_scope sc = {0};
    int ch, alerts = 0;

    spool_day_of(time(NULL) - 7 * 86400L, since);
    while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (ch) {
        case 's':
            if (summary_since(optarg, since) < 0) {
                msg_error("--since: expected YYYY-MM-DD or a number of days such as 7d");
                return 2;
            }
            break;
        case 'D':
            if (agent_scope_option(&sc, ch, optarg) != 0)
                return 2;
            break;
        case 'f':
            format = optarg;
            if (strcmp(format, "text") && strcmp(format, "json") && strcmp(format, "html") &&
                strcmp(format, "csv") && strcmp(format, "jsonl")) {
                msg_error("--format: expected text, json, html, csv or jsonl");
                return 2;
            }
            break;
        case 'o':
            output = optarg;
            break;
        case 'r':
            report_id = optarg;
            break;
        case 'u':
            if (spool_day_parse(optarg) < 0) {
                msg_error("--until: expected YYYY-MM-DD");
                return 2;
            }
            until = optarg;
            break;
        case 'a':
            alerts = 1;
            break;
        default:
            goto usage;
        }
    }
    if (optind != argc)
        goto usage;
    size_t max = (size_t)ctx->cfg->max_report_size;
    report_store *st = report_store_open(spool_dir(agent_spool(ctx)), max);
    if (st == NULL) {
        msg_error("cannot use the report store in %s: %m", ctx->cfg->spool_directory);
        return 1;
    }
    summary_walk w;
    memset(&w, 0, sizeof(w));
    w.sum = summary_new(since, sc.domain);
    w.report_id = report_id;
    if (until)
        summary_set_today(w.sum, until);
    if (report_id) {
        /* One report, as stored (the same report-id from two reporters: both). */
        report_store_iterate(st, NULL, summary_visit, &w);
        report_store_close(st);
        summary_free(w.sum);
        if (w.found == NULL) {
            msg_error("--report: no stored report has the id \"%s\"", report_id);
            return 1;
        }
        json_object *one = json_object_array_length(w.found) == 1
                               ? json_object_get(json_object_array_get_idx(w.found, 0))
                               : json_object_get(w.found);
        printf("%s\n", json_object_to_json_string_ext(one, JSON_C_TO_STRING_PRETTY |
                                                               JSON_C_TO_STRING_NOSLASHESCAPE));
        json_object_put(one);
        json_object_put(w.found);
        return fflush(stdout) == 0 ? 0 : 1;
    }
    int status = 0;
    if (strcmp(format, "csv") == 0 || strcmp(format, "jsonl") == 0) {
        /* Reports as they are, for other tools: no summary. */
        w.export = vstring_alloc(0);
        w.csv = strcmp(format, "csv") == 0;
        w.domain = sc.domain;
        snprintf(w.from, sizeof(w.from), "%s", since);
        if (until)
            snprintf(w.to, sizeof(w.to), "%s", until);
        else
            spool_day_of(time(NULL), w.to);
        if (w.csv)
            report_export_csv_header(w.export);
        report_store_iterate(st, since, summary_visit, &w);
        report_store_close(st);
        summary_free(w.sum);
        status = summary_write(w.export, output);
        vstring_free(w.export);
        return status;
    }
    /* Earlier days are read too: issues compare each reporter's reports with its previous. */
    report_store_iterate(st, summary_first_day(w.sum), summary_visit, &w);
    report_store_close(st);
    /* Inbound TLS counters of the days shown, when record_inbound_tls kept any. */
    time_t today = time(NULL);
    for (time_t t = spool_day_parse(since); t >= 0 && t <= today; t += 86400) {
        char day[SPOOL_DAY_LEN + 1];
        spool_day_of(t, day);
        summary_add_inbound(w.sum, day, inbound_tls_load(spool_dir(agent_spool(ctx)), day));
    }
    if (alerts) {
        status = summary_alerts(ctx, w.sum) > 0;
        summary_free(w.sum);
        return fflush(stdout) == 0 ? status : 2;
    }
    vstring *out = vstring_alloc(0);
    if (strcmp(format, "json") == 0) {
        json_object *obj = summary_json(w.sum);
        vstring_append_str(out, json_object_to_json_string_ext(
                                    obj, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
        vstring_append_char(out, '\n');
        json_object_put(obj);
    } else if (strcmp(format, "html") == 0) {
        summary_html(w.sum, out);
    } else {
        summary_text(w.sum, out);
    }
    status = summary_write(out, output);
    vstring_free(out);
    summary_free(w.sum);
    return status;

usage:
    fprintf(stderr, "usage: opentlsrpt-agent summary [--since YYYY-MM-DD|Nd] [--domain D] "
                    "[--until YYYY-MM-DD] [--format text|json|html|csv|jsonl] [--output FILE] "
                    "[--alerts]\n"
                    "       opentlsrpt-agent summary --report REPORT-ID\n");
    return 2;
}
