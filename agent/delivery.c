#include "delivery.h"

#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <unistd.h>

#include "deliver.h"
#include "htable.h"
#include "mailmsg.h"
#include "msg.h"
#include "mymalloc.h"
#include "report.h"
#include "testpoint.h"
#include "vstring.h"

#define DELIVERY_STATE_VERSION 1

/* Report and endpoint states as written in the state file. */
#define ST_PENDING    "pending"
#define ST_DELIVERED  "delivered"
#define ST_FAILED     "failed"     /* endpoint: permanent failure (5xx, refused URI) */
#define ST_GIVEN_UP   "given-up"   /* 24 hours of failures */
#define ST_NOT_NEEDED "not-needed" /* endpoint: another one accepted the report */
#define ST_NO_RECORD  "no-record"  /* report: the domain publishes no (usable) record */

time_t delivery_now(void)
{
    return testpoint_now();
}

int delivery_lock(agent_ctx *ctx)
{
    vstring *path = vstring_alloc(0);
    int fd;

    vstring_sprintf_append(path, "%s/agent.lock", spool_dir(agent_spool(ctx)));
    fd = open(vstring_str(path), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) {
        msg_error("cannot open %s: %m", vstring_str(path));
    } else if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
        int busy = errno == EWOULDBLOCK;
        if (!busy)
            msg_error("cannot lock %s: %m", vstring_str(path));
        close(fd);
        fd = busy ? -2 : -1;
    }
    vstring_free(path);
    return fd;
}

time_t delivery_due(const config *cfg, const char *day, const char *domain)
{
    vstring *k = vstring_alloc(0);
    time_t end = spool_day_parse(day) + 86400;

    /* A hash, not random(): every run (and every rerun after a crash) agrees on the time. */
    vstring_sprintf_append(k, "%s|%s", day, domain);
    uint64_t h = htable_hash(vstring_str(k), vstring_len(k));
    vstring_free(k);
    if (cfg->send_window <= 0)
        return end;
    return end + (time_t)(h % (uint64_t)cfg->send_window);
}

/* JSON helpers over the state document. */
static json_object *js_obj(json_object *parent, const char *key)
{
    json_object *o;

    if (!json_object_object_get_ex(parent, key, &o) || !json_object_is_type(o, json_type_object)) {
        o = json_object_new_object();
        json_object_object_add(parent, key, o);
    }
    return o;
}

static int64_t js_int(json_object *o, const char *key)
{
    json_object *v;

    return json_object_object_get_ex(o, key, &v) ? json_object_get_int64(v) : 0;
}

static void js_set_int(json_object *o, const char *key, int64_t value)
{
    json_object_object_add(o, key, json_object_new_int64(value));
}

static const char *js_str(json_object *o, const char *key)
{
    json_object *v;

    if (json_object_object_get_ex(o, key, &v) && json_object_is_type(v, json_type_string))
        return json_object_get_string(v);
    return "";
}

static void js_set_str(json_object *o, const char *key, const char *value)
{
    json_object_object_add(o, key, json_object_new_string(value));
}

static int js_is(json_object *o, const char *key, const char *value)
{
    return strcmp(js_str(o, key), value) == 0;
}

/* Marks (domain, uri) delivered in the state document. */
static void delivery_mark(json_object *st, const char *domain, const char *uri, int64_t when)
{
    json_object *dom = js_obj(js_obj(st, "domains"), domain);
    json_object *ep = js_obj(js_obj(dom, "endpoints"), uri);

    js_set_str(ep, "status", ST_DELIVERED);
    json_object_object_del(ep, "next_attempt");
    js_set_str(dom, "status", ST_DELIVERED);
    js_set_str(dom, "delivered_to", uri);
    js_set_int(dom, "delivered_at", when);
    json_object_object_del(dom, "next_attempt");
}

/* Once a domain's report is delivered, its other endpoints are not tried any more. */
static void delivery_close_endpoints(json_object *dom)
{
    json_object *eps;

    if (!json_object_object_get_ex(dom, "endpoints", &eps))
        return;
    json_object_object_foreach(eps, uri, ep)
    {
        (void)uri;
        if (js_is(ep, "status", ST_PENDING)) {
            js_set_str(ep, "status", ST_NOT_NEEDED);
            json_object_object_del(ep, "next_attempt");
        }
    }
}

/* The domain fields a failed attempt changes; the status stays what the state says (a
 * failure at a second endpoint must not undo an acceptance by the first). */
