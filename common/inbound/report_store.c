#include "report_store.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "htable.h"
#include "jsonw.h"
#include "jsontok.h"
#include "msg.h"
#include "mymalloc.h"
#include "spool.h"
#include "spool_store.h"

#define REPORT_STORE_SALTS 8 /* distinct keys whose hashes collide, tried in turn */

struct report_store {
    char *root; /* the spool directory */
    size_t max_file;
};

report_store *report_store_open(const char *spool_dir, size_t max_report_size)
{
    report_store *st = mymalloc(sizeof(*st));

    st->root = mystrdup(spool_dir);
    st->max_file = REPORT_STORE_FILE_MAX(max_report_size);
    if (spool_store_prepare(st->root, SPOOL_AREA_REPORTS) < 0) {
        int saved = errno;
        report_store_close(st);
        errno = saved;
        return NULL;
    }
    return st;
}

report_store *report_store_close(report_store *st)
{
    if (st) {
        myfree(st->root);
        myfree(st);
    }
    return NULL;
}

/* A stored document, tokenized: the report store reads it with the tokenizer the report
 * parser uses, never as a json-c tree (which cost ~1 KB per value). */
typedef struct report_doc {
    const char *in;
    jsontok *t;
} report_doc;

/* Tokenizes text; returns 0, or -1 when it is not a JSON object within the parser's limits
 * (a stored report has no more values than the one received, plus the envelope). */
static int report_doc_open(report_doc *d, const vstring *text)
{
    size_t max = text->len / 2 + 2;
    if (max > INREPORT_MAX_VALUES + 64)
        max = INREPORT_MAX_VALUES + 64;
    d->in = text->data;
    d->t = mymalloc(max * sizeof(*d->t));
    if (jsontok_parse(text->data, text->len, d->t, max, 8) <= 0 || d->t[0].type != JSONTOK_OBJECT) {
        d->t = myfree(d->t);
        return -1;
    }
    return 0;
}

static void report_doc_close(report_doc *d)
{
    d->t = myfree(d->t);
}

/* The decoded string member key of object obj, owned by a; NULL when absent or not one. */
static const char *report_doc_str(const report_doc *d, int obj, const char *key, arena *a)
{
    int v = jsontok_member(d->in, d->t, obj, key);
    if (v < 0 || d->t[v].type != JSONTOK_STRING)
        return NULL;
    char *s = arena_alloc(a, d->t[v].end - d->t[v].start + 1);
    size_t len = jsontok_string(d->in, &d->t[v], s);
    s[len] = 0;
    return s;
}

/* Whether the stored document name holds the report of (submitter, id). */
static int report_store_same(report_store *st, const char *name, const char *submitter,
                             const char *id)
{
    vstring *text = vstring_alloc(0);
    report_doc d;
    int same = 0;

    if (spool_store_read(st->root, SPOOL_AREA_REPORTS, name, text, st->max_file) == 0) {
        if (report_doc_open(&d, text) == 0) {
            arena a;
            arena_init(&a, 4096);
            int k = jsontok_member(d.in, d.t, 0, "key");
            const char *s = k >= 0 ? report_doc_str(&d, k, "submitter", &a) : NULL;
            const char *i = k >= 0 ? report_doc_str(&d, k, "report-id", &a) : NULL;
            same = s && i && strcmp(s, submitter) == 0 && strcmp(i, id) == 0;
            arena_destroy(&a);
            report_doc_close(&d);
        }
    } else if (errno == EFBIG) {
        /* Written by an older version without a size bound: it is the report whose hash
         * names it (another one with the same 64-bit hash is not worth storing it twice). */
        same = 1;
    }
    vstring_free(text);
    return same;
}

/* ,"key":"value" when value is set. */
static void report_store_opt(vstring *out, const char *key, const char *value)
{
    if (value == NULL)
        return;
    vstring_sprintf_append(out, ",\"%s\":", key);
    jsonw_str(out, value);
}

