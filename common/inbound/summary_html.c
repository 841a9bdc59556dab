/* The summary as one self-contained HTML page: no script, no outside resource. The top
 * says how each domain is doing and links to it; issues take one line each until opened;
 * each domain's chart shows the success rate over real dates on a scale of nines, so
 * that 2 failures in 4,525 sessions and a day where everything failed both show. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "mymalloc.h"
#include "summary_int.h"

void summary_html_esc(vstring *out, const char *s)
{
    vstring *t = vstring_alloc(0);
    summary_text_esc(t, s);
    for (const char *p = t->data; *p; p++) {
        switch (*p) {
        case '&':
            vstring_append_str(out, "&amp;");
            break;
        case '<':
            vstring_append_str(out, "&lt;");
            break;
        case '>':
            vstring_append_str(out, "&gt;");
            break;
        case '"':
            vstring_append_str(out, "&quot;");
            break;
        case '\'':
            vstring_append_str(out, "&#39;");
            break;
        default:
            vstring_append_char(out, *p);
        }
    }
    vstring_free(t);
}

#define CHART_W    760 /* whole picture */
#define CHART_H    230
#define CHART_L    70 /* plot area */
#define CHART_R    20
#define CHART_T    15
#define CHART_B    45
#define CHART_MINF 1e-4 /* failure share at the first grid line under the top (99.99%) */

/* y of a failure share f on the scale of nines: 0 at the top, then 99.99%, 99.9%, 99%,
 * 90% and 0% at equal steps, linear within each step (no libm needed). */
static double summary_chart_y(double f)
{
    double ph = CHART_H - CHART_T - CHART_B, v = 0;
    if (f <= 0)
        return CHART_T;
    if (f < CHART_MINF) {
        v = 0.5 + 0.5 * f / CHART_MINF; /* below 99.99% of success: still off the top */
    } else {
        double lo = CHART_MINF;
        v = 1;
        while (lo * 10 < f && v < 4) {
            lo *= 10;
            v += 1;
        }
        v += (f - lo) / (lo * 9);
    }
    return CHART_T + ph * v / 5;
}

