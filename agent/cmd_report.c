/* opentlsrpt-agent report: the reports a day's outcomes yield, printed, never sent. */
#include <getopt.h>
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

#include "agent.h"
#include "discover.h"
#include "domain.h"
#include "msg.h"
#include "report.h"

typedef struct {
    report_set *rs;
    const char *only;
} report_walk;

static int report_visit(const outcome *o, void *ctx)
{
    report_walk *rw = ctx;

    report_set_add(rw->rs, o, rw->only);
    return 0;
}

/* One report, one line; --pretty re-indents it through json-c (for people, not speed). */
static void report_print(const vstring *text, int pretty)
{
    json_object *obj = pretty ? json_tokener_parse(text->data) : NULL;

    if (obj) {
        fputs(json_object_to_json_string_ext(obj, JSON_C_TO_STRING_NOSLASHESCAPE |
                                                      JSON_C_TO_STRING_PRETTY |
                                                      JSON_C_TO_STRING_SPACED),
              stdout);
        json_object_put(obj);
    } else {
        fwrite(text->data, 1, text->len, stdout);
    }
    fputc('\n', stdout);
}

/* --with-rua: a comment line before the report says where run would send it. */
static void report_print_rua(discover *d, const char *domain)
{
    const tlsrpt_record *rec;

    switch (discover_rua(d, domain, &rec)) {
    case DISCOVER_TEMPFAIL:
        printf("# %s rua: unknown (DNS lookup failed temporarily)\n", domain);
        return;
    case DISCOVER_NONE:
        printf("# %s rua: none (no usable TLSRPT record)\n", domain);
        return;
    case DISCOVER_OK:
        break;
    }
    printf("# %s rua:", domain);
    for (size_t i = 0; i < rec->n; i++)
        printf(" %s", rec->uris[i].uri);
    printf("%s\n", rec->n ? "" : " none (no usable URI)");
}

int cmd_report(agent_ctx *ctx, int argc, char **argv)
{
    static const struct option opts[] = {
        {"day", required_argument, NULL, 'd'},
        {"domain", required_argument, NULL, 'D'},
        {"pretty", no_argument, NULL, 'p'},
        {"with-rua", no_argument, NULL, 'r'},
        {NULL, 0, NULL, 0},
    };
    agent_scope sc = {0};
    int ch, pretty = 0, with_rua = 0;

    while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (ch) {
        case 'd':
        case 'D':
            if (agent_scope_option(&sc, ch, optarg) != 0)
                return 2;
            break;
        case 'p':
            pretty = 1;
            break;
        case 'r':
            with_rua = 1;
            break;
        default:
            goto usage;
        }
    }
    if (sc.day == NULL || optind != argc)
        goto usage;
    const char *day = sc.day, *domain = sc.domain;
    report_opts ro;
    report_opts_init(&ro, ctx->cfg);
    discover *d = NULL;
    if (with_rua && (d = discover_new(ctx)) == NULL) {
        report_opts_done(&ro);
        return 1;
    }
    report_walk rw = {report_set_new(day), domain};
    vstring *text = vstring_alloc(0);
    report_set_limit(rw.rs, (size_t)ctx->cfg->report_memory_max);
    journal_stats js;
    size_t ndomains = 0;
    int status = 0;
    while (status == 0 && report_set_pass(rw.rs)) {
        if (spool_iterate_day(agent_spool(ctx), day, report_visit, &rw, &js) < 0) {
            status = 1;
            break;
        }
        const char *const *domains = report_set_domains(rw.rs);
        for (size_t i = 0; domains[i]; i++, ndomains++) {
            if (d)
                report_print_rua(d, domains[i]);
            report_set_text(rw.rs, domains[i], &ro, text);
            report_print(text, pretty);
        }
    }
    if (ctx->verbose && status == 0)
        fprintf(stderr, "%s: %llu outcomes, %zu report domain(s), %zu pass(es)\n", day,
                (unsigned long long)js.records, ndomains, report_set_passes(rw.rs));
    discover_free(d);
    report_opts_done(&ro);
    report_set_free(rw.rs);
    vstring_free(text);
    if (status)
        return status;
    return fflush(stdout) == 0 ? 0 : 1;

usage:
    fprintf(stderr, "usage: opentlsrpt-agent report --day YYYY-MM-DD [--domain D] [--pretty] "
                    "[--with-rua]\n");
    return 2;
}