static const char *const delivery_attempt_fields[] = {"first_attempt", "due", "dns_failures",
                                                      "next_attempt", NULL};

/* Replays one "domain TAB {record}" line written by delivery_log_attempt(). */
static void delivery_replay_attempt(json_object *st, const char *domain, const char *text)
{
    json_object *rec = json_tokener_parse(text), *fields, *ep;

    if (rec == NULL || !json_object_is_type(rec, json_type_object)) {
        json_object_put(rec);
        return; /* a torn last line: that attempt is simply made again */
    }
    json_object *dom = js_obj(js_obj(st, "domains"), domain);
    if (js_str(dom, "status")[0] == 0)
        js_set_str(dom, "status", ST_PENDING);
    if (json_object_object_get_ex(rec, "domain", &fields) &&
        json_object_is_type(fields, json_type_object)) {
        for (size_t i = 0; delivery_attempt_fields[i]; i++) {
            json_object *v;
            if (json_object_object_get_ex(fields, delivery_attempt_fields[i], &v))
                json_object_object_add(dom, delivery_attempt_fields[i], json_object_get(v));
        }
    }
    const char *uri = js_str(rec, "uri");
    if (*uri && json_object_object_get_ex(rec, "endpoint", &ep) &&
        json_object_is_type(ep, json_type_object))
        json_object_object_add(js_obj(dom, "endpoints"), uri, json_object_get(ep));
    if (js_is(dom, "status", ST_DELIVERED))
        delivery_close_endpoints(dom);
    json_object_put(rec);
}

/* Acceptances ("domain TAB uri TAB time") and failed attempts ("domain TAB {record}")
 * logged since the last full save are replayed on load, in order: a crash after an
 * acceptance costs no resend, and one after a failure keeps its back-off and the first
 * attempt that starts the 24-hour window. */
static int delivery_replay(agent_ctx *ctx, const char *day, json_object *st)
{
    vstring *v = vstring_alloc(0);

    if (spool_state_log_load(agent_spool(ctx), day, v) < 0) {
        msg_error("%s: cannot read the delivery log: %m", day);
        vstring_free(v);
        return -1;
    }
    char *save = NULL;
    for (char *line = strtok_r(vstring_str(v), "\n", &save); line;
         line = strtok_r(NULL, "\n", &save)) {
        char *uri = strchr(line, '\t'), *when = uri ? strchr(uri + 1, '\t') : NULL;
        if (uri && uri[1] == '{') {
            *uri = 0;
            delivery_replay_attempt(st, line, uri + 1);
            continue;
        }
        if (when == NULL)
            continue; /* a torn last line: its acceptance was never confirmed */
        *uri++ = 0;
        *when++ = 0;
        delivery_mark(st, line, uri, strtoll(when, NULL, 10));
    }
    vstring_free(v);
    return 0;
}

static int delivery_log_accept(agent_ctx *ctx, const char *day, const char *domain, const char *uri,
                               time_t now)
{
    vstring *line = vstring_alloc(0);

    vstring_sprintf_append(line, "%s\t%s\t%lld\n", domain, uri, (long long)now);
    int status =
        spool_state_log_append(agent_spool(ctx), day, vstring_str(line), vstring_len(line));
    if (status < 0)
        msg_error("%s: cannot record the delivery of %s to %s: %m", day, domain, uri);
    vstring_free(line);
    return status;
}

/* A failed attempt goes to the log at once, like an acceptance, so that a crash before the
 * state save neither loses its back-off nor moves the 24-hour window forward. uri and ep
 * are NULL for a failed DNS lookup. One tab only: older agents skip such a line. */
static int delivery_log_attempt(agent_ctx *ctx, const char *day, const char *domain,
                                json_object *dom, const char *uri, json_object *ep)
{
    json_object *rec = json_object_new_object(), *fields = json_object_new_object();

    for (size_t i = 0; delivery_attempt_fields[i]; i++) {
        json_object *v;
        if (json_object_object_get_ex(dom, delivery_attempt_fields[i], &v))
            json_object_object_add(fields, delivery_attempt_fields[i], json_object_get(v));
    }
    json_object_object_add(rec, "domain", fields);
    if (uri) {
        js_set_str(rec, "uri", uri);
        json_object_object_add(rec, "endpoint", json_object_get(ep));
    }
    vstring *line = vstring_alloc(0);
    vstring_sprintf_append(line, "%s\t%s\n", domain,
                           json_object_to_json_string_ext(rec, JSON_C_TO_STRING_PLAIN |
                                                                   JSON_C_TO_STRING_NOSLASHESCAPE));
    json_object_put(rec);
    int status =
        spool_state_log_append(agent_spool(ctx), day, vstring_str(line), vstring_len(line));
    if (status < 0)
        msg_error("%s: cannot record the failed delivery of %s%s%s: %m", day, domain,
                  uri ? " to " : "", uri ? uri : "");
    vstring_free(line);
    return status;
}