static void summary_chart(summary *s, sum_domain *dom, int id, vstring *out)
{
    htable_entry **days = summary_days_sorted(dom);
    time_t t0 = -1, t1 = -1;
    const char *d0 = NULL, *d1 = NULL;

    for (size_t j = 0; j < dom->days->used; j++) {
        sum_day *d = days[j]->value;
        if (!summary_shown(s, d->day))
            continue;
        time_t t = spool_day_parse(d->day);
        if (t0 < 0) {
            t0 = t;
            d0 = d->day;
        }
        t1 = t;
        d1 = d->day;
    }
    /* The axis starts at since when given: a quiet start shows as a gap. */
    if (s->since[0] && spool_day_parse(s->since) < t0) {
        t0 = spool_day_parse(s->since);
        d0 = s->since;
    }
    double pw = CHART_W - CHART_L - CHART_R;
    double span = t1 > t0 ? (double)(t1 - t0) : 1;
    vstring_sprintf_append(
        out,
        "<svg class=\"chart\" id=\"chart-%d\" xmlns=\"http://www.w3.org/2000/svg\" "
        "width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" role=\"img\" "
        "aria-label=\"success rate per day of ",
        id, CHART_W, CHART_H, CHART_W, CHART_H);
    summary_html_esc(out, dom->name);
    vstring_append_str(out, "\">\n");
    static const struct {
        double f;
        const char *label;
    } grid[] = {{0, "100%"},   {1e-4, "99.99%"}, {1e-3, "99.9%"},
                {1e-2, "99%"}, {1e-1, "90%"},    {1, "0%"}};
    for (size_t g = 0; g < sizeof(grid) / sizeof(grid[0]); g++) {
        double y = summary_chart_y(grid[g].f);
        vstring_sprintf_append(out,
                               "<line class=\"grid\" x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\"/>"
                               "<text class=\"ylabel\" x=\"%d\" y=\"%.1f\">%s</text>\n",
                               CHART_L, y, CHART_W - CHART_R, y, CHART_L - 6, y + 4, grid[g].label);
    }
    /* Dates with their year at both ends, and at most 6 in between. */
    long ndays = (long)(span / 86400) + 1;
    long every = ndays <= 7 ? 1 : (ndays + 6) / 7;
    for (long k = 0; k < ndays; k += every) {
        char day[SPOOL_DAY_LEN + 1];
        spool_day_of(t0 + k * 86400L, day);
        double x = CHART_L + (t1 > t0 ? pw * (double)(k * 86400L) / span : pw / 2);
        vstring_sprintf_append(
            out,
            "<text class=\"xlabel\" x=\"%.1f\" y=\"%d\">%s</text>"
            "<line class=\"tick\" x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\"/>\n",
            x, CHART_H - CHART_B + 18, day, x, CHART_H - CHART_B, x, CHART_H - CHART_B + 5);
    }
    (void)d0;
    (void)d1;
    vstring *line = vstring_alloc(0);
    time_t prev_t = 0;
    for (size_t j = 0; j < dom->days->used; j++) {
        sum_day *d = days[j]->value;
        if (!summary_shown(s, d->day))
            continue;
        uint64_t total = d->total.ok + d->total.failed;
        double f = total ? (double)d->total.failed / (double)total : 0;
        double x =
            CHART_L + (t1 > t0 ? pw * (double)(spool_day_parse(d->day) - t0) / span : pw / 2);
        double y = summary_chart_y(f);
        /* A day without reports breaks the line: no rate is drawn where none is known. */
        time_t t = spool_day_parse(d->day);
        if (line->len && t - prev_t > 86400) {
            vstring_sprintf_append(out, "<polyline class=\"rate\" points=\"%s\"/>\n", line->data);
            vstring_reset(line);
        }
        prev_t = t;
        vstring_sprintf_append(line, "%s%.1f,%.1f", line->len ? " " : "", x, y);
        char rate[32];
        summary_rate_text(&d->total, rate, sizeof(rate));
        vstring_sprintf_append(out,
                               "<circle class=\"%s\" data-day=\"%s\" data-failed=\"%" PRIu64
                               "\" cx=\"%.1f\" cy=\"%.1f\" r=\"%d\"><title>%s: %s of %" PRIu64
                               " session%s successful, %" PRIu64 " failed</title></circle>\n",
                               d->total.failed ? "failed" : "ok", d->day, d->total.failed, x, y,
                               d->total.failed ? 6 : 4, d->day, rate, total, total == 1 ? "" : "s",
                               d->total.failed);
    }
    vstring_sprintf_append(out, "<polyline class=\"rate\" points=\"%s\"/>\n</svg>\n", line->data);
    vstring_free(line);
    myfree(days);
}

static const char summary_css[] =
    "body{font-family:system-ui,sans-serif;margin:0;color:#1d2430;background:#f4f6f9}\n"
    "main{max-width:64em;margin:0 auto;padding:1.2em 2em 3em}\n"
    "h1{font-size:1.5em;margin:.2em 0}h2{font-size:1.25em;margin:0 0 .4em}"
    "h3{font-size:1em;margin:1em 0 .3em;color:#445}\n"
    ".lead{color:#556;margin:.2em 0 1em}\n"
    ".cards{display:flex;flex-wrap:wrap;gap:.6em;margin:0 0 1em;padding:0;list-style:none}\n"
    ".cards a{display:block;padding:.55em .9em;border-radius:8px;background:#fff;"
    "text-decoration:none;color:inherit;border-left:6px solid #2e8b57;"
    "box-shadow:0 1px 2px #0002}\n"
    ".cards a.bad{border-left-color:#c0392b}.cards b{display:block}"
    ".cards span{color:#556;font-size:.9em}\n"
    "section{background:#fff;border-radius:10px;padding:1em 1.3em;margin:1em 0;"
    "box-shadow:0 1px 3px #0002}\n"
    "details.issue{margin:.15em 0}details.issue>summary{white-space:nowrap;overflow:hidden;"
    "text-overflow:ellipsis;cursor:pointer;padding:.2em .5em;border-left:4px solid #e0a800;"
    "background:#fff8e1;border-radius:3px}\n"
    "details.issue[open]>summary{white-space:normal}\n"
    ".kind{font-weight:600;color:#7a5b00;margin-right:.4em}\n"
    "table{border-collapse:collapse;margin:.4em 0;font-size:.92em}"
    "td,th{border-bottom:1px solid #e3e6ea;padding:.25em .7em;text-align:right}"
    "th{color:#556;font-weight:600}td.l,th.l{text-align:left}\n"
    "tr.failed td{color:#a32a1c}\n"
    "ul.failures li{margin:.35em 0}.fix{color:#4a5563}\n"
    "svg.chart{max-width:100%;height:auto}svg .grid{stroke:#e3e6ea}"
    "svg .tick{stroke:#99a}svg .ylabel{font-size:11px;text-anchor:end;fill:#556}"
    "svg .xlabel{font-size:11px;text-anchor:middle;fill:#556}"
    "svg .rate{fill:none;stroke:#7a8aa0;stroke-width:1.5}"
    "svg circle.ok{fill:#2e8b57}svg circle.failed{fill:#c0392b}\n"
    "code{background:#eef1f4;padding:0 .3em;border-radius:3px}\n"
    "details.raw pre{white-space:pre-wrap;word-break:break-all;max-width:40em;"
    "font-size:.85em;background:#f7f8fa;padding:.5em}\n"
    "table.reports td:first-child,table.reports td:nth-child(2){white-space:nowrap}\n"
    ".scroll{overflow-x:auto}details.reports>summary{cursor:pointer;margin:1em 0 .3em}\n";

