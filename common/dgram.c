#include "dgram.h"

#include <arpa/inet.h>
#include <json-c/json.h>
#include <string.h>

#include "domain.h"
#include "msg.h"
#include "mymalloc.h"
#include "utf8.h"
#include "vstring.h"

struct dgram_decoder {
    json_tokener *tok;
    vstring *tmp;
    outcome *o;
    size_t repaired;
};

static const char *dgram_names[DGRAM_NSTATUS] = {
    "ok", "not-json", "bad-version", "wrong-type", "unknown-code", "oversize", "bad-domain",
    "missing-field",
};

const char *dgram_status_name(dgram_status status)
{
    return (unsigned)status < DGRAM_NSTATUS ? dgram_names[status] : "unknown";
}

dgram_decoder *dgram_decoder_new(void)
{
    dgram_decoder *d = mycalloc(1, sizeof(*d));

    /* Depth 8 is ample for the protocol and stops deeply nested garbage early. */
    d->tok = json_tokener_new_ex(8);
    if (d->tok == NULL)
        msg_fatal("out of memory creating a JSON parser");
    d->tmp = vstring_alloc(0);
    return d;
}

dgram_decoder *dgram_decoder_free(dgram_decoder *d)
{
    if (d) {
        json_tokener_free(d->tok);
        vstring_free(d->tmp);
        myfree(d);
    }
    return NULL;
}

/* Copies a JSON string into the outcome, repairing UTF-8; "" becomes NULL. */
static dgram_status dgram_string(dgram_decoder *d, json_object *v, const char **out)
{
    *out = NULL;
    if (v == NULL)
        return DGRAM_OK;
    if (!json_object_is_type(v, json_type_string))
        return DGRAM_ERR_TYPE;
    const char *s = json_object_get_string(v);
    size_t len = (size_t)json_object_get_string_len(v);
    if (len > OUTCOME_MAX_FIELD)
        return DGRAM_ERR_SIZE;
    if (len == 0)
        return DGRAM_OK;
    if (utf8_valid(s, len) && memchr(s, 0, len) == NULL) {
        *out = arena_strndup(&d->o->mem, s, len);
        return DGRAM_OK;
    }
    vstring_reset(d->tmp);
    d->repaired += utf8_repair(d->tmp, s, len);
    /* An escaped NUL (\u0000) would cut the string short later: replace it too. */
    for (size_t i = 0; i < d->tmp->len; i++)
        if (d->tmp->data[i] == 0) {
            d->tmp->data[i] = '?';
            d->repaired++;
        }
    *out = arena_strndup(&d->o->mem, d->tmp->data, d->tmp->len);
    return DGRAM_OK;
}

static dgram_status dgram_domain(dgram_decoder *d, json_object *v, const char **out)
{
    char norm[DOMAIN_MAX + 2];

    *out = NULL;
    if (v == NULL)
        return DGRAM_OK;
    if (!json_object_is_type(v, json_type_string))
        return DGRAM_ERR_TYPE;
    size_t len = (size_t)json_object_get_string_len(v);
    if (len == 0)
        return DGRAM_OK;
    if (domain_normalize(json_object_get_string(v), len, norm, sizeof(norm)) < 0)
        return DGRAM_ERR_DOMAIN;
    *out = arena_strdup(&d->o->mem, norm);
    return DGRAM_OK;
}

/* An IP address in canonical form (RFC 5952 for IPv6); unparsable text is kept repaired. */
static dgram_status dgram_ip(dgram_decoder *d, json_object *v, const char **out)
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
static dgram_status dgram_host(dgram_decoder *d, json_object *v, const char **out)
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

static dgram_status dgram_int(json_object *v, int *out, int required)
{
    if (v == NULL)
        return required ? DGRAM_ERR_MISSING : DGRAM_OK;
    if (!json_object_is_type(v, json_type_int))
        return DGRAM_ERR_TYPE;
    int64_t n = json_object_get_int64(v);
    if (n < 0 || n > 100000)
        return DGRAM_ERR_CODE;
    *out = (int)n;
    return DGRAM_OK;
}

#define TRY(expr)                                                                                  \
    do {                                                                                           \
        dgram_status st_ = (expr);                                                                 \
        if (st_ != DGRAM_OK)                                                                       \
            return st_;                                                                            \
    } while (0)

static dgram_status dgram_string_array(dgram_decoder *d, json_object *v, const char ***out,
                                       size_t *n)
{
    *out = NULL;
    *n = 0;
    if (v == NULL)
        return DGRAM_OK;
    if (!json_object_is_type(v, json_type_array))
        return DGRAM_ERR_TYPE;
    size_t len = json_object_array_length(v);
    if (len > OUTCOME_MAX_STRINGS)
        return DGRAM_ERR_SIZE;
    *out = arena_alloc(&d->o->mem, (len + 1) * sizeof(char *));
    for (size_t i = 0; i < len; i++) {
        const char *s;
        json_object *e = json_object_array_get_idx(v, i);
        if (e == NULL)
            return DGRAM_ERR_TYPE;
        TRY(dgram_string(d, e, &s));
        (*out)[(*n)++] = s ? s : "";
    }
    return DGRAM_OK;
}


static json_object *dgram_get(json_object *obj, const char *key)
{
    json_object *v = NULL;

    if (!json_object_object_get_ex(obj, key, &v))
        return NULL;
    return v;
}