static json_object *delivery_load(agent_ctx *ctx, const char *day)
{
    vstring *v = vstring_alloc(0);
    json_object *st = NULL;

    if (spool_state_load(agent_spool(ctx), day, v) < 0) {
        msg_error("%s: cannot read the delivery state: %m", day);
    } else if (vstring_len(v) == 0) {
        st = json_object_new_object();
        js_set_int(st, "version", DELIVERY_STATE_VERSION);
        js_set_str(st, "day", day);
    } else {
        st = json_tokener_parse(vstring_str(v));
        if (st == NULL || !json_object_is_type(st, json_type_object)) {
            msg_error("%s: the delivery state file is damaged; not sending that day's reports "
                      "again (move it away to start over)",
                      day);
            json_object_put(st);
            st = NULL;
        }
    }
    vstring_free(v);
    if (st && delivery_replay(ctx, day, st) < 0) {
        json_object_put(st);
        st = NULL;
    }
    return st;
}

static int delivery_save(agent_ctx *ctx, const char *day, json_object *st)
{
    const char *text =
        json_object_to_json_string_ext(st, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);

    if (spool_state_save(agent_spool(ctx), day, text, strlen(text)) < 0) {
        msg_error("%s: cannot write the delivery state: %m", day);
        return -1;
    }
    return 0;
}

static int delivery_settled_status(json_object *dom)
{
    return !js_is(dom, "status", ST_PENDING);
}

/* Next retry after the n-th failure: 5 min, 10, 20, ... never past the 24-hour window. */
static time_t delivery_backoff(time_t now, time_t first, int64_t n)
{
    time_t delay = DELIVERY_FIRST_RETRY;

    for (int64_t i = 1; i < n && delay < DELIVERY_WINDOW; i++)
        delay *= 2;
    time_t next = now + delay;
    return next > first + DELIVERY_WINDOW ? first + DELIVERY_WINDOW : next;
}

typedef struct {
    agent_ctx *ctx;
    report_set *rs;
    discover *d;
} delivery_walk;

static int delivery_visit(const outcome *o, void *arg)
{
    delivery_walk *w = arg;

    report_set_add(w->rs, o, NULL);
    if (strncmp(w->ctx->cfg->deliver_to, "file:", 5) == 0)
        discover_seed(w->d, o->domain, o->record);
    if (w->ctx->cfg->dane_host_reports)
        discover_dane_hosts(w->d, w->rs, o);
    return 0;
}

static deliver_status delivery_send(agent_ctx *ctx, const mailmsg_report *r, const tlsrpt_uri *u,
                                    char *why, size_t whylen)
{
    const char *to = ctx->cfg->deliver_to;

    if (strncmp(to, "file:", 5) == 0)
        return deliver_file(ctx, r, to + 5, u->uri, why, whylen);
    if (u->kind == TLSRPT_URI_MAILTO)
        return deliver_mail(ctx, r, u->target, why, whylen);
    return deliver_https(ctx, r, u->target, why, whylen);
}

/* The day's state says whether a new journal read can be skipped: domains are known and
 * nothing is due before now. */
static int delivery_nothing_due(json_object *st, time_t now, const delivery_opts *opts)
{
    json_object *doms;

    if (opts->ignore_window || opts->ignore_backoff || opts->force || opts->only_domain ||
        js_int(st, "domains_known") == 0 || !json_object_object_get_ex(st, "domains", &doms))
        return 0;
    json_object_object_foreach(doms, name, dom)
    {
        (void)name;
        if (delivery_settled_status(dom))
            continue;
        time_t t = (time_t)js_int(dom, "next_attempt");
        if (t == 0)
            t = (time_t)js_int(dom, "due");
        if (t <= now)
            return 0;
    }
    return 1;
}

static void delivery_give_up(agent_ctx *ctx, const char *day, const char *domain, json_object *dom,
                             delivery_stats *stats, const char *why)
{
    js_set_str(dom, "status", ST_GIVEN_UP);
    json_object_object_del(dom, "next_attempt");
    stats->gave_up++;
    msg_warn("%s: report for %s given up: %s", domain, day, why);
    (void)ctx;
}