/* A one-line card per domain at the top, linking to its section. */
static void summary_html_cards(summary *s, htable_entry **doms, vstring *out)
{
    vstring_append_str(out, "<ul class=\"cards\">\n");
    for (size_t i = 0; i < s->domains->used; i++) {
        sum_domain *dom = doms[i]->value;
        if (!summary_domain_shown(s, dom))
            continue;
        sum_counts c = {0, 0};
        htable_entry **days = summary_days_sorted(dom);
        for (size_t j = 0; j < dom->days->used; j++) {
            sum_day *d = days[j]->value;
            if (summary_shown(s, d->day)) {
                c.ok += d->total.ok;
                c.failed += d->total.failed;
            }
        }
        myfree(days);
        char rate[32];
        summary_rate_text(&c, rate, sizeof(rate));
        vstring *name = vstring_alloc(0);
        summary_domain_name(dom, name);
        vstring_sprintf_append(out, "<li><a class=\"%s\" href=\"#d-%zu\"><b>",
                               c.failed ? "bad" : "good", i);
        summary_html_esc(out, name->data);
        vstring_sprintf_append(out,
                               "</b><span>%s successful, %" PRIu64 " of %" PRIu64
                               " sessions failed</span></a></li>\n",
                               rate, c.failed, c.ok + c.failed);
        vstring_free(name);
    }
    vstring_append_str(out, "</ul>\n");
}

static void summary_html_issues(summary *s, vstring *out)
{
    size_t nis;
    const summary_issue *is = summary_issues(s, &nis);

    vstring_sprintf_append(out, "<section id=\"issues\"><h2>%zu issue%s</h2>\n", nis,
                           nis == 1 ? "" : "s");
    if (nis == 0)
        vstring_append_str(out, "<p>No issues found.</p>\n");
    for (size_t i = 0; i < nis; i++) {
        vstring_append_str(out, "<details class=\"issue\"><summary><span class=\"kind\">");
        summary_html_esc(out, is[i].kind);
        vstring_append_str(out, "</span>");
        summary_html_esc(out, is[i].text);
        vstring_append_str(out, "</summary></details>\n");
    }
    vstring_append_str(out, "</section>\n");
}

static void summary_html_days(summary *s, sum_domain *dom, htable_entry **days, vstring *out)
{
    vstring *t = vstring_alloc(0);
    vstring_append_str(out, "<table class=\"days\"><tr><th class=\"l\">day</th><th>sessions</th>"
                            "<th>failed</th><th>success rate</th><th class=\"l\">policies"
                            "</th></tr>\n");
    for (size_t j = 0; j < dom->days->used; j++) {
        sum_day *d = days[j]->value;
        if (!summary_shown(s, d->day))
            continue;
        char rate[32];
        summary_rate_text(&d->total, rate, sizeof(rate));
        vstring_sprintf_append(out,
                               "<tr%s><td class=\"l\">%s</td><td>%" PRIu64 "</td><td>%" PRIu64
                               "</td><td>%s</td><td class=\"l\">",
                               d->total.failed ? " class=\"failed\"" : "", d->day,
                               d->total.ok + d->total.failed, d->total.failed, rate);
        htable_entry **pols = htable_sorted(d->policies);
        for (size_t k = 0; k < d->policies->used; k++) {
            vstring_reset(t);
            summary_policy_text(pols[k]->value, t);
            if (k)
                vstring_append_str(out, "<br>");
            summary_html_esc(out, t->data);
        }
        myfree(pols);
        vstring_append_str(out, "</td></tr>\n");
    }
    vstring_append_str(out, "</table>\n");
    vstring_free(t);
}

