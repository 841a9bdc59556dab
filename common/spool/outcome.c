#include "outcome.h"

#include <string.h>

static const struct {
    int code;
    const char *name;
} outcome_results[] = {
    {201, "starttls-not-supported"},
    {202, "certificate-host-mismatch"},
    {203, "certificate-not-trusted"},
    {204, "certificate-expired"},
    {205, "validation-failure"},
    {301, "sts-policy-fetch-error"},
    {302, "sts-policy-invalid"},
    {303, "sts-webpki-invalid"},
    {304, "tlsa-invalid"},
    {305, "dnssec-invalid"},
    {306, "dane-required"},
};

void outcome_init(outcome *o)
{
    memset(o, 0, sizeof(*o));
    arena_init(&o->mem, 8192);
}

void outcome_clear(outcome *o)
{
    arena mem = o->mem;

    arena_reset(&mem);
    memset(o, 0, sizeof(*o));
    o->mem = mem;
}

void outcome_done(outcome *o)
{
    arena_destroy(&o->mem);
}

void outcome_failure_strings(const outcome_failure *f, const char *out[OUTCOME_FAILURE_NSTR])
{
    out[0] = f->sending_ip;
    out[1] = f->mx_hostname;
    out[2] = f->mx_helo;
    out[3] = f->receiving_ip;
    out[4] = f->additional_info;
    out[5] = f->reason_code;
}

const char *outcome_result_name(int code)
{
    for (size_t i = 0; i < sizeof(outcome_results) / sizeof(outcome_results[0]); i++)
        if (outcome_results[i].code == code)
            return outcome_results[i].name;
    return NULL;
}

int outcome_result_code(const char *name)
{
    for (size_t i = 0; i < sizeof(outcome_results) / sizeof(outcome_results[0]); i++)
        if (strcmp(outcome_results[i].name, name) == 0)
            return outcome_results[i].code;
    return 0;
}

const char *outcome_policy_name(int type)
{
    switch (type) {
    case OUTCOME_POLICY_TLSA:
        return "tlsa";
    case OUTCOME_POLICY_STS:
        return "sts";
    case OUTCOME_POLICY_NONE:
        return "no-policy-found";
    default:
        return NULL;
    }
}

int outcome_policy_code(const char *name)
{
    if (strcmp(name, "tlsa") == 0)
        return OUTCOME_POLICY_TLSA;
    if (strcmp(name, "sts") == 0)
        return OUTCOME_POLICY_STS;
    if (strcmp(name, "no-policy-found") == 0)
        return OUTCOME_POLICY_NONE;
    return 0;
}

/*
 * Journal payload, version 1. Integers are unsigned LEB128 varints; a string is a varint
 * (length + 1, 0 meaning absent) followed by its bytes. Order:
 *   version(=1) received source domain record npolicies
 *   per policy: type domain nstrings strings... nmx mx... failed nfailures
 *     per failure: result sending_ip mx_hostname mx_helo receiving_ip additional reason
 */
static void put_varint(vstring *out, uint64_t v)
{
    unsigned char b[10];
    size_t n = 0;

    do {
        b[n] = v & 0x7f;
        v >>= 7;
        if (v)
            b[n] |= 0x80;
        n++;
    } while (v);
    vstring_append(out, b, n);
}

static void put_str(vstring *out, const char *s)
{
    if (s == NULL) {
        put_varint(out, 0);
        return;
    }
    size_t len = strlen(s);
    put_varint(out, len + 1);
    vstring_append(out, s, len);
}

void outcome_encode(const outcome *o, vstring *out)
{
    put_varint(out, 1);
    put_varint(out, (uint64_t)o->received);
    put_varint(out, (uint64_t)o->source);
    put_str(out, o->domain);
    put_str(out, o->record);
    put_varint(out, o->npolicies);
    for (size_t i = 0; i < o->npolicies; i++) {
        const outcome_policy *p = &o->policies[i];
        put_varint(out, (uint64_t)p->type);
        put_str(out, p->domain);
        put_varint(out, p->nstrings);
        for (size_t j = 0; j < p->nstrings; j++)
            put_str(out, p->strings[j]);
        put_varint(out, p->nmx_hosts);
        for (size_t j = 0; j < p->nmx_hosts; j++)
            put_str(out, p->mx_hosts[j]);
        put_varint(out, (uint64_t)(p->failed != 0));
        put_varint(out, p->nfailures);
        for (size_t j = 0; j < p->nfailures; j++) {
            const char *str[OUTCOME_FAILURE_NSTR];
            put_varint(out, (uint64_t)p->failures[j].result);
            outcome_failure_strings(&p->failures[j], str);
            for (size_t k = 0; k < OUTCOME_FAILURE_NSTR; k++)
                put_str(out, str[k]);
        }
    }
}