/* Sends the report of one domain to its endpoints; returns -1 when the state could not be
 * written (the run must stop: it could otherwise send twice). */
static int delivery_domain(agent_ctx *ctx, discover *d, report_set *rs, const report_opts *ro,
                           const char *day, const char *domain, json_object *st, json_object *dom,
                           time_t now, const delivery_opts *opts, delivery_stats *stats)
{
    const tlsrpt_record *rec;
    char why[512];

    if (js_int(dom, "first_attempt") == 0)
        js_set_int(dom, "first_attempt", now);
    time_t first = (time_t)js_int(dom, "first_attempt");
    switch (discover_rua(d, domain, &rec)) {
    case DISCOVER_TEMPFAIL: {
        int64_t n = js_int(dom, "dns_failures") + 1;
        js_set_int(dom, "dns_failures", n);
        if (now >= first + DELIVERY_WINDOW) {
            delivery_give_up(ctx, day, domain, dom, stats,
                             "its TLSRPT record could not be looked up for 24 hours");
            return 0;
        }
        js_set_int(dom, "next_attempt", delivery_backoff(now, first, n));
        stats->waiting++;
        return delivery_log_attempt(ctx, day, domain, dom, NULL, NULL);
    }
    case DISCOVER_NONE:
        js_set_str(dom, "status", ST_NO_RECORD);
        return 0;
    case DISCOVER_OK:
        if (rec->n == 0) {
            js_set_str(dom, "status", ST_NO_RECORD);
            return 0;
        }
        break;
    }
    json_object *eps = js_obj(dom, "endpoints");
    json_object *report = report_set_json(rs, domain, ro);
    const char *json = report_json_text(report, 0);
    char rid[512];
    report_id(rid, sizeof(rid), day, domain, ro);
    js_set_str(dom, "report_id", rid);
    mailmsg_report dr = {day, domain, rid, ro->submitter, json, strlen(json), 0, 0};
    report_set_totals(rs, domain, &dr.ok, &dr.failed);
    int delivered = 0, open = 0, status = 0;
    time_t next = 0;
    for (size_t i = 0; i < rec->n; i++) {
        const tlsrpt_uri *u = &rec->uris[i];
        json_object *ep = js_obj(eps, u->uri);
        if (js_str(ep, "status")[0] == 0)
            js_set_str(ep, "status", ST_PENDING);
        if (!js_is(ep, "status", ST_PENDING))
            continue;
        if (!opts->ignore_backoff && js_int(ep, "next_attempt") > now) {
            open++;
            if (next == 0 || js_int(ep, "next_attempt") < next)
                next = (time_t)js_int(ep, "next_attempt");
            continue;
        }
        testpoint_kill("before-send");
        deliver_status ds = delivery_send(ctx, &dr, u, why, sizeof(why));
        int64_t n = js_int(ep, "attempts") + 1;
        js_set_int(ep, "attempts", n);
        js_set_int(ep, "last_attempt", now);
        stats->attempts++;
        if (ds == DELIVER_OK) {
            testpoint_kill("after-accept");
            delivery_mark(st, domain, u->uri, now);
            /* Durable before anything else happens: only a crash inside this window can
             * make the report go out twice (with the same report-id). One appended line,
             * not the whole state, so that a day of 100,000 domains stays linear. */
            if (delivery_log_accept(ctx, day, domain, u->uri, now) < 0) {
                status = -1;
                break;
            }
            testpoint_kill("after-state");
            delivered = 1;
            stats->sent++;
            agent_note(ctx, 0, "%s: report for %s delivered to %s (%s)", domain, day, u->uri, why);
            continue;
        }
        stats->failed++;
        js_set_str(ep, "last_error", why);
        if (ds == DELIVER_PERMFAIL) {
            js_set_str(ep, "status", ST_FAILED);
            agent_note(ctx, 1, "%s: report for %s refused by %s: %s", domain, day, u->uri, why);
        } else if (now >= first + DELIVERY_WINDOW) {
            js_set_str(ep, "status", ST_GIVEN_UP);
            agent_note(ctx, 1, "%s: report for %s: %s failed for 24 hours: %s", domain, day, u->uri,
                       why);
        } else {
            time_t t = delivery_backoff(now, first, n);
            js_set_int(ep, "next_attempt", t);
            open++;
            if (next == 0 || t < next)
                next = t;
            agent_note(ctx, 1, "%s: report for %s: %s failed, will retry: %s", domain, day, u->uri,
                       why);
        }
        if (delivery_log_attempt(ctx, day, domain, dom, u->uri, ep) < 0) {
            status = -1;
            break;
        }
        testpoint_kill("after-failure");
    }
    json_object_put(report);
    if (status < 0)
        return -1;
    if (delivered || js_is(dom, "status", ST_DELIVERED)) {
        delivery_close_endpoints(dom);
    } else if (open == 0) {
        delivery_give_up(ctx, day, domain, dom, stats, "no endpoint accepted it");
    } else {
        js_set_int(dom, "next_attempt", next);
        stats->waiting++;
    }
    return 0;
}

