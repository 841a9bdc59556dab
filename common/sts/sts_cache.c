/*
 * On-disk MTA-STS cache entries. One small text file per domain, so an entry is replaced
 * atomically on its own; the policy is stored as its lines and parsed again on load, so a
 * corrupt file can never yield a policy the parser would refuse.
 */
#include "sts_cache.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "domain.h"
#include "msg.h"
#include "mymalloc.h"
#include "outcome.h"
#include "spool_store.h"

#define STS_CACHE_MAGIC    "OTRSTS1\n"
#define STS_CACHE_FILE_MAX (STS_POLICY_MAX + 4096)

static int sts_cache_path(char *out, size_t size, const char *spool_dir, const char *domain)
{
    if (!spool_store_key_ok(domain))
        return -1;
    spool_store_describe(spool_dir, SPOOL_AREA_STS_CACHE, domain, out, size);
    return 0;
}

void sts_cache_entry_free(sts_cache_entry *e)
{
    sts_policy_free(&e->policy);
    memset(e, 0, sizeof(*e));
}

void sts_cache_entry_copy(sts_cache_entry *dst, const sts_cache_entry *src)
{
    *dst = *src;
    memset(&dst->policy, 0, sizeof(dst->policy));
    if (src->have_policy)
        sts_policy_copy(&dst->policy, &src->policy);
}

void sts_cache_forget_failure(sts_cache_entry *e)
{
    e->failed_at = 0;
    e->failed_id[0] = e->failed_reason[0] = 0;
    e->failed_result = 0;
}

int sts_cache_usable(const sts_cache_entry *e, time_t now)
{
    return e && e->have_policy && now < e->expires;
}

/* Copies a token of at most size-1 bytes made of [A-Za-z0-9-]; 0, or -1 when it is not. */
static int sts_cache_token(const char *v, size_t len, char *out, size_t size)
{
    if (len >= size)
        return -1;
    for (size_t i = 0; i < len; i++)
        if (!((v[i] >= 'a' && v[i] <= 'z') || (v[i] >= 'A' && v[i] <= 'Z') ||
              (v[i] >= '0' && v[i] <= '9') || v[i] == '-'))
            return -1;
    memcpy(out, v, len);
    out[len] = 0;
    return 0;
}

static int sts_cache_number(const char *v, size_t len, time_t *out)
{
    long long n = 0;

    if (len == 0 || len > 18)
        return -1;
    for (size_t i = 0; i < len; i++) {
        if (v[i] < '0' || v[i] > '9')
            return -1;
        n = n * 10 + (v[i] - '0');
    }
    *out = (time_t)n;
    return 0;
}

static int sts_cache_parse(const char *buf, size_t len, sts_cache_entry *e)
{
    const char *p = buf, *end = buf + len;
    size_t mlen = strlen(STS_CACHE_MAGIC);

    if (len < mlen || memcmp(buf, STS_CACHE_MAGIC, mlen) != 0)
        return -1;
    p += mlen;
    for (;;) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        if (!nl)
            return -1;
        if (nl == p) {
            p++;
            break; /* the policy follows */
        }
        const char *sp = memchr(p, ' ', (size_t)(nl - p));
        if (!sp)
            return -1;
        size_t klen = (size_t)(sp - p), vlen = (size_t)(nl - sp - 1);
        const char *v = sp + 1;
        int bad = 0;
        time_t n = 0;
        if (klen == 2 && memcmp(p, "id", 2) == 0)
            bad = sts_cache_token(v, vlen, e->id, sizeof(e->id));
        else if (klen == 9 && memcmp(p, "failed_id", 9) == 0)
            bad = sts_cache_token(v, vlen, e->failed_id, sizeof(e->failed_id));
        else if (klen == 13 && memcmp(p, "failed_reason", 13) == 0)
            bad = sts_cache_token(v, vlen, e->failed_reason, sizeof(e->failed_reason));
        else if ((bad = sts_cache_number(v, vlen, &n)) == 0) {
            if (klen == 7 && memcmp(p, "fetched", 7) == 0)
                e->fetched = n;
            else if (klen == 7 && memcmp(p, "expires", 7) == 0)
                e->expires = n;
            else if (klen == 9 && memcmp(p, "failed_at", 9) == 0)
                e->failed_at = n;
            else if (klen == 13 && memcmp(p, "failed_result", 13) == 0)
                e->failed_result = n >= 301 && n <= 303 ? (int)n : 0;
        }
        if (bad)
            return -1;
        p = nl + 1;
    }
    if (p < end) {
        const char *why;
        if (sts_policy_parse(p, (size_t)(end - p), &e->policy, &why) < 0)
            return -1;
        e->have_policy = 1;
    }
    return 0;
}