static void summary_html_failures(summary *s, sum_domain *dom, htable_entry **days, vstring *out)
{
    vstring *sent = vstring_alloc(0), *fix = vstring_alloc(0);
    int any = 0;
    for (size_t j = 0; j < dom->days->used; j++) {
        sum_day *d = days[j]->value;
        if (!summary_shown(s, d->day))
            continue;
        htable_entry **fails = summary_fails_sorted(d);
        for (size_t k = 0; k < d->failures->used; k++) {
            if (!any++)
                vstring_append_str(out, "<h3>Failures</h3>\n<ul class=\"failures\">\n");
            vstring_reset(sent);
            vstring_reset(fix);
            summary_sentence(fails[k]->value, dom->name, d->day, sent, fix);
            vstring_append_str(out, "<li>");
            summary_html_esc(out, sent->data);
            vstring_append_str(out, "<br><span class=\"fix\">Fix: ");
            summary_html_esc(out, fix->data);
            vstring_append_str(out, "</span></li>\n");
        }
        myfree(fails);
    }
    if (any)
        vstring_append_str(out, "</ul>\n");
    vstring_free(sent);
    vstring_free(fix);
}

/* One row per reporter, one column per day: who changed, and who went quiet. */
static void summary_html_trend(summary *s, sum_domain *dom, htable_entry **days, vstring *out)
{
    htable *names = summary_reporters_shown(s, dom);
    htable_entry **reps = htable_sorted(names);
    vstring_append_str(out, "<h3>Reporters, day by day</h3>\n<div class=\"scroll\">"
                            "<table class=\"trend\"><tr><th class=\"l\">reporter</th>");
    for (size_t j = 0; j < dom->days->used; j++)
        if (summary_shown(s, days[j]->key))
            vstring_sprintf_append(out, "<th>%s</th>", days[j]->key);
    vstring_append_str(out, "</tr>\n");
    for (size_t k = 0; k < names->used; k++) {
        vstring_append_str(out, "<tr><td class=\"l\">");
        summary_html_esc(out, reps[k]->key);
        vstring_append_str(out, "</td>");
        for (size_t j = 0; j < dom->days->used; j++) {
            sum_day *d = days[j]->value;
            if (!summary_shown(s, d->day))
                continue;
            htable_entry *e = htable_locate(d->reporters, reps[k]->key, strlen(reps[k]->key));
            if (e == NULL) {
                vstring_append_str(out, "<td>&ndash;</td>");
                continue;
            }
            sum_counts *c = e->value;
            char rate[32];
            summary_rate_text(c, rate, sizeof(rate));
            vstring_sprintf_append(out, "<td%s title=\"%" PRIu64 " of %" PRIu64 " failed\">%s</td>",
                                   c->failed ? " class=\"failed\" style=\"color:#a32a1c\"" : "",
                                   c->failed, c->ok + c->failed, rate);
        }
        vstring_append_str(out, "</tr>\n");
    }
    vstring_append_str(out, "</table></div>\n");
    myfree(reps);
    htable_free(names, NULL);
}

/* Whether the ", "-joined list holds name. */
static int summary_html_listed(const char *list, const char *name)
{
    size_t n = strlen(name);
    for (const char *p = list; p && *p; p = strchr(p, ',') ? strchr(p, ',') + 2 : NULL)
        if (strncmp(p, name, n) == 0 && (p[n] == 0 || p[n] == ','))
            return 1;
    return 0;
}