static dgram_status dgram_failure(dgram_decoder *d, json_object *j, outcome_failure *f)
{
    if (!json_object_is_type(j, json_type_object))
        return DGRAM_ERR_TYPE;
    memset(f, 0, sizeof(*f));
    TRY(dgram_int(dgram_get(j, "c"), &f->result, 1));
    if (outcome_result_name(f->result) == NULL)
        return DGRAM_ERR_CODE;
    TRY(dgram_ip(d, dgram_get(j, "s"), &f->sending_ip));
    TRY(dgram_host(d, dgram_get(j, "n"), &f->mx_hostname));
    TRY(dgram_string(d, dgram_get(j, "h"), &f->mx_helo));
    TRY(dgram_ip(d, dgram_get(j, "r"), &f->receiving_ip));
    TRY(dgram_string(d, dgram_get(j, "a"), &f->additional_info));
    TRY(dgram_string(d, dgram_get(j, "f"), &f->reason_code));
    return DGRAM_OK;
}

static dgram_status dgram_policy(dgram_decoder *d, json_object *j, outcome_policy *p)
{
    json_object *v;
    int failed = -1, t = 0;

    if (!json_object_is_type(j, json_type_object))
        return DGRAM_ERR_TYPE;
    memset(p, 0, sizeof(*p));
    TRY(dgram_int(dgram_get(j, "policy-type"), &p->type, 1));
    if (outcome_policy_name(p->type) == NULL)
        return DGRAM_ERR_CODE;
    TRY(dgram_domain(d, dgram_get(j, "policy-domain"), &p->domain));
    TRY(dgram_string_array(d, dgram_get(j, "policy-string"), &p->strings, &p->nstrings));
    TRY(dgram_string_array(d, dgram_get(j, "mx-host"), &p->mx_hosts, &p->nmx_hosts));
    for (size_t i = 0; i < p->nmx_hosts; i++)
        p->mx_hosts[i] = dgram_pattern(d, p->mx_hosts[i]);
    TRY(dgram_int(dgram_get(j, "t"), &t, 0));
    TRY(dgram_int(dgram_get(j, "f"), &failed, 0));
    if (failed > 1)
        return DGRAM_ERR_CODE;
    if ((v = dgram_get(j, "failure-details")) != NULL) {
        if (!json_object_is_type(v, json_type_array))
            return DGRAM_ERR_TYPE;
        size_t n = json_object_array_length(v);
        if (n > OUTCOME_MAX_FAILURES)
            return DGRAM_ERR_SIZE;
        p->failures = arena_alloc(&d->o->mem, (n + 1) * sizeof(*p->failures));
        for (size_t i = 0; i < n; i++)
            TRY(dgram_failure(d, json_object_array_get_idx(v, i), &p->failures[p->nfailures++]));
    }
    /* Without "f", a session with failure details is a failed one. */
    p->failed = failed >= 0 ? failed : p->nfailures > 0;
    return DGRAM_OK;
}

static dgram_status dgram_object(dgram_decoder *d, json_object *root)
{
    json_object *v;
    outcome *o = d->o;

    if (!json_object_is_type(root, json_type_object))
        return DGRAM_ERR_JSON;
    v = dgram_get(root, "dpv");
    if (v == NULL || !json_object_is_type(v, json_type_string) ||
        strcmp(json_object_get_string(v), "1") != 0)
        return DGRAM_ERR_VERSION;
    if (dgram_get(root, "d") == NULL)
        return DGRAM_ERR_MISSING;
    TRY(dgram_domain(d, dgram_get(root, "d"), &o->domain));
    if (o->domain == NULL)
        return DGRAM_ERR_DOMAIN;
    TRY(dgram_string(d, dgram_get(root, "pr"), &o->record));
    v = dgram_get(root, "policies");
    if (v == NULL)
        return DGRAM_ERR_MISSING;
    if (!json_object_is_type(v, json_type_array))
        return DGRAM_ERR_TYPE;
    size_t n = json_object_array_length(v);
    if (n == 0)
        return DGRAM_ERR_MISSING;
    if (n > OUTCOME_MAX_POLICIES)
        return DGRAM_ERR_SIZE;
    o->policies = arena_alloc(&o->mem, n * sizeof(*o->policies));
    for (size_t i = 0; i < n; i++)
        TRY(dgram_policy(d, json_object_array_get_idx(v, i), &o->policies[o->npolicies++]));
    return DGRAM_OK;
}

dgram_status dgram_decode(dgram_decoder *d, const void *buf, size_t len, outcome *o,
                          size_t *repaired)
{
    json_object *root;
    dgram_status st;

    outcome_clear(o);
    o->source = OUTCOME_SRC_DGRAM;
    if (repaired)
        *repaired = 0;
    if (len > DGRAM_MAX_SIZE)
        return DGRAM_ERR_SIZE;
    json_tokener_reset(d->tok);
    root = json_tokener_parse_ex(d->tok, buf, (int)len);
    if (root == NULL || json_tokener_get_error(d->tok) != json_tokener_success ||
        json_tokener_get_parse_end(d->tok) != len) {
        /* Trailing bytes after the object are tolerated only when they are white space. */
        size_t end = root ? json_tokener_get_parse_end(d->tok) : 0;
        const char *p = buf;
        int tail_ok = root != NULL;
        for (size_t i = end; tail_ok && i < len; i++)
            if (p[i] != ' ' && p[i] != '\n' && p[i] != '\r' && p[i] != '\t')
                tail_ok = 0;
        if (!tail_ok) {
            if (root)
                json_object_put(root);
            return DGRAM_ERR_JSON;
        }
    }
    d->o = o;
    d->repaired = 0;
    st = dgram_object(d, root);
    json_object_put(root);
    if (repaired)
        *repaired = d->repaired;
    if (st != DGRAM_OK)
        outcome_clear(o);
    return st;
}
