#include "dgram.h"

#include <arpa/inet.h>
#include <string.h>
#include <strings.h>

#include "domain.h"
#include "jsontok.h"
#include "msg.h"
#include "mymalloc.h"
#include "utf8.h"
#include "vstring.h"

#define DGRAM_MAX_TOKENS 32768
#define DGRAM_MAX_DEPTH  8 /* ample for the protocol; deeper input is refused early */

struct dgram_decoder {
    jsontok *toks;
    const char *in;
    vstring *tmp;
    outcome *o;
    size_t repaired;
};

static const char *dgram_names[DGRAM_NSTATUS] = {
    "ok",           "not-json", "bad-version", "wrong-type",
    "unknown-code", "oversize", "bad-domain",  "missing-field",
};

const char *dgram_status_name(dgram_status status)
{
    return (unsigned)status < DGRAM_NSTATUS ? dgram_names[status] : "unknown";
}

dgram_decoder *dgram_decoder_new(void)
{
    dgram_decoder *d = mycalloc(1, sizeof(*d));

    d->toks = mymalloc(DGRAM_MAX_TOKENS * sizeof(*d->toks));
    d->tmp = vstring_alloc(0);
    return d;
}

dgram_decoder *dgram_decoder_free(dgram_decoder *d)
{
    if (d) {
        myfree(d->toks);
        vstring_free(d->tmp);
        myfree(d);
    }
    return NULL;
}

#define TRY(expr)                                                                                  \
    do {                                                                                           \
        dgram_status st_ = (expr);                                                                 \
        if (st_ != DGRAM_OK)                                                                       \
            return st_;                                                                            \
    } while (0)

/* A JSON null counts as absent, like a missing member. */
static int dgram_absent(const dgram_decoder *d, int v)
{
    return v < 0 || d->toks[v].type == JSONTOK_NULL;
}

/* Copies a JSON string into the outcome, repairing UTF-8; "" becomes NULL. Control
 * characters (\u001f or \u009b could forge fields or terminal sequences wherever the string
 * is printed) become spaces, unless keep_controls (for a parser that keeps none of them); an
 * escaped NUL, which would cut the string short, becomes '?' either way. */
static dgram_status dgram_text(dgram_decoder *d, int v, const char **out, int keep_controls)
{
    *out = NULL;
    if (dgram_absent(d, v))
        return DGRAM_OK;
    const jsontok *t = &d->toks[v];
    if (t->type != JSONTOK_STRING)
        return DGRAM_ERR_TYPE;
    if (t->end - t->start > 6 * OUTCOME_MAX_FIELD)
        return DGRAM_ERR_SIZE;
    char *s = arena_alloc(&d->o->mem, t->end - t->start + 1);
    size_t len = jsontok_string(d->in, t, s);
    s[len] = 0;
    if (len > OUTCOME_MAX_FIELD)
        return DGRAM_ERR_SIZE;
    if (len == 0)
        return DGRAM_OK;
    if (utf8_valid(s, len) &&
        (keep_controls ? memchr(s, 0, len) == NULL : !utf8_has_controls(s, len))) {
        *out = s;
        return DGRAM_OK;
    }
    vstring_reset(d->tmp);
    d->repaired += utf8_repair(d->tmp, s, len);
    for (size_t i = 0; i < d->tmp->len; i++)
        if (d->tmp->data[i] == 0) {
            d->tmp->data[i] = '?';
            d->repaired++;
        }
    if (!keep_controls) {
        d->tmp->len = utf8_replace_controls(d->tmp->data, d->tmp->len, ' ', NULL);
        d->tmp->data[d->tmp->len] = 0;
    }
    *out = arena_strndup(&d->o->mem, d->tmp->data, d->tmp->len);
    return DGRAM_OK;
}

static dgram_status dgram_string(dgram_decoder *d, int v, const char **out)
{
    return dgram_text(d, v, out, 0);
}

static dgram_status dgram_domain(dgram_decoder *d, int v, const char **out)
{
    char norm[DOMAIN_MAX + 2];
    const char *raw;

    *out = NULL;
    if (!dgram_absent(d, v) && d->toks[v].type != JSONTOK_STRING)
        return DGRAM_ERR_TYPE;
    TRY(dgram_string(d, v, &raw));
    if (raw == NULL)
        return DGRAM_OK;
    if (domain_normalize(raw, strlen(raw), norm, sizeof(norm)) < 0)
        return DGRAM_ERR_DOMAIN;
    *out = arena_strdup(&d->o->mem, norm);
    return DGRAM_OK;
}

/* An IP address in canonical form (RFC 5952 for IPv6); unparsable text is kept repaired. */
static dgram_status dgram_ip(dgram_decoder *d, int v, const char **out)
{
    unsigned char addr[16];
    char text[INET6_ADDRSTRLEN];
    dgram_status st = dgram_string(d, v, out);

    if (st != DGRAM_OK || *out == NULL)
        return st;
    if (inet_pton(AF_INET, *out, addr) == 1)
        inet_ntop(AF_INET, addr, text, sizeof(text));
    else if (inet_pton(AF_INET6, *out, addr) == 1)
        inet_ntop(AF_INET6, addr, text, sizeof(text));
    else
        return DGRAM_OK;
    *out = arena_strdup(&d->o->mem, text);
    return DGRAM_OK;
}

