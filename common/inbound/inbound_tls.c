#include "inbound_tls.h"

#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "msg.h"
#include "mymalloc.h"
#include "spool.h"
#include "spool_store.h"
#include "vstring.h"

#define INBOUND_TLS_MAX_FILE (64 * 1024 * 1024)

struct inbound_tls {
    pthread_mutex_t lock;
    char *root; /* the spool directory */
    char day[SPOOL_DAY_LEN + 1];
    json_object *state; /* the day's counters, the layout of the file */
    int dirty;
};

static void inbound_tls_key(const char *day, char *out, size_t size)
{
    snprintf(out, size, "%s.json", day);
}

static json_object *inbound_tls_read(const char *root, const char *day)
{
    char key[SPOOL_DAY_LEN + 8];
    vstring *text = vstring_alloc(0);
    json_object *obj = NULL;

    inbound_tls_key(day, key, sizeof(key));
    if (spool_store_read(root, SPOOL_AREA_INBOUND, key, text, INBOUND_TLS_MAX_FILE) == 0)
        obj = json_tokener_parse(text->data);
    vstring_free(text);
    if (obj && !json_object_is_type(obj, json_type_object)) {
        json_object_put(obj);
        obj = NULL;
    }
    return obj;
}

json_object *inbound_tls_load(const char *spool_dir, const char *day)
{
    return inbound_tls_read(spool_dir, day);
}

static void inbound_tls_start_day(inbound_tls *t, const char *day)
{
    json_object_put(t->state);
    memcpy(t->day, day, sizeof(t->day));
    t->state = inbound_tls_read(t->root, day);
    if (t->state == NULL) {
        t->state = json_object_new_object();
        json_object_object_add(t->state, "day", json_object_new_string(day));
    }
    t->dirty = 0;
}

inbound_tls *inbound_tls_open(const char *spool_dir)
{
    inbound_tls *t = mycalloc(1, sizeof(*t));
    char day[SPOOL_DAY_LEN + 1], where[PATH_MAX];

    pthread_mutex_init(&t->lock, NULL);
    t->root = mystrdup(spool_dir);
    if (spool_store_prepare(t->root, SPOOL_AREA_INBOUND) < 0) {
        spool_store_describe(t->root, SPOOL_AREA_INBOUND, "", where, sizeof(where));
        msg_warn("inbound TLS: cannot create %s: %m", where);
    }
    spool_day_of(time(NULL), day);
    inbound_tls_start_day(t, day);
    return t;
}

static json_object *inbound_tls_child(json_object *parent, const char *key)
{
    json_object *v;
    if (json_object_object_get_ex(parent, key, &v) && json_object_is_type(v, json_type_object))
        return v;
    v = json_object_new_object();
    json_object_object_add(parent, key, v);
    return v;
}

static void inbound_tls_inc(json_object *obj, const char *key)
{
    json_object *v;
    if (json_object_object_get_ex(obj, key, &v) && json_object_is_type(v, json_type_int))
        json_object_int_inc(v, 1);
    else
        json_object_object_add(obj, key, json_object_new_int64(1));
}

/* MTA macros are trusted a little: only [A-Za-z0-9._-], at most 63 bytes, are kept. */
static const char *inbound_tls_token(const char *in, char *out, size_t size)
{
    size_t n = 0;
    if (in == NULL || *in == 0)
        return NULL;
    for (; *in && n + 1 < size && n < 63; in++)
        out[n++] = (strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-",
                           *in) != NULL)
                       ? *in
                       : '_';
    out[n] = 0;
    return out;
}

void inbound_tls_count(inbound_tls *t, time_t now, const char *sender_domain, const char *version,
                       const char *cipher)
{
    char day[SPOOL_DAY_LEN + 1], vbuf[64], cbuf[64];
    const char *v = inbound_tls_token(version, vbuf, sizeof(vbuf));
    const char *c = inbound_tls_token(cipher, cbuf, sizeof(cbuf));
    const char *domain = sender_domain && *sender_domain ? sender_domain : "(null sender)";

    spool_day_of(now, day);
    pthread_mutex_lock(&t->lock);
    if (strcmp(day, t->day) != 0) {
        pthread_mutex_unlock(&t->lock);
        inbound_tls_flush(t, now - 1);
        pthread_mutex_lock(&t->lock);
        if (strcmp(day, t->day) != 0)
            inbound_tls_start_day(t, day);
    }
    json_object *domains = inbound_tls_child(t->state, "domains");
    json_object *d;
    if (!json_object_object_get_ex(domains, domain, &d) &&
        json_object_object_length(domains) >= INBOUND_TLS_MAX_DOMAINS)
        domain = "(other domains)";
    d = inbound_tls_child(domains, domain);
    inbound_tls_inc(d, "messages");
    if (v) {
        inbound_tls_inc(d, "tls");
        inbound_tls_inc(inbound_tls_child(d, "versions"), v);
    }
    if (c) {
        json_object *ciphers = inbound_tls_child(t->state, "ciphers");
        json_object *x;
        if (json_object_object_get_ex(ciphers, c, &x) ||
            json_object_object_length(ciphers) < INBOUND_TLS_MAX_CIPHERS)
            inbound_tls_inc(ciphers, c);
    }
    t->dirty = 1;
    pthread_mutex_unlock(&t->lock);
}

int inbound_tls_flush(inbound_tls *t, time_t now)
{
    char path[PATH_MAX], key[SPOOL_DAY_LEN + 8];
    int ret = 0;

    (void)now;
    pthread_mutex_lock(&t->lock);
    if (t->dirty) {
        size_t len;
        const char *text =
            json_object_to_json_string_length(t->state, JSON_C_TO_STRING_PLAIN, &len);
        inbound_tls_key(t->day, key, sizeof(key));
        if (spool_store_replace(t->root, SPOOL_AREA_INBOUND, key, text, len) < 0) {
            spool_store_describe(t->root, SPOOL_AREA_INBOUND, key, path, sizeof(path));
            msg_warn("inbound TLS: cannot write %s: %m", path);
            ret = -1;
        } else {
            t->dirty = 0;
        }
    }
    pthread_mutex_unlock(&t->lock);
    return ret;
}

inbound_tls *inbound_tls_close(inbound_tls *t)
{
    if (t == NULL)
        return NULL;
    inbound_tls_flush(t, time(NULL));
    json_object_put(t->state);
    pthread_mutex_destroy(&t->lock);
    myfree(t->root);
    myfree(t);
    return NULL;
}
