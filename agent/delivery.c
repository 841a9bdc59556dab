#include "delivery.h"

#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "deliver.h"
#include "delivery_state.h"
#include "htable.h"
#include "mailmsg.h"
#include "msg.h"
#include "mymalloc.h"
#include "report.h"
#include "testpoint.h"
#include "vstring.h"

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

static int delivery_settled_status(json_object *dom)
{
    return !delivery_state_is(dom, "status", ST_PENDING);
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
        delivery_state_int(st, "domains_known") == 0 ||
        !json_object_object_get_ex(st, "domains", &doms))
        return 0;
    json_object_object_foreach(doms, name, dom)
    {
        (void)name;
        if (delivery_settled_status(dom))
            continue;
        time_t t = (time_t)delivery_state_int(dom, "next_attempt");
        if (t == 0)
            t = (time_t)delivery_state_int(dom, "due");
        if (t <= now)
            return 0;
    }
    return 1;
}

static void delivery_give_up(agent_ctx *ctx, const char *day, const char *domain, json_object *dom,
                             delivery_stats *stats, const char *why)
{
    delivery_state_set_str(dom, "status", ST_GIVEN_UP);
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

    if (delivery_state_int(dom, "first_attempt") == 0)
        delivery_state_set_int(dom, "first_attempt", now);
    time_t first = (time_t)delivery_state_int(dom, "first_attempt");
    switch (discover_rua(d, domain, &rec)) {
    case DISCOVER_TEMPFAIL: {
        int64_t n = delivery_state_int(dom, "dns_failures") + 1;
        delivery_state_set_int(dom, "dns_failures", n);
        if (now >= first + DELIVERY_WINDOW) {
            delivery_give_up(ctx, day, domain, dom, stats,
                             "its TLSRPT record could not be looked up for 24 hours");
            return 0;
        }
        delivery_state_set_int(dom, "next_attempt", delivery_backoff(now, first, n));
        stats->waiting++;
        return delivery_state_log_attempt(ctx, day, domain, dom, NULL, NULL);
    }
    case DISCOVER_NONE:
        delivery_state_set_str(dom, "status", ST_NO_RECORD);
        return 0;
    case DISCOVER_OK:
        if (rec->n == 0) {
            delivery_state_set_str(dom, "status", ST_NO_RECORD);
            return 0;
        }
        break;
    }
    json_object *eps = delivery_state_obj(dom, "endpoints");
    vstring *report = vstring_alloc(0);
    report_set_text(rs, domain, ro, report);
    const char *json = report->data;
    char rid[512];
    report_id(rid, sizeof(rid), day, domain, ro);
    delivery_state_set_str(dom, "report_id", rid);
    mailmsg_report dr = {day, domain, rid, ro->submitter, json, report->len, 0, 0};
    report_set_totals(rs, domain, &dr.ok, &dr.failed);
    int delivered = 0, open = 0, status = 0;
    time_t next = 0;
    for (size_t i = 0; i < rec->n; i++) {
        const tlsrpt_uri *u = &rec->uris[i];
        json_object *ep = delivery_state_obj(eps, u->uri);
        if (delivery_state_str(ep, "status")[0] == 0)
            delivery_state_set_str(ep, "status", ST_PENDING);
        if (!delivery_state_is(ep, "status", ST_PENDING))
            continue;
        if (!opts->ignore_backoff && delivery_state_int(ep, "next_attempt") > now) {
            open++;
            if (next == 0 || delivery_state_int(ep, "next_attempt") < next)
                next = (time_t)delivery_state_int(ep, "next_attempt");
            continue;
        }
        testpoint_kill("before-send");
        deliver_status ds = delivery_send(ctx, &dr, u, why, sizeof(why));
        int64_t n = delivery_state_int(ep, "attempts") + 1;
        delivery_state_set_int(ep, "attempts", n);
        delivery_state_set_int(ep, "last_attempt", now);
        stats->attempts++;
        if (ds == DELIVER_OK) {
            testpoint_kill("after-accept");
            delivery_state_mark(st, domain, u->uri, now);
            /* Durable before anything else happens: only a crash inside this window can
             * make the report go out twice (with the same report-id). One appended line,
             * not the whole state, so that a day of 100,000 domains stays linear. */
            if (delivery_state_log_accept(ctx, day, domain, u->uri, now) < 0) {
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
        delivery_state_set_str(ep, "last_error", why);
        if (ds == DELIVER_PERMFAIL) {
            delivery_state_set_str(ep, "status", ST_FAILED);
            agent_note(ctx, 1, "%s: report for %s refused by %s: %s", domain, day, u->uri, why);
        } else if (now >= first + DELIVERY_WINDOW) {
            delivery_state_set_str(ep, "status", ST_GIVEN_UP);
            agent_note(ctx, 1, "%s: report for %s: %s failed for 24 hours: %s", domain, day, u->uri,
                       why);
        } else {
            time_t t = delivery_backoff(now, first, n);
            delivery_state_set_int(ep, "next_attempt", t);
            open++;
            if (next == 0 || t < next)
                next = t;
            agent_note(ctx, 1, "%s: report for %s: %s failed, will retry: %s", domain, day, u->uri,
                       why);
        }
        if (delivery_state_log_attempt(ctx, day, domain, dom, u->uri, ep) < 0) {
            status = -1;
            break;
        }
        testpoint_kill("after-failure");
    }
    vstring_free(report);
    if (status < 0)
        return -1;
    if (delivered || delivery_state_is(dom, "status", ST_DELIVERED)) {
        delivery_state_close_endpoints(dom);
    } else if (open == 0) {
        delivery_give_up(ctx, day, domain, dom, stats, "no endpoint accepted it");
    } else {
        delivery_state_set_int(dom, "next_attempt", next);
        stats->waiting++;
    }
    return 0;
}

int delivery_day_settled(agent_ctx *ctx, const char *day)
{
    json_object *st = delivery_state_load(ctx, day);
    int settled = st && delivery_state_int(st, "settled") != 0;

    json_object_put(st);
    return settled;
}

int delivery_day(agent_ctx *ctx, discover *d, const char *day, time_t now,
                 const delivery_opts *opts, delivery_stats *stats)
{
    json_object *st = delivery_state_load(ctx, day);

    if (st == NULL)
        return -1;
    if (!opts->force && !opts->only_domain && delivery_state_int(st, "settled") != 0) {
        json_object_put(st);
        return 0;
    }
    if (delivery_nothing_due(st, now, opts)) {
        json_object *doms = delivery_state_obj(st, "domains");
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
    json_object *doms = delivery_state_obj(st, "domains");
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
            json_object *dom = delivery_state_obj(doms, domain);
            if (delivery_state_str(dom, "status")[0] == 0) {
                delivery_state_set_str(dom, "status", ST_PENDING);
                delivery_state_set_int(dom, "due", delivery_due(ctx->cfg, day, domain));
            }
            if (opts->only_domain && strcmp(opts->only_domain, domain) != 0)
                continue;
            stats->domains++;
            if (opts->force && !delivery_state_is(dom, "status", ST_PENDING)) {
                /* An operator's explicit resend: the same report-id, every endpoint again. */
                delivery_state_set_str(dom, "status", ST_PENDING);
                json_object_object_del(dom, "endpoints");
                json_object_object_del(dom, "first_attempt");
                json_object_object_del(dom, "next_attempt");
            }
            if (delivery_settled_status(dom))
                continue;
            if ((!opts->ignore_window && delivery_state_int(dom, "due") > now) ||
                (!opts->ignore_backoff && delivery_state_int(dom, "next_attempt") > now)) {
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
        delivery_state_set_int(st, "domains_known", finished);
        delivery_state_set_int(st, "settled", finished && settled);
        status = delivery_state_save(ctx, day, st);
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
    json_object *st = delivery_state_load(ctx, day), *doms;
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
        if (delivery_state_is(dom, "status", ST_PENDING)) {
            pending++;
            time_t t = (time_t)delivery_state_int(dom, "next_attempt");
            if (t == 0)
                t = (time_t)delivery_state_int(dom, "due");
            if (next == 0 || t < next)
                next = t;
        } else if (delivery_state_is(dom, "status", ST_DELIVERED)) {
            delivered++;
        } else if (delivery_state_is(dom, "status", ST_NO_RECORD)) {
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
            time_t t = (time_t)delivery_state_int(dom2, "next_attempt");
            if (t == 0 && delivery_state_is(dom2, "status", ST_PENDING))
                t = (time_t)delivery_state_int(dom2, "due");
            delivery_time(buf, sizeof(buf), delivery_state_is(dom2, "status", ST_PENDING) ? t : 0);
            fprintf(fp, "  %s  %s  next %s\n", dname, delivery_state_str(dom2, "status"), buf);
            json_object *eps;
            if (!json_object_object_get_ex(dom2, "endpoints", &eps))
                continue;
            json_object_object_foreach(eps, uri, ep)
            {
                fprintf(fp, "    %s  %s  attempts %lld%s%s\n", uri,
                        delivery_state_str(ep, "status"),
                        (long long)delivery_state_int(ep, "attempts"),
                        *delivery_state_str(ep, "last_error") ? "  " : "",
                        delivery_state_str(ep, "last_error"));
            }
        }
    }
    json_object_put(st);
    return 0;
}

int delivery_each(agent_ctx *ctx, const char *day,
                  void (*fn)(const delivery_report_info *ri, void *arg), void *arg)
{
    json_object *st = delivery_state_load(ctx, day), *doms, *eps;

    if (st == NULL)
        return -1;
    if (json_object_object_get_ex(st, "domains", &doms)) {
        json_object_object_foreach(doms, name, dom)
        {
            (void)name;
            delivery_report_info ri = {delivery_state_str(dom, "status"), "", 0};
            int tried = 0;
            if (delivery_state_is(dom, "status", ST_DELIVERED)) {
                ri.uri = delivery_state_str(dom, "delivered_to");
                ri.delivered = (time_t)delivery_state_int(dom, "delivered_at");
            } else if (json_object_object_get_ex(dom, "endpoints", &eps)) {
                json_object_object_foreach(eps, uri, ep)
                {
                    if (!*ri.uri || (!tried && delivery_state_int(ep, "attempts") > 0))
                        ri.uri = uri;
                    if (delivery_state_int(ep, "attempts") > 0 && !tried) {
                        tried = 1;
                        if (delivery_state_is(dom, "status", ST_PENDING) &&
                            *delivery_state_str(ep, "last_error"))
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