static void summary_html_reports(summary *s, sum_domain *dom, vstring *out)
{
    size_t any = 0, n = 0;
    for (size_t i = 0; i < s->nrlist; i++)
        n += summary_html_listed(s->rlist[i].domains, dom->name);
    for (size_t i = 0; i < s->nrlist; i++) {
        const sum_report *r = &s->rlist[i];
        if (!summary_html_listed(r->domains, dom->name))
            continue;
        if (!any++)
            vstring_sprintf_append(out,
                                   "<details class=\"reports\"><summary><h3 style=\"display:"
                                   "inline\">%zu report%s</h3></summary>\n",
                                   n, n == 1 ? "" : "s");
        if (any == 1)
            vstring_append_str(out, "<table class=\"reports\"><tr>"
                                    "<th class=\"l\">dates</th><th class=\"l\">reporter</th>"
                                    "<th>sessions</th><th>failed</th><th class=\"l\">contact"
                                    "</th><th class=\"l\">DKIM</th><th class=\"l\">report-id "
                                    "(click: the JSON as received; or <code>opentlsrpt-agent "
                                    "summary --report ID</code>)</th></tr>\n");
        char range[64];
        summary_range(r, range, sizeof(range));
        vstring_sprintf_append(out, "<tr><td class=\"l\">%s</td><td class=\"l\">", range);
        summary_html_esc(out, r->reporter);
        vstring_sprintf_append(out, "</td><td>%" PRIu64 "</td><td>%" PRIu64 "</td><td class=\"l\">",
                               r->counts.ok + r->counts.failed, r->counts.failed);
        summary_html_esc(out, r->contact ? r->contact : "");
        vstring_append_str(out, "</td><td class=\"l\">");
        summary_html_esc(out, r->dkim ? r->dkim : "");
        vstring_append_str(out, "</td><td class=\"l\">");
        if (r->raw)
            vstring_append_str(out, "<details class=\"raw\"><summary>");
        vstring_append_str(out, "<code>");
        summary_html_esc(out, r->id);
        vstring_append_str(out, "</code>");
        if (r->raw) {
            vstring_append_str(out, "</summary><pre>");
            summary_html_esc(out, r->raw);
            vstring_append_str(out, "</pre></details>");
        }
        vstring_append_str(out, "</td></tr>\n");
    }
    if (any)
        vstring_append_str(out, "</table></details>\n");
}

static void summary_inbound_html(vstring *out, const char *day, const char *domain,
                                 int64_t messages, int64_t tls, json_object *versions)
{
    (void)versions;
    vstring_append_str(out, domain ? "<tr><td class=\"l\">" : "<tr><th class=\"l\">");
    if (domain)
        summary_html_esc(out, domain);
    else
        vstring_sprintf_append(out, "%s (all senders)", day);
    vstring_sprintf_append(out, "%s<td>%" PRId64 "</td><td>%" PRId64 "</td><td>%.1f%%</td></tr>\n",
                           domain ? "</td>" : "</th>", messages, tls, summary_share(tls, messages));
}

void summary_html(summary *s, vstring *out)
{
    vstring *hdr = vstring_alloc(0), *name = vstring_alloc(0);

    summary_header(s, hdr);
    vstring_append_str(out, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
                            "<meta name=\"viewport\" content=\"width=device-width\">\n"
                            "<title>TLS-RPT summary</title>\n<style>\n");
    vstring_append_str(out, summary_css);
    vstring_append_str(out, "</style></head><body><main>\n<h1>TLS-RPT summary</h1>\n"
                            "<p class=\"lead\">");
    summary_html_esc(out, hdr->data);
    vstring_append_str(out, "</p>\n<nav>\n");
    htable_entry **doms = htable_sorted(s->domains);
    summary_html_cards(s, doms, out);
    vstring_append_str(out, "</nav>\n");
    summary_html_issues(s, out);
    for (size_t i = 0; i < s->domains->used; i++) {
        sum_domain *dom = doms[i]->value;
        if (!summary_domain_shown(s, dom))
            continue;
        vstring_reset(name);
        summary_domain_name(dom, name);
        vstring_sprintf_append(out, "<section class=\"domain\" id=\"d-%zu\"><h2>", i);
        summary_html_esc(out, name->data);
        vstring_append_str(out, "</h2>\n");
        summary_chart(s, dom, (int)i, out);
        htable_entry **days = summary_days_sorted(dom);
        summary_html_days(s, dom, days, out);
        summary_html_failures(s, dom, days, out);
        summary_html_trend(s, dom, days, out);
        myfree(days);
        summary_html_reports(s, dom, out);
        vstring_append_str(out, "</section>\n");
    }
    myfree(doms);
    if (s->inbound) {
        vstring_append_str(out, "<section id=\"inbound\"><h2>Inbound mail over TLS</h2>\n"
                                "<table><tr><th class=\"l\">sender domain</th><th>messages</th>"
                                "<th>over TLS</th><th>share</th></tr>\n");
        summary_inbound_each(s, summary_inbound_html, out);
        vstring_append_str(out, "</table></section>\n");
    }
    vstring_append_str(out, "</main></body></html>\n");
    vstring_free(hdr);
    vstring_free(name);
}
