#include "report_export.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "utf8.h"

/* parsedmarc's parsed_smtp_tls_reports_to_csv columns, in its order. */
static const char *const report_export_columns[] = {
    "organization_name",
    "begin_date",
    "end_date",
    "report_id",
    "result_type",
    "successful_session_count",
    "failed_session_count",
    "policy_domain",
    "policy_type",
    "policy_strings",
    "mx_host_patterns",
    "sending_mta_ip",
    "receiving_ip",
    "receiving_mx_hostname",
    "receiving_mx_helo",
    "additional_info_uri",
    "failure_reason_code",
};

#define NCOLS (sizeof(report_export_columns) / sizeof(report_export_columns[0]))

enum {
    COL_ORG,
    COL_BEGIN,
    COL_END,
    COL_ID,
    COL_RESULT,
    COL_OK,
    COL_FAILED,
    COL_DOMAIN,
    COL_TYPE,
    COL_STRINGS,
    COL_MX,
    COL_SENDING,
    COL_RECEIVING,
    COL_MXNAME,
    COL_HELO,
    COL_INFO,
    COL_REASON,
};

void report_export_csv_header(vstring *out)
{
    for (size_t i = 0; i < NCOLS; i++) {
        if (i)
            vstring_append_char(out, ',');
        vstring_append_str(out, report_export_columns[i]);
    }
    vstring_append_str(out, "\r\n");
}

/* A text field: controls as \xNN, no formula, RFC 4180 quoting when needed. */
static void report_export_field(vstring *out, const char *s)
{
    vstring *t = vstring_alloc(0);

    if (s && (*s == '=' || *s == '+' || *s == '-' || *s == '@'))
        vstring_append_char(t, '\'');
    utf8_escape_controls(t, s ? s : "");
    int quote = strpbrk(t->data, ",\"") != NULL;
    if (quote)
        vstring_append_char(out, '"');
    for (const char *p = t->data; *p; p++) {
        if (*p == '"')
            vstring_append_char(out, '"');
        vstring_append_char(out, *p);
    }
    if (quote)
        vstring_append_char(out, '"');
    vstring_free(t);
}

static void report_export_time(time_t t, char *buf, size_t size)
{
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static void report_export_join(vstring *out, const char *const *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (i)
            vstring_append_char(out, '|');
        vstring_append_str(out, s[i]);
    }
}

static void report_export_row(vstring *out, const char *const *cols)
{
    for (size_t i = 0; i < NCOLS; i++) {
        if (i)
            vstring_append_char(out, ',');
        report_export_field(out, cols[i]);
    }
    vstring_append_str(out, "\r\n");
}

static int report_export_wanted(const inreport_policy *p, const char *domain)
{
    return domain == NULL || (p->domain && strcmp(p->domain, domain) == 0);
}

size_t report_export_csv(const inreport *r, const char *domain, vstring *out)
{
    char begin[32], end[32], ok[24], failed[24];
    const char *cols[NCOLS];
    vstring *strings = vstring_alloc(0), *mx = vstring_alloc(0);
    size_t rows = 0;

    report_export_time(r->start, begin, sizeof(begin));
    report_export_time(r->end, end, sizeof(end));
    for (size_t i = 0; i < r->npolicies; i++) {
        const inreport_policy *p = &r->policies[i];
        if (!report_export_wanted(p, domain))
            continue;
        vstring_reset(strings);
        vstring_reset(mx);
        report_export_join(strings, p->strings, p->nstrings);
        report_export_join(mx, p->mx_hosts, p->nmx_hosts);
        memset(cols, 0, sizeof(cols));
        cols[COL_ORG] = r->organization;
        cols[COL_BEGIN] = begin;
        cols[COL_END] = end;
        cols[COL_ID] = r->report_id;
        cols[COL_DOMAIN] = p->domain;
        cols[COL_TYPE] = p->type;
        cols[COL_STRINGS] = strings->data;
        cols[COL_MX] = mx->data;
        snprintf(ok, sizeof(ok), "%" PRIu64, p->ok);
        snprintf(failed, sizeof(failed), "%" PRIu64, p->failed);
        cols[COL_OK] = ok;
        cols[COL_FAILED] = failed;
        report_export_row(out, cols);
        rows++;
        /* A failure row as parsedmarc's: the report's and policy's fields, its own. */
        cols[COL_OK] = NULL;
        for (size_t j = 0; j < p->nfailures; j++) {
            const inreport_failure *f = &p->failures[j];
            snprintf(failed, sizeof(failed), "%" PRIu64, f->count);
            cols[COL_FAILED] = failed;
            cols[COL_RESULT] = f->result_type;
            cols[COL_SENDING] = f->sending_ip;
            cols[COL_RECEIVING] = f->receiving_ip;
            cols[COL_MXNAME] = f->mx_hostname;
            cols[COL_HELO] = f->mx_helo;
            cols[COL_INFO] = f->additional_info;
            cols[COL_REASON] = f->reason_code;
            report_export_row(out, cols);
            rows++;
        }
    }
    vstring_free(strings);
    vstring_free(mx);
    return rows;
}