int report_store_put(report_store *st, const inreport *r, const report_store_info *info)
{
    char day[SPOOL_DAY_LEN + 1], name[SPOOL_DAY_LEN + 32];
    vstring *key = vstring_alloc(0);

    spool_day_of(r->start, day);
    /* Someone may have cleaned the spool under a running daemon. */
    if (spool_store_prepare(st->root, SPOOL_AREA_REPORTS) < 0) {
        vstring_free(key);
        return -1;
    }
    /* The NUL keeps ("a", "bc") and ("ab", "c") apart. */
    vstring_append_str(key, r->submitter);
    vstring_append(key, "", 1);
    vstring_append_str(key, r->report_id);
    for (unsigned salt = 0; salt < REPORT_STORE_SALTS; salt++) {
        vstring_append_char(key, (int)salt);
        uint64_t h = htable_hash(key->data, key->len);
        key->len--;
        snprintf(name, sizeof(name), "%s-%016llx.json", day, (unsigned long long)h);
        if (spool_store_exists(st->root, SPOOL_AREA_REPORTS, name) == 1) {
            if (report_store_same(st, name, r->submitter, r->report_id)) {
                vstring_free(key);
                return 0;
            }
            continue;
        }
        vstring *text = vstring_alloc(0);
        vstring_append_str(text, "{\"key\":{\"submitter\":");
        jsonw_str(text, r->submitter);
        vstring_append_str(text, ",\"report-id\":");
        jsonw_str(text, r->report_id);
        vstring_sprintf_append(text, "},\"received\":%lld", (long long)info->received);
        report_store_opt(text, "source", info->source);
        report_store_opt(text, "dkim", info->dkim);
        if (info->dkim_aligned >= 0)
            vstring_sprintf_append(text, ",\"dkim-aligned\":%s",
                                   info->dkim_aligned ? "true" : "false");
        report_store_opt(text, "tls-report-domain", info->header_domain);
        report_store_opt(text, "tls-report-submitter", info->header_submitter);
        vstring_append_str(text, ",\"report\":");
        inreport_json_text(r, text);
        report_store_opt(text, "raw", r->raw);
        vstring_append_char(text, '}');
        int ret;
        /* Never store what the store would refuse to read back (the normalized form is at
         * most INREPORT_STORED_MAX of the report's JSON, the raw one twice INREPORT_RAW_MAX:
         * see REPORT_STORE_FILE_MAX). */
        if (text->len > st->max_file) {
            errno = EFBIG;
            ret = -1;
        } else {
            ret = spool_store_replace(st->root, SPOOL_AREA_REPORTS, name, text->data, text->len);
        }
        int saved = errno;
        vstring_free(text);
        vstring_free(key);
        errno = saved;
        return ret < 0 ? -1 : 1;
    }
    vstring_free(key);
    errno = EEXIST;
    return -1;
}

/* Only names this module writes: YYYY-MM-DD-<16 hex>.json (never temp files). */
static int report_store_name_ok(const char *name)
{
    size_t n = strlen(name);

    if (n != SPOOL_DAY_LEN + 1 + 16 + 5 || strcmp(name + n - 5, ".json") != 0)
        return 0;
    for (size_t i = SPOOL_DAY_LEN + 1; i < SPOOL_DAY_LEN + 17; i++)
        if (!strchr("0123456789abcdef", name[i]) || name[i] == 0)
            return 0;
    return name[SPOOL_DAY_LEN] == '-';
}

size_t report_store_expire(const char *spool_dir, int retention_days, time_t now)
{
    char cutoff[SPOOL_DAY_LEN + 1];
    char **names = spool_store_list(spool_dir, SPOOL_AREA_REPORTS);
    size_t removed = 0;

    spool_day_of(now - (time_t)retention_days * 86400, cutoff);
    for (size_t i = 0; names && names[i]; i++) {
        if (!report_store_name_ok(names[i]) || strncmp(names[i], cutoff, SPOOL_DAY_LEN) >= 0)
            continue;
        if (spool_store_remove(spool_dir, SPOOL_AREA_REPORTS, names[i]) < 0) {
            char where[PATH_MAX];
            spool_store_describe(spool_dir, SPOOL_AREA_REPORTS, names[i], where, sizeof(where));
            msg_warn("cannot remove %s: %m", where);
            continue;
        }
        removed++;
    }
    spool_store_list_free(names);
    if (removed)
        msg_info("removed %zu received reports (older than %d days)", removed, retention_days);
    return removed;
}