int delivery_day_settled(agent_ctx *ctx, const char *day)
{
    json_object *st = delivery_load(ctx, day);
    int settled = st && js_int(st, "settled") != 0;

    json_object_put(st);
    return settled;
}

int delivery_day(agent_ctx *ctx, discover *d, const char *day, time_t now,
                 const delivery_opts *opts, delivery_stats *stats)
{
    json_object *st = delivery_load(ctx, day);

    if (st == NULL)
        return -1;
    if (!opts->force && !opts->only_domain && js_int(st, "settled") != 0) {
        json_object_put(st);
        return 0;
    }
    if (delivery_nothing_due(st, now, opts)) {
        json_object *doms = js_obj(st, "domains");
        json_object_object_foreach(doms, name, dom)
        {
            (void)name;
            if (!delivery_settled_status(dom))
                stats->waiting++;
        }
        json_object_put(st);
        return 0;
    }
    delivery_walk w = {ctx, report_set_new(day), d};
    report_set_limit(w.rs, (size_t)ctx->cfg->report_memory_max);
    report_opts ro;
    report_opts_init(&ro, ctx->cfg);
    json_object *doms = js_obj(st, "domains");
    int status = 0;
    while (status == 0 && report_set_pass(w.rs)) {
        if (spool_iterate_day(agent_spool(ctx), day, delivery_visit, &w, NULL) < 0) {
            msg_error("%s: cannot read the outcomes", day);
            status = -1;
            break;
        }
        const char *const *domains = report_set_domains(w.rs);
        for (size_t i = 0; domains[i] && status == 0; i++) {
            const char *domain = domains[i];
            json_object *dom = js_obj(doms, domain);
            if (js_str(dom, "status")[0] == 0) {
                js_set_str(dom, "status", ST_PENDING);
                js_set_int(dom, "due", delivery_due(ctx->cfg, day, domain));
            }
            if (opts->only_domain && strcmp(opts->only_domain, domain) != 0)
                continue;
            stats->domains++;
            if (opts->force && !js_is(dom, "status", ST_PENDING)) {
                /* An operator's explicit resend: the same report-id, every endpoint again. */
                js_set_str(dom, "status", ST_PENDING);
                json_object_object_del(dom, "endpoints");
                json_object_object_del(dom, "first_attempt");
                json_object_object_del(dom, "next_attempt");
            }
            if (delivery_settled_status(dom))
                continue;
            if ((!opts->ignore_window && js_int(dom, "due") > now) ||
                (!opts->ignore_backoff && js_int(dom, "next_attempt") > now)) {
                stats->waiting++;
                continue;
            }
            status = delivery_domain(ctx, d, w.rs, &ro, day, domain, st, dom, now, opts, stats);
        }
    }
    if (status == 0) {
        int settled = 1;
        json_object_object_foreach(doms, name, dom)
        {
            (void)name;
            if (!delivery_settled_status(dom))
                settled = 0;
        }
        /* Until the day is over, outcomes (and report domains) may still arrive. */
        int finished = now >= spool_day_parse(day) + 86400;
        js_set_int(st, "domains_known", finished);
        js_set_int(st, "settled", finished && settled);
        status = delivery_save(ctx, day, st);
    }
    report_opts_done(&ro);
    report_set_free(w.rs);
    json_object_put(st);
    return status;
}