/* A host name: normalized when it is one, else kept as repaired text. */
static dgram_status dgram_host(dgram_decoder *d, int v, const char **out)
{
    dgram_status st = dgram_domain(d, v, out);

    if (st == DGRAM_ERR_DOMAIN)
        return dgram_string(d, v, out);
    return st;
}

/* An mx-host pattern ("host" or "*.suffix") in A-label form when it is a valid name;
 * otherwise kept as given (patterns compare case-insensitively). */
static const char *dgram_pattern(dgram_decoder *d, const char *pat)
{
    char norm[DOMAIN_MAX + 4];
    int wild = strncmp(pat, "*.", 2) == 0;

    if (domain_normalize(pat + (wild ? 2 : 0), strlen(pat) - (wild ? 2 : 0), norm + 2,
                         sizeof(norm) - 2) < 0)
        return pat;
    norm[0] = '*';
    norm[1] = '.';
    return arena_strdup(&d->o->mem, wild ? norm : norm + 2);
}

/* The host name the MX announced in its EHLO reply: Postfix 3.10 sends the whole
 * multi-line reply ("250-mx.example ...\r\n250-PIPELINING..."), a report wants only the
 * name (RFC 8460 receiving-mx-helo). A bare name is taken as it is; anything that does not
 * yield a host name or an address literal is omitted. */
static dgram_status dgram_helo(dgram_decoder *d, int v, const char **out)
{
    char norm[DOMAIN_MAX + 2];
    unsigned char addr[16];
    const char *s, *e;
    /* The reply's line breaks tell its first line; what is kept is a name or a literal. */
    dgram_status st = dgram_text(d, v, out, 1);

    if (st != DGRAM_OK || *out == NULL)
        return st;
    s = *out;
    *out = NULL;
    if (s[0] >= '0' && s[0] <= '9' && s[1] >= '0' && s[1] <= '9' && s[2] >= '0' && s[2] <= '9' &&
        (s[3] == '-' || s[3] == ' '))
        s += 4;
    s += strspn(s, " \t");
    e = s + strcspn(s, " \t\r\n");
    if (e - s > 2 && *s == '[' && e[-1] == ']' && (size_t)(e - s) < sizeof(norm)) {
        memcpy(norm, s + 1, (size_t)(e - s) - 2);
        norm[e - s - 2] = 0;
        if (inet_pton(AF_INET, norm, addr) == 1 ||
            (strncasecmp(norm, "IPv6:", 5) == 0 && inet_pton(AF_INET6, norm + 5, addr) == 1))
            *out = arena_strndup(&d->o->mem, s, (size_t)(e - s));
        return DGRAM_OK;
    }
    if (e > s && domain_normalize(s, (size_t)(e - s), norm, sizeof(norm)) == 0)
        *out = arena_strdup(&d->o->mem, norm);
    return DGRAM_OK;
}

static dgram_status dgram_int(dgram_decoder *d, int v, int *out, int required)
{
    int64_t n;

    if (dgram_absent(d, v))
        return required ? DGRAM_ERR_MISSING : DGRAM_OK;
    if (d->toks[v].type != JSONTOK_NUMBER || jsontok_int(d->in, &d->toks[v], &n) < 0)
        return DGRAM_ERR_TYPE;
    if (n < 0 || n > 100000)
        return DGRAM_ERR_CODE;
    *out = (int)n;
    return DGRAM_OK;
}

static dgram_status dgram_string_array(dgram_decoder *d, int v, const char ***out, size_t *n)
{
    *out = NULL;
    *n = 0;
    if (dgram_absent(d, v))
        return DGRAM_OK;
    if (d->toks[v].type != JSONTOK_ARRAY)
        return DGRAM_ERR_TYPE;
    size_t len = d->toks[v].size;
    if (len > OUTCOME_MAX_STRINGS)
        return DGRAM_ERR_SIZE;
    *out = arena_alloc(&d->o->mem, (len + 1) * sizeof(char *));
    for (int e = v + 1; *n < len; e = (int)d->toks[e].next) {
        const char *s;
        if (d->toks[e].type != JSONTOK_STRING)
            return DGRAM_ERR_TYPE;
        TRY(dgram_string(d, e, &s));
        (*out)[(*n)++] = s ? s : "";
    }
    return DGRAM_OK;
}

static int dgram_get(dgram_decoder *d, int obj, const char *key)
{
    return jsontok_member(d->in, d->toks, obj, key);
}

static dgram_status dgram_failure(dgram_decoder *d, int j, outcome_failure *f)
{
    if (d->toks[j].type != JSONTOK_OBJECT)
        return DGRAM_ERR_TYPE;
    memset(f, 0, sizeof(*f));
    TRY(dgram_int(d, dgram_get(d, j, "c"), &f->result, 1));
    if (outcome_result_name(f->result) == NULL)
        return DGRAM_ERR_CODE;
    TRY(dgram_ip(d, dgram_get(d, j, "s"), &f->sending_ip));
    TRY(dgram_host(d, dgram_get(d, j, "n"), &f->mx_hostname));
    TRY(dgram_helo(d, dgram_get(d, j, "h"), &f->mx_helo));
    TRY(dgram_ip(d, dgram_get(d, j, "r"), &f->receiving_ip));
    TRY(dgram_string(d, dgram_get(d, j, "a"), &f->additional_info));
    TRY(dgram_string(d, dgram_get(d, j, "f"), &f->reason_code));
    return DGRAM_OK;
}