size_t report_store_iterate(report_store *st, const char *since,
                            int (*fn)(const inreport *r, const report_store_info *info, void *ctx),
                            void *ctx)
{
    char **all = spool_store_list(st->root, SPOOL_AREA_REPORTS), where[PATH_MAX];
    char **names = NULL;
    size_t n = 0, seen = 0;

    if (all == NULL) {
        spool_store_describe(st->root, SPOOL_AREA_REPORTS, "", where, sizeof(where));
        msg_warn("report store %s: %m", where);
        return 0;
    }
    /* The list is sorted already; keep the names this module writes, from since on. */
    names = all;
    for (size_t i = 0; all[i]; i++) {
        if (!report_store_name_ok(all[i]) || (since && strncmp(all[i], since, SPOOL_DAY_LEN) < 0))
            myfree(all[i]);
        else
            names[n++] = all[i];
    }
    names[n] = NULL;
    vstring *text = vstring_alloc(0);
    inreport r;
    inreport_init(&r);
    int stop = 0;
    for (size_t i = 0; i < n && !stop; i++) {
        char path[PATH_MAX], err[160];
        report_doc d;
        int rep;
        spool_store_describe(st->root, SPOOL_AREA_REPORTS, names[i], path, sizeof(path));
        if (spool_store_read(st->root, SPOOL_AREA_REPORTS, names[i], text, st->max_file) < 0 ||
            report_doc_open(&d, text) < 0) {
            msg_warn("report store: cannot read %s", path);
            continue;
        }
        if ((rep = jsontok_member(d.in, d.t, 0, "report")) < 0) {
            msg_warn("report store: cannot read %s", path);
            report_doc_close(&d);
            continue;
        }
        const jsontok *rt = &d.t[rep];
        if (inreport_parse_json(&r, d.in + rt->start, rt->end - rt->start, err, sizeof(err)) < 0) {
            msg_warn("report store: %s: %s", path, err);
            report_doc_close(&d);
            continue;
        }
        report_store_info info;
        int v;
        int64_t received = 0;
        memset(&info, 0, sizeof(info));
        info.dkim_aligned = -1;
        if ((v = jsontok_member(d.in, d.t, 0, "received")) >= 0 &&
            jsontok_int(d.in, &d.t[v], &received) == 0)
            info.received = (time_t)received;
        if ((v = jsontok_member(d.in, d.t, 0, "dkim-aligned")) >= 0 &&
            (d.t[v].type == JSONTOK_TRUE || d.t[v].type == JSONTOK_FALSE))
            info.dkim_aligned = d.t[v].type == JSONTOK_TRUE;
        info.source = report_doc_str(&d, 0, "source", &r.mem);
        info.dkim = report_doc_str(&d, 0, "dkim", &r.mem);
        info.header_domain = report_doc_str(&d, 0, "tls-report-domain", &r.mem);
        info.header_submitter = report_doc_str(&d, 0, "tls-report-submitter", &r.mem);
        info.raw = report_doc_str(&d, 0, "raw", &r.mem);
        /* The stored key wins: it is what de-duplication used. */
        int k = jsontok_member(d.in, d.t, 0, "key");
        const char *sub = k >= 0 ? report_doc_str(&d, k, "submitter", &r.mem) : NULL;
        if (sub)
            r.submitter = sub;
        report_doc_close(&d);
        seen++;
        stop = fn(&r, &info, ctx) != 0;
    }
    inreport_done(&r);
    vstring_free(text);
    spool_store_list_free(names);
    return seen;
}
