/*
 * The delivery state of a day as it is kept: the JSON document (loaded, saved whole) and
 * the log of acceptances and failed attempts appended between saves and replayed on load,
 * both through the spool's state documents (spool_state_*: files, or the fleet database).
 * The retry state machine over it is delivery.c's.
 */
#include "delivery_state.h"

#include <stdlib.h>
#include <string.h>

#include "msg.h"
#include "vstring.h"

json_object *delivery_state_obj(json_object *parent, const char *key)
{
    json_object *o;

    if (!json_object_object_get_ex(parent, key, &o) || !json_object_is_type(o, json_type_object)) {
        o = json_object_new_object();
        json_object_object_add(parent, key, o);
    }
    return o;
}

int64_t delivery_state_int(json_object *o, const char *key)
{
    json_object *v;

    return json_object_object_get_ex(o, key, &v) ? json_object_get_int64(v) : 0;
}

void delivery_state_set_int(json_object *o, const char *key, int64_t value)
{
    json_object_object_add(o, key, json_object_new_int64(value));
}

const char *delivery_state_str(json_object *o, const char *key)
{
    json_object *v;

    if (json_object_object_get_ex(o, key, &v) && json_object_is_type(v, json_type_string))
        return json_object_get_string(v);
    return "";
}

void delivery_state_set_str(json_object *o, const char *key, const char *value)
{
    json_object_object_add(o, key, json_object_new_string(value));
}

int delivery_state_is(json_object *o, const char *key, const char *value)
{
    return strcmp(delivery_state_str(o, key), value) == 0;
}

/* Marks (domain, uri) delivered in the state document. */
void delivery_state_mark(json_object *st, const char *domain, const char *uri, int64_t when)
{
    json_object *dom = delivery_state_obj(delivery_state_obj(st, "domains"), domain);
    json_object *ep = delivery_state_obj(delivery_state_obj(dom, "endpoints"), uri);

    delivery_state_set_str(ep, "status", ST_DELIVERED);
    json_object_object_del(ep, "next_attempt");
    delivery_state_set_str(dom, "status", ST_DELIVERED);
    delivery_state_set_str(dom, "delivered_to", uri);
    delivery_state_set_int(dom, "delivered_at", when);
    json_object_object_del(dom, "next_attempt");
}

/* Once a domain's report is delivered, its other endpoints are not tried any more. */
void delivery_state_close_endpoints(json_object *dom)
{
    json_object *eps;

    if (!json_object_object_get_ex(dom, "endpoints", &eps))
        return;
    json_object_object_foreach(eps, uri, ep)
    {
        (void)uri;
        if (delivery_state_is(ep, "status", ST_PENDING)) {
            delivery_state_set_str(ep, "status", ST_NOT_NEEDED);
            json_object_object_del(ep, "next_attempt");
        }
    }
}

/* The domain fields a failed attempt changes; the status stays what the state says (a
 * failure at a second endpoint must not undo an acceptance by the first). */
static const char *const delivery_state_attempt_fields[] = {"first_attempt", "due", "dns_failures",
                                                            "next_attempt", NULL};

/* Replays one "domain TAB {record}" line written by delivery_state_log_attempt(). */
static void delivery_state_replay_attempt(json_object *st, const char *domain, const char *text)
{
    json_object *rec = json_tokener_parse(text), *fields, *ep;

    if (rec == NULL || !json_object_is_type(rec, json_type_object)) {
        json_object_put(rec);
        return; /* a torn last line: that attempt is simply made again */
    }
    json_object *dom = delivery_state_obj(delivery_state_obj(st, "domains"), domain);
    if (delivery_state_str(dom, "status")[0] == 0)
        delivery_state_set_str(dom, "status", ST_PENDING);
    if (json_object_object_get_ex(rec, "domain", &fields) &&
        json_object_is_type(fields, json_type_object)) {
        for (size_t i = 0; delivery_state_attempt_fields[i]; i++) {
            json_object *v;
            if (json_object_object_get_ex(fields, delivery_state_attempt_fields[i], &v))
                json_object_object_add(dom, delivery_state_attempt_fields[i], json_object_get(v));
        }
    }
    const char *uri = delivery_state_str(rec, "uri");
    if (*uri && json_object_object_get_ex(rec, "endpoint", &ep) &&
        json_object_is_type(ep, json_type_object))
        json_object_object_add(delivery_state_obj(dom, "endpoints"), uri, json_object_get(ep));
    if (delivery_state_is(dom, "status", ST_DELIVERED))
        delivery_state_close_endpoints(dom);
    json_object_put(rec);
}

/* Acceptances ("domain TAB uri TAB time") and failed attempts ("domain TAB {record}")
 * logged since the last full save are replayed on load, in order: a crash after an
 * acceptance costs no resend, and one after a failure keeps its back-off and the first
 * attempt that starts the 24-hour window. */
static int delivery_state_replay(agent_ctx *ctx, const char *day, json_object *st)
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
            delivery_state_replay_attempt(st, line, uri + 1);
            continue;
        }
        if (when == NULL)
            continue; /* a torn last line: its acceptance was never confirmed */
        *uri++ = 0;
        *when++ = 0;
        delivery_state_mark(st, line, uri, strtoll(when, NULL, 10));
    }
    vstring_free(v);
    return 0;
}

int delivery_state_log_accept(agent_ctx *ctx, const char *day, const char *domain, const char *uri,
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
int delivery_state_log_attempt(agent_ctx *ctx, const char *day, const char *domain,
                               json_object *dom, const char *uri, json_object *ep)
{
    json_object *rec = json_object_new_object(), *fields = json_object_new_object();

    for (size_t i = 0; delivery_state_attempt_fields[i]; i++) {
        json_object *v;
        if (json_object_object_get_ex(dom, delivery_state_attempt_fields[i], &v))
            json_object_object_add(fields, delivery_state_attempt_fields[i], json_object_get(v));
    }
    json_object_object_add(rec, "domain", fields);
    if (uri) {
        delivery_state_set_str(rec, "uri", uri);
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

json_object *delivery_state_load(agent_ctx *ctx, const char *day)
{
    vstring *v = vstring_alloc(0);
    json_object *st = NULL;

    if (spool_state_load(agent_spool(ctx), day, v) < 0) {
        msg_error("%s: cannot read the delivery state: %m", day);
    } else if (vstring_len(v) == 0) {
        st = json_object_new_object();
        delivery_state_set_int(st, "version", DELIVERY_STATE_VERSION);
        delivery_state_set_str(st, "day", day);
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
    if (st && delivery_state_replay(ctx, day, st) < 0) {
        json_object_put(st);
        st = NULL;
    }
    return st;
}

int delivery_state_save(agent_ctx *ctx, const char *day, json_object *st)
{
    const char *text =
        json_object_to_json_string_ext(st, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);

    if (spool_state_save(agent_spool(ctx), day, text, strlen(text)) < 0) {
        msg_error("%s: cannot write the delivery state: %m", day);
        return -1;
    }
    return 0;
}