static void report_export_opt(json_object *o, const char *key, const char *v)
{
    if (v)
        json_object_object_add(o, key, json_object_new_string(v));
}

static json_object *report_export_strings(const char *const *s, size_t n)
{
    json_object *a = json_object_new_array();
    for (size_t i = 0; i < n; i++)
        json_object_array_add(a, json_object_new_string(s[i]));
    return a;
}

int report_export_jsonl(const inreport *r, const char *domain, vstring *out)
{
    char begin[32], end[32];
    json_object *root = json_object_new_object(), *pols = json_object_new_array();
    size_t n = 0;

    report_export_time(r->start, begin, sizeof(begin));
    report_export_time(r->end, end, sizeof(end));
    report_export_opt(root, "organization_name", r->organization);
    json_object_object_add(root, "begin_date", json_object_new_string(begin));
    json_object_object_add(root, "end_date", json_object_new_string(end));
    report_export_opt(root, "contact_info", r->contact);
    json_object_object_add(root, "report_id", json_object_new_string(r->report_id));
    for (size_t i = 0; i < r->npolicies; i++) {
        const inreport_policy *p = &r->policies[i];
        if (!report_export_wanted(p, domain))
            continue;
        json_object *pj = json_object_new_object();
        report_export_opt(pj, "policy_domain", p->domain);
        json_object_object_add(pj, "policy_type", json_object_new_string(p->type));
        if (p->nstrings)
            json_object_object_add(pj, "policy_strings",
                                   report_export_strings(p->strings, p->nstrings));
        if (p->nmx_hosts)
            json_object_object_add(pj, "mx_host_patterns",
                                   report_export_strings(p->mx_hosts, p->nmx_hosts));
        json_object_object_add(pj, "successful_session_count",
                               json_object_new_int64((int64_t)p->ok));
        json_object_object_add(pj, "failed_session_count",
                               json_object_new_int64((int64_t)p->failed));
        if (p->nfailures) {
            json_object *fa = json_object_new_array();
            for (size_t j = 0; j < p->nfailures; j++) {
                const inreport_failure *f = &p->failures[j];
                json_object *fj = json_object_new_object();
                json_object_object_add(fj, "result_type", json_object_new_string(f->result_type));
                json_object_object_add(fj, "failed_session_count",
                                       json_object_new_int64((int64_t)f->count));
                report_export_opt(fj, "sending_mta_ip", f->sending_ip);
                report_export_opt(fj, "receiving_ip", f->receiving_ip);
                report_export_opt(fj, "receiving_mx_hostname", f->mx_hostname);
                report_export_opt(fj, "receiving_mx_helo", f->mx_helo);
                report_export_opt(fj, "additional_info_uri", f->additional_info);
                report_export_opt(fj, "failure_reason_code", f->reason_code);
                json_object_array_add(fa, fj);
            }
            json_object_object_add(pj, "failure_details", fa);
        }
        json_object_array_add(pols, pj);
        n++;
    }
    json_object_object_add(root, "policies", pols);
    if (n) {
        /* The plain form: one line, \u-escapes for every control character. */
        vstring_append_str(out, json_object_to_json_string_ext(
                                    root, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
        vstring_append_char(out, '\n');
    }
    json_object_put(root);
    return n > 0;
}