int sts_cache_load(const char *spool_dir, const char *domain, sts_cache_entry *e)
{
    char path[PATH_MAX];
    vstring *buf = vstring_alloc(0);
    int ret = 1;

    memset(e, 0, sizeof(*e));
    if (sts_cache_path(path, sizeof(path), spool_dir, domain) < 0) {
        ret = -1;
    } else if (spool_store_read(spool_dir, SPOOL_AREA_STS_CACHE, domain, buf, STS_CACHE_FILE_MAX) <
               0) {
        ret = errno == ENOENT ? 0 : -1;
        if (ret < 0)
            msg_warn("sts: cannot read %s: %m", path);
    } else if (sts_cache_parse(buf->data, buf->len, e) < 0) {
        msg_warn("sts: ignoring the corrupt cache file %s", path);
        sts_cache_entry_free(e);
        ret = -1;
    }
    vstring_free(buf);
    return ret;
}

int sts_cache_save(const char *spool_dir, const char *domain, const sts_cache_entry *e)
{
    char path[PATH_MAX];
    int ret = 0;

    if (sts_cache_path(path, sizeof(path), spool_dir, domain) < 0)
        return -1;
    if (!e->have_policy && !e->failed_at) {
        if (spool_store_remove(spool_dir, SPOOL_AREA_STS_CACHE, domain) < 0)
            msg_warn("sts: cannot remove %s: %m", path);
        return 0;
    }
    vstring *out = vstring_alloc(0);
    vstring_append_str(out, STS_CACHE_MAGIC);
    if (e->have_policy)
        vstring_sprintf_append(out, "id %s\nfetched %lld\nexpires %lld\n", e->id,
                               (long long)e->fetched, (long long)e->expires);
    if (e->failed_at)
        vstring_sprintf_append(out,
                               "failed_at %lld\nfailed_id %s\nfailed_result %d\n"
                               "failed_reason %s\n",
                               (long long)e->failed_at, *e->failed_id ? e->failed_id : "-",
                               e->failed_result, *e->failed_reason ? e->failed_reason : "-");
    vstring_append_char(out, '\n');
    for (size_t i = 0; e->have_policy && i < e->policy.nlines; i++) {
        vstring_append_str(out, e->policy.lines[i]);
        vstring_append_char(out, '\n');
    }
    if (spool_store_prepare(spool_dir, SPOOL_AREA_STS_CACHE) < 0 ||
        spool_store_replace(spool_dir, SPOOL_AREA_STS_CACHE, domain, out->data, out->len) < 0) {
        msg_error("sts: cannot write %s: %m", path);
        ret = -1;
    }
    vstring_free(out);
    return ret;
}

size_t sts_cache_load_all(const char *spool_dir,
                          void (*fn)(const char *domain, const sts_cache_entry *e, void *ctx),
                          void *ctx)
{
    size_t n = 0;
    char **keys = spool_store_list(spool_dir, SPOOL_AREA_STS_CACHE);

    for (size_t i = 0; keys && keys[i]; i++) {
        char norm[DOMAIN_MAX + 1];
        const char *name = keys[i];
        sts_cache_entry e;
        /* Only names that are normalized domains: not ".", "..", nor temporary files. */
        if (name[0] == '.' || strstr(name, ".tmp.") ||
            domain_normalize(name, strlen(name), norm, sizeof(norm)) < 0 || strcmp(norm, name) != 0)
            continue;
        if (sts_cache_load(spool_dir, norm, &e) == 1) {
            fn(norm, &e, ctx);
            n++;
        }
        sts_cache_entry_free(&e);
    }
    spool_store_list_free(keys);
    return n;
}