typedef struct {
    const unsigned char *p;
    const unsigned char *end;
    int bad;
} reader;

static uint64_t get_varint(reader *r)
{
    uint64_t v = 0;

    for (unsigned shift = 0; shift < 64; shift += 7) {
        if (r->p >= r->end) {
            r->bad = 1;
            return 0;
        }
        unsigned char b = *r->p++;
        v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80))
            return v;
    }
    r->bad = 1;
    return 0;
}

static const char *get_str(reader *r, arena *mem)
{
    uint64_t n = get_varint(r);

    if (r->bad || n == 0)
        return NULL;
    n--;
    if (n > OUTCOME_MAX_FIELD * 64 || n > (uint64_t)(r->end - r->p)) {
        r->bad = 1;
        return NULL;
    }
    const char *s = arena_strndup(mem, (const char *)r->p, (size_t)n);
    r->p += n;
    return s;
}

static size_t get_count(reader *r, size_t max)
{
    uint64_t n = get_varint(r);

    if (n > max)
        r->bad = 1;
    return r->bad ? 0 : (size_t)n;
}

int outcome_decode(outcome *o, const void *buf, size_t len)
{
    reader r = {buf, (const unsigned char *)buf + len, 0};

    outcome_clear(o);
    if (get_varint(&r) != 1 || r.bad)
        return -1;
    o->received = (time_t)get_varint(&r);
    o->source = (int)get_count(&r, 255);
    o->domain = get_str(&r, &o->mem);
    o->record = get_str(&r, &o->mem);
    o->npolicies = get_count(&r, OUTCOME_MAX_POLICIES);
    if (r.bad || o->domain == NULL)
        return -1;
    o->policies = arena_alloc(&o->mem, (o->npolicies + 1) * sizeof(*o->policies));
    for (size_t i = 0; i < o->npolicies && !r.bad; i++) {
        outcome_policy *p = &o->policies[i];
        memset(p, 0, sizeof(*p));
        p->type = (int)get_count(&r, 255);
        p->domain = get_str(&r, &o->mem);
        p->nstrings = get_count(&r, OUTCOME_MAX_STRINGS);
        p->strings = arena_alloc(&o->mem, (p->nstrings + 1) * sizeof(char *));
        for (size_t j = 0; j < p->nstrings; j++)
            p->strings[j] = get_str(&r, &o->mem);
        p->nmx_hosts = get_count(&r, OUTCOME_MAX_STRINGS);
        p->mx_hosts = arena_alloc(&o->mem, (p->nmx_hosts + 1) * sizeof(char *));
        for (size_t j = 0; j < p->nmx_hosts; j++)
            p->mx_hosts[j] = get_str(&r, &o->mem);
        p->failed = (int)get_count(&r, 1);
        p->nfailures = get_count(&r, OUTCOME_MAX_FAILURES);
        p->failures = arena_alloc(&o->mem, (p->nfailures + 1) * sizeof(*p->failures));
        for (size_t j = 0; j < p->nfailures; j++) {
            outcome_failure *f = &p->failures[j];
            f->result = (int)get_count(&r, 999);
            f->sending_ip = get_str(&r, &o->mem);
            f->mx_hostname = get_str(&r, &o->mem);
            f->mx_helo = get_str(&r, &o->mem);
            f->receiving_ip = get_str(&r, &o->mem);
            f->additional_info = get_str(&r, &o->mem);
            f->reason_code = get_str(&r, &o->mem);
        }
        if (outcome_policy_name(p->type) == NULL)
            r.bad = 1;
        for (size_t j = 0; j < p->nstrings; j++)
            if (p->strings[j] == NULL)
                r.bad = 1;
        for (size_t j = 0; j < p->nmx_hosts; j++)
            if (p->mx_hosts[j] == NULL)
                r.bad = 1;
    }
    if (r.bad || r.p != r.end)
        return -1;
    return 0;
}