static dgram_status dgram_policy(dgram_decoder *d, int j, outcome_policy *p)
{
    int v, failed = -1, t = 0;

    if (d->toks[j].type != JSONTOK_OBJECT)
        return DGRAM_ERR_TYPE;
    memset(p, 0, sizeof(*p));
    TRY(dgram_int(d, dgram_get(d, j, "policy-type"), &p->type, 1));
    if (outcome_policy_name(p->type) == NULL)
        return DGRAM_ERR_CODE;
    TRY(dgram_domain(d, dgram_get(d, j, "policy-domain"), &p->domain));
    TRY(dgram_string_array(d, dgram_get(d, j, "policy-string"), &p->strings, &p->nstrings));
    TRY(dgram_string_array(d, dgram_get(d, j, "mx-host"), &p->mx_hosts, &p->nmx_hosts));
    for (size_t i = 0; i < p->nmx_hosts; i++)
        p->mx_hosts[i] = dgram_pattern(d, p->mx_hosts[i]);
    TRY(dgram_int(d, dgram_get(d, j, "t"), &t, 0));
    TRY(dgram_int(d, dgram_get(d, j, "f"), &failed, 0));
    if (failed > 1)
        return DGRAM_ERR_CODE;
    if (!dgram_absent(d, v = dgram_get(d, j, "failure-details"))) {
        if (d->toks[v].type != JSONTOK_ARRAY)
            return DGRAM_ERR_TYPE;
        size_t n = d->toks[v].size;
        if (n > OUTCOME_MAX_FAILURES)
            return DGRAM_ERR_SIZE;
        p->failures = arena_alloc(&d->o->mem, (n + 1) * sizeof(*p->failures));
        for (int e = v + 1; p->nfailures < n; e = (int)d->toks[e].next)
            TRY(dgram_failure(d, e, &p->failures[p->nfailures++]));
    }
    /* Without "f", a session with failure details is a failed one. */
    p->failed = failed >= 0 ? failed : p->nfailures > 0;
    return DGRAM_OK;
}

static dgram_status dgram_object(dgram_decoder *d)
{
    int v;
    outcome *o = d->o;

    if (d->toks[0].type != JSONTOK_OBJECT)
        return DGRAM_ERR_JSON;
    /* libtlsrpt 0.5.0rc1, which Debian 13's Postfix 3.10 links, sends no "dpv" at all:
     * absent is version 1; any other version is refused. */
    v = dgram_get(d, 0, "dpv");
    if (v >= 0 && (d->toks[v].type != JSONTOK_STRING || d->toks[v].escaped ||
                   d->toks[v].end - d->toks[v].start != 1 || d->in[d->toks[v].start] != '1'))
        return DGRAM_ERR_VERSION;
    v = dgram_get(d, 0, "d");
    if (dgram_absent(d, v))
        return DGRAM_ERR_MISSING;
    TRY(dgram_domain(d, v, &o->domain));
    if (o->domain == NULL)
        return DGRAM_ERR_DOMAIN;
    TRY(dgram_string(d, dgram_get(d, 0, "pr"), &o->record));
    v = dgram_get(d, 0, "policies");
    if (dgram_absent(d, v))
        return DGRAM_ERR_MISSING;
    if (d->toks[v].type != JSONTOK_ARRAY)
        return DGRAM_ERR_TYPE;
    size_t n = d->toks[v].size;
    if (n == 0)
        return DGRAM_ERR_MISSING;
    if (n > OUTCOME_MAX_POLICIES)
        return DGRAM_ERR_SIZE;
    o->policies = arena_alloc(&o->mem, n * sizeof(*o->policies));
    for (int e = v + 1; o->npolicies < n; e = (int)d->toks[e].next)
        TRY(dgram_policy(d, e, &o->policies[o->npolicies++]));
    return DGRAM_OK;
}

dgram_status dgram_decode(dgram_decoder *d, const void *buf, size_t len, outcome *o,
                          size_t *repaired)
{
    dgram_status st;

    outcome_clear(o);
    o->source = OUTCOME_SRC_DGRAM;
    if (repaired)
        *repaired = 0;
    if (len > DGRAM_MAX_SIZE)
        return DGRAM_ERR_SIZE;
    d->in = buf;
    if (jsontok_parse(d->in, len, d->toks, DGRAM_MAX_TOKENS, DGRAM_MAX_DEPTH) <= 0)
        return DGRAM_ERR_JSON;
    d->o = o;
    d->repaired = 0;
    st = dgram_object(d);
    if (repaired)
        *repaired = d->repaired;
    if (st != DGRAM_OK)
        outcome_clear(o);
    return st;
}
