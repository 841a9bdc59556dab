#include "report_store.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "htable.h"
#include "msg.h"
#include "mymalloc.h"
#include "spool.h"
#include "spool_store.h"

#define REPORT_STORE_SALTS 8 /* distinct keys whose hashes collide, tried in turn */

struct report_store {
    char *root; /* the spool directory */
    size_t max_file;
};

report_store *report_store_open(const char *spool_dir, size_t max_file)
{
    report_store *st = mymalloc(sizeof(*st));

    st->root = mystrdup(spool_dir);
    st->max_file = max_file;
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

static json_object *report_store_str(const char *s)
{
    return s ? json_object_new_string(s) : NULL;
}

/* Whether the stored document name holds the report of (submitter, id). */
static int report_store_same(report_store *st, const char *name, const char *submitter,
                             const char *id)
{
    vstring *text = vstring_alloc(0);
    int same = 0;

    if (spool_store_read(st->root, SPOOL_AREA_REPORTS, name, text, st->max_file) == 0) {
        json_object *root = json_tokener_parse(text->data), *k, *s, *i;
        if (root && json_object_object_get_ex(root, "key", &k) &&
            json_object_object_get_ex(k, "submitter", &s) &&
            json_object_object_get_ex(k, "report-id", &i))
            same = strcmp(json_object_get_string(s), submitter) == 0 &&
                   strcmp(json_object_get_string(i), id) == 0;
        json_object_put(root);
    }
    vstring_free(text);
    return same;
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
        json_object *root = json_object_new_object(), *k = json_object_new_object();
        json_object_object_add(k, "submitter", json_object_new_string(r->submitter));
        json_object_object_add(k, "report-id", json_object_new_string(r->report_id));
        json_object_object_add(root, "key", k);
        json_object_object_add(root, "received", json_object_new_int64((int64_t)info->received));
        json_object_object_add(root, "source", report_store_str(info->source));
        json_object_object_add(root, "dkim", report_store_str(info->dkim));
        if (info->dkim_aligned >= 0)
            json_object_object_add(root, "dkim-aligned",
                                   json_object_new_boolean(info->dkim_aligned));
        json_object_object_add(root, "tls-report-domain", report_store_str(info->header_domain));
        json_object_object_add(root, "tls-report-submitter",
                               report_store_str(info->header_submitter));
        json_object_object_add(root, "report", inreport_json(r));
        if (r->raw)
            json_object_object_add(root, "raw", json_object_new_string(r->raw));
        size_t len;
        const char *text = json_object_to_json_string_length(root, JSON_C_TO_STRING_PLAIN, &len);
        int ret = spool_store_replace(st->root, SPOOL_AREA_REPORTS, name, text, len);
        int saved = errno;
        json_object_put(root);
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

static const char *report_store_get(json_object *root, const char *key)
{
    json_object *v;
    if (json_object_object_get_ex(root, key, &v) && json_object_is_type(v, json_type_string))
        return json_object_get_string(v);
    return NULL;
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
    for (size_t i = 0; i < n; i++) {
        char path[PATH_MAX], err[160];
        json_object *root = NULL, *rep, *v;
        spool_store_describe(st->root, SPOOL_AREA_REPORTS, names[i], path, sizeof(path));
        if (stop ||
            spool_store_read(st->root, SPOOL_AREA_REPORTS, names[i], text, st->max_file) < 0 ||
            (root = json_tokener_parse(text->data)) == NULL ||
            !json_object_object_get_ex(root, "report", &rep)) {
            if (!stop)
                msg_warn("report store: cannot read %s", path);
            json_object_put(root);
            continue;
        }
        size_t len;
        const char *rt = json_object_to_json_string_length(rep, JSON_C_TO_STRING_PLAIN, &len);
        if (inreport_parse_json(&r, rt, len, err, sizeof(err)) < 0) {
            msg_warn("report store: %s: %s", path, err);
            json_object_put(root);
            continue;
        }
        report_store_info info;
        memset(&info, 0, sizeof(info));
        info.dkim_aligned = -1;
        if (json_object_object_get_ex(root, "received", &v))
            info.received = (time_t)json_object_get_int64(v);
        if (json_object_object_get_ex(root, "dkim-aligned", &v))
            info.dkim_aligned = json_object_get_boolean(v);
        info.source = report_store_get(root, "source");
        info.dkim = report_store_get(root, "dkim");
        info.header_domain = report_store_get(root, "tls-report-domain");
        info.header_submitter = report_store_get(root, "tls-report-submitter");
        info.raw = report_store_get(root, "raw");
        /* The stored key wins: it is what de-duplication used. */
        json_object *k;
        const char *sub = NULL;
        if (json_object_object_get_ex(root, "key", &k))
            sub = report_store_get(k, "submitter");
        if (sub)
            r.submitter = arena_strdup(&r.mem, sub);
        seen++;
        stop = fn(&r, &info, ctx) != 0;
        json_object_put(root);
    }
    inreport_done(&r);
    vstring_free(text);
    spool_store_list_free(names);
    return seen;
}