static void delivery_time(char *out, size_t size, time_t t)
{
    struct tm tm;

    if (t == 0) {
        snprintf(out, size, "-");
        return;
    }
    gmtime_r(&t, &tm);
    strftime(out, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

int delivery_status(agent_ctx *ctx, const char *day, int verbose, FILE *fp)
{
    json_object *st = delivery_load(ctx, day), *doms;
    unsigned long n = 0, pending = 0, delivered = 0, failed = 0, none = 0;
    time_t next = 0;
    char buf[32];

    if (st == NULL)
        return -1;
    if (!json_object_object_get_ex(st, "domains", &doms)) {
        fprintf(fp, "%s  not processed yet\n", day);
        json_object_put(st);
        return 0;
    }
    json_object_object_foreach(doms, name, dom)
    {
        (void)name;
        n++;
        if (js_is(dom, "status", ST_PENDING)) {
            pending++;
            time_t t = (time_t)js_int(dom, "next_attempt");
            if (t == 0)
                t = (time_t)js_int(dom, "due");
            if (next == 0 || t < next)
                next = t;
        } else if (js_is(dom, "status", ST_DELIVERED)) {
            delivered++;
        } else if (js_is(dom, "status", ST_NO_RECORD)) {
            none++;
        } else {
            failed++;
        }
    }
    delivery_time(buf, sizeof(buf), next);
    fprintf(fp, "%s  domains %lu  pending %lu  delivered %lu  failed %lu  no-record %lu  next %s\n",
            day, n, pending, delivered, failed, none, buf);
    if (verbose) {
        json_object_object_foreach(doms, dname, dom2)
        {
            time_t t = (time_t)js_int(dom2, "next_attempt");
            if (t == 0 && js_is(dom2, "status", ST_PENDING))
                t = (time_t)js_int(dom2, "due");
            delivery_time(buf, sizeof(buf), js_is(dom2, "status", ST_PENDING) ? t : 0);
            fprintf(fp, "  %s  %s  next %s\n", dname, js_str(dom2, "status"), buf);
            json_object *eps;
            if (!json_object_object_get_ex(dom2, "endpoints", &eps))
                continue;
            json_object_object_foreach(eps, uri, ep)
            {
                fprintf(fp, "    %s  %s  attempts %lld%s%s\n", uri, js_str(ep, "status"),
                        (long long)js_int(ep, "attempts"), *js_str(ep, "last_error") ? "  " : "",
                        js_str(ep, "last_error"));
            }
        }
    }
    json_object_put(st);
    return 0;
}

int delivery_each(agent_ctx *ctx, const char *day,
                  void (*fn)(const delivery_report_info *ri, void *arg), void *arg)
{
    json_object *st = delivery_load(ctx, day), *doms, *eps;

    if (st == NULL)
        return -1;
    if (json_object_object_get_ex(st, "domains", &doms)) {
        json_object_object_foreach(doms, name, dom)
        {
            (void)name;
            delivery_report_info ri = {js_str(dom, "status"), "", 0};
            int tried = 0;
            if (js_is(dom, "status", ST_DELIVERED)) {
                ri.uri = js_str(dom, "delivered_to");
                ri.delivered = (time_t)js_int(dom, "delivered_at");
            } else if (json_object_object_get_ex(dom, "endpoints", &eps)) {
                json_object_object_foreach(eps, uri, ep)
                {
                    if (!*ri.uri || (!tried && js_int(ep, "attempts") > 0))
                        ri.uri = uri;
                    if (js_int(ep, "attempts") > 0 && !tried) {
                        tried = 1;
                        if (js_is(dom, "status", ST_PENDING) && *js_str(ep, "last_error"))
                            ri.status = "failed";
                    }
                }
            }
            fn(&ri, arg);
        }
    }
    json_object_put(st);
    return 0;
}

/* Shared by run and send: lock, resolver, mail set-up; returns the lock descriptor, -2 when
 * another run holds the lock, or -1 after logging. */
int delivery_prepare(agent_ctx *ctx, discover **d)
{
    int lock = delivery_lock(ctx);

    *d = NULL;
    if (lock < 0)
        return lock;
    /* An unusable key or report_from stops the run before anything is written, for
     * file: as for mail: never a silent unsigned report. */
    int file = strncmp(ctx->cfg->deliver_to, "file:", 5) == 0;
    if ((file ? mailmsg_init(ctx->cfg, 0) : deliver_mail_init(ctx)) < 0) {
        close(lock);
        return -1;
    }
    if ((*d = discover_new(ctx)) == NULL) {
        close(lock);
        return -1;
    }
    return lock;
}

void delivery_summary(agent_ctx *ctx, const delivery_stats *st, unsigned long days)
{
    if (ctx->verbose)
        fprintf(stderr,
                "%lu day(s), %lu report domain(s): %lu report(s) delivered, %lu attempt(s) "
                "failed, %lu given up, %lu waiting\n",
                days, st->domains, st->sent, st->failed, st->gave_up, st->waiting);
}