/* Whether a policy line can travel inside Postfix's "{ name = value }" attribute syntax. */
static int sts_cache_attr_safe(const char *s)
{
    return strpbrk(s, "{}") == NULL;
}

int sts_cache_failing(const sts_cache_entry *e, time_t now)
{
    return e && e->failed_at && e->failed_result >= 301 && e->failed_result <= 303 &&
           !sts_cache_usable(e, now);
}

/* Appends the Postfix >= 3.10 TLSRPT attributes of e's policy. */
static void sts_cache_attrs(const sts_cache_entry *e, const char *domain, vstring *out)
{
    vstring_sprintf_append(out, " policy_type=sts policy_domain=%s", domain);
    for (size_t i = 0; i < e->policy.nmx; i++)
        vstring_sprintf_append(out, " mx_host_pattern=%s", e->policy.mx[i]);
    for (size_t i = 0; i < e->policy.nlines; i++)
        if (sts_cache_attr_safe(e->policy.lines[i]))
            vstring_sprintf_append(out, " { policy_string = %s }", e->policy.lines[i]);
}

void sts_cache_answer(const sts_cache_entry *e, const char *domain, time_t now, int attrs,
                      const char *testing_policy, const char *site_level, vstring *out)
{
    /* Where no policy is enforced (testing mode, a failed fetch) the site's own level
     * stays in force: an answer replaces smtp_tls_security_level for the domain. Postfix
     * drops the attributes of "none", which NOTFOUND keeps just as well. */
    const char *level = *testing_policy ? testing_policy : site_level;
    int level_attrs = attrs && strcmp(level, "none") != 0;

    vstring_reset(out);
    /* DANE first (RFC 8461 section 2): a policy must not override the site's DANE for
     * MX hosts with validated TLSA records; Postfix then reports them as tlsa itself. */
    if (e && e->dane && strncmp(site_level, "dane", 4) == 0) {
        vstring_append_str(out, "NOTFOUND ");
        return;
    }
    /* Without a policy mail goes as without MTA-STS (RFC 8461 5), as for a testing policy. */
    if (level_attrs && sts_cache_failing(e, now)) {
        vstring_sprintf_append(out, "OK %s policy_type=sts policy_domain=%s policy_failure=%s",
                               level, domain, outcome_result_name(e->failed_result));
        return;
    }
    if (!sts_cache_usable(e, now) || e->policy.mode == STS_MODE_NONE ||
        (e->policy.mode == STS_MODE_TESTING && !*testing_policy && !level_attrs)) {
        vstring_append_str(out, "NOTFOUND ");
        return;
    }
    if (e->policy.mode == STS_MODE_TESTING) {
        /* RFC 8460: testing-mode sessions are reported under their sts policy, so Postfix
         * gets the policy at the site's level (its failures it reports when its
         * smtp_tls_loglevel includes "untrusted"). */
        vstring_sprintf_append(out, "OK %s", level);
        if (level_attrs)
            sts_cache_attrs(e, domain, out);
        return;
    }
    vstring_append_str(out, "OK secure match=");
    for (size_t i = 0; i < e->policy.nmx; i++) {
        const char *m = e->policy.mx[i];
        /* Postfix writes "any subdomain" as ".suffix"; RFC 8461's "*." is one label. */
        vstring_append_str(out, i ? ":" : "");
        vstring_append_str(out, m[0] == '*' ? m + 1 : m);
    }
    vstring_append_str(out, " servername=hostname");
    if (attrs)
        sts_cache_attrs(e, domain, out);
}
