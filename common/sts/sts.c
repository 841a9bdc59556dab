/*
 * MTA-STS record and policy parsing, strictly per RFC 8461 sections 3.1 and 3.2, except
 * that empty lines in a policy are tolerated (seen in the wild, harmless).
 */
#include "sts.h"

#include <string.h>
#include <strings.h>

#include "domain.h"
#include "mymalloc.h"
#include "utf8.h"

#define STS_FIELD_NAME_MAX 32

const char *sts_mode_name(sts_mode m)
{
    return m == STS_MODE_ENFORCE ? "enforce" : m == STS_MODE_TESTING ? "testing" : "none";
}

static int sts_is_wsp(int c)
{
    return c == ' ' || c == '\t';
}

static int sts_is_alnum(int c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* sts-ext-value = 1*(%x21-3A / %x3C / %x3E-7E) */
static int sts_is_ext_value_char(int c)
{
    return (c >= 0x21 && c <= 0x3a) || c == 0x3c || (c >= 0x3e && c <= 0x7e);
}

int sts_txt_parse(const char *txt, size_t len, char *id, size_t idsize)
{
    static const char v[] = "v=STSv1";
    size_t i = sizeof(v) - 1;
    int have_id = 0;

    if (len < i || memcmp(txt, v, i) != 0 || (len > i && txt[i] != ';' && !sts_is_wsp(txt[i])))
        return 0;
    /* 1*(*WSP ";" *WSP sts-field) [";"] (a trailing *WSP is tolerated) */
    for (;;) {
        while (i < len && sts_is_wsp(txt[i]))
            i++;
        if (i == len)
            break;
        if (txt[i] != ';')
            return -1;
        i++;
        while (i < len && sts_is_wsp(txt[i]))
            i++;
        if (i == len)
            break; /* trailing ";" */
        size_t name = i;
        if (!sts_is_alnum(txt[i]))
            return -1;
        while (i < len && i - name < 32 &&
               (sts_is_alnum(txt[i]) || txt[i] == '_' || txt[i] == '-' || txt[i] == '.'))
            i++;
        if (i == len || txt[i] != '=')
            return -1;
        size_t nlen = i - name, value = ++i;
        while (i < len && sts_is_ext_value_char(txt[i]))
            i++;
        size_t vlen = i - value;
        if (vlen == 0)
            return -1;
        if (nlen == 2 && memcmp(txt + name, "id", 2) == 0) {
            if (have_id)
                continue; /* first wins */
            if (vlen > STS_ID_MAX || vlen >= idsize)
                return -1;
            for (size_t k = 0; k < vlen; k++)
                if (!sts_is_alnum(txt[value + k]))
                    return -1;
            memcpy(id, txt + value, vlen);
            id[vlen] = 0;
            have_id = 1;
        }
    }
    return have_id ? 1 : -1;
}

int sts_txt_select(char *const *rr, const size_t *rrlen, size_t n, char *id, size_t idsize,
                   const char **why)
{
    static const char v[] = "v=STSv1";
    size_t found = 0, which = 0;

    *why = "";
    for (size_t i = 0; i < n; i++) {
        /* The discard rule keeps only records that begin with "v=STSv1". */
        if (rrlen[i] >= sizeof(v) - 1 && memcmp(rr[i], v, sizeof(v) - 1) == 0) {
            found++;
            which = i;
        }
    }
    if (found == 0)
        return 0;
    if (found > 1) {
        *why = "txt-multiple-records";
        return -1;
    }
    if (sts_txt_parse(rr[which], rrlen[which], id, idsize) != 1) {
        *why = "txt-invalid";
        return -1;
    }
    return 1;
}

void sts_policy_free(sts_policy *p)
{
    for (size_t i = 0; i < p->nmx; i++)
        myfree(p->mx[i]);
    for (size_t i = 0; i < p->nlines; i++)
        myfree(p->lines[i]);
    myfree(p->mx);
    myfree(p->lines);
    memset(p, 0, sizeof(*p));
}

void sts_policy_copy(sts_policy *dst, const sts_policy *src)
{
    dst->mode = src->mode;
    dst->max_age = src->max_age;
    dst->nmx = src->nmx;
    dst->nlines = src->nlines;
    dst->mx = mycalloc(src->nmx + 1, sizeof(char *));
    dst->lines = mycalloc(src->nlines + 1, sizeof(char *));
    for (size_t i = 0; i < src->nmx; i++)
        dst->mx[i] = mystrdup(src->mx[i]);
    for (size_t i = 0; i < src->nlines; i++)
        dst->lines[i] = mystrdup(src->lines[i]);
}

/* Normalizes an mx pattern (host or "*.host") into out; 0, or -1 when invalid. */
static int sts_mx_normalize(const char *v, size_t len, char *out, size_t size)
{
    size_t skip = 0;

    if (len >= 2 && v[0] == '*' && v[1] == '.')
        skip = 2;
    if (size < 3 || domain_normalize(v + skip, len - skip, out + skip, size - skip) < 0)
        return -1;
    if (skip)
        memcpy(out, "*.", 2);
    /* A pattern needs at least two labels after any wildcard ("*.com" is nonsense). */
    if (skip && !strchr(out + 2, '.'))
        return -1;
    return 0;
}

static int sts_value_is(const char *v, size_t len, const char *want)
{
    return strlen(want) == len && memcmp(v, want, len) == 0;
}

int sts_policy_parse(const char *text, size_t len, sts_policy *out, const char **why)
{
    int have_version = 0, have_mode = 0, have_max_age = 0;
    const char *p = text, *end = text + len;

    memset(out, 0, sizeof(*out));
    out->mx = mycalloc(STS_MX_MAX + 1, sizeof(char *));
    out->lines = mycalloc(STS_LINES_MAX + 1, sizeof(char *));
    *why = "";
    if (len > STS_POLICY_MAX) {
        *why = "policy-too-large";
        goto bad;
    }
    if (!utf8_valid(text, len)) {
        *why = "policy-not-utf8";
        goto bad;
    }
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl ? nl : end;
        const char *next = nl ? nl + 1 : end;
        if (le > p && le[-1] == '\r')
            le--;
        size_t llen = (size_t)(le - p);
        if (llen == 0) {
            p = next;
            continue;
        }
        if (memchr(p, '\r', llen) || memchr(p, 0, llen)) {
            *why = "line-malformed";
            goto bad;
        }
        /* field-name ":" *WSP field-value *WSP */
        const char *c = p;
        while (c < le && (sts_is_alnum(*c) || *c == '_' || *c == '-' || *c == '.'))
            c++;
        size_t nlen = (size_t)(c - p);
        if (nlen == 0 || nlen > STS_FIELD_NAME_MAX || c == le || *c != ':') {
            *why = "line-malformed";
            goto bad;
        }
        const char *v = c + 1, *ve = le;
        while (v < ve && sts_is_wsp(*v))
            v++;
        while (ve > v && sts_is_wsp(ve[-1]))
            ve--;
        size_t vlen = (size_t)(ve - v);
        if (vlen == 0) {
            *why = "line-malformed";
            goto bad;
        }
        for (size_t k = 0; k < vlen; k++) {
            unsigned char ch = (unsigned char)v[k];
            if (ch < 0x20 ? ch != '\t' : ch == 0x7f) {
                *why = "line-malformed";
                goto bad;
            }
        }
        if (nlen == 7 && memcmp(p, "version", 7) == 0) {
            if (!have_version) {
                if (!sts_value_is(v, vlen, "STSv1")) {
                    *why = "version-invalid";
                    goto bad;
                }
                have_version = 1;
            }
        } else if (nlen == 4 && memcmp(p, "mode", 4) == 0) {
            if (!have_mode) {
                if (sts_value_is(v, vlen, "enforce"))
                    out->mode = STS_MODE_ENFORCE;
                else if (sts_value_is(v, vlen, "testing"))
                    out->mode = STS_MODE_TESTING;
                else if (sts_value_is(v, vlen, "none"))
                    out->mode = STS_MODE_NONE;
                else {
                    *why = "mode-invalid";
                    goto bad;
                }
                have_mode = 1;
            }
        } else if (nlen == 7 && memcmp(p, "max_age", 7) == 0) {
            if (!have_max_age) {
                long age = 0;
                if (vlen > 10) {
                    *why = "max-age-invalid";
                    goto bad;
                }
                for (size_t k = 0; k < vlen; k++) {
                    if (v[k] < '0' || v[k] > '9') {
                        *why = "max-age-invalid";
                        goto bad;
                    }
                    age = age * 10 + (v[k] - '0');
                }
                out->max_age = age > STS_MAX_AGE_MAX ? STS_MAX_AGE_MAX : age;
                have_max_age = 1;
            }
        } else if (nlen == 2 && memcmp(p, "mx", 2) == 0) {
            char pat[DOMAIN_MAX + 3];
            if (sts_mx_normalize(v, vlen, pat, sizeof(pat)) < 0) {
                *why = "mx-invalid";
                goto bad;
            }
            if (out->nmx >= STS_MX_MAX) {
                *why = "mx-too-many";
                goto bad;
            }
            out->mx[out->nmx++] = mystrdup(pat);
        }
        /* Unknown fields are ignored, but kept in the lines reports show. */
        if (out->nlines >= STS_LINES_MAX) {
            *why = "policy-too-many-lines";
            goto bad;
        }
        out->lines[out->nlines++] = mystrndup(p, llen);
        p = next;
    }
    if (!have_version)
        *why = "version-missing";
    else if (!have_mode)
        *why = "mode-missing";
    else if (!have_max_age)
        *why = "max-age-missing";
    else if (out->mode != STS_MODE_NONE && out->nmx == 0)
        *why = "mx-missing";
    else
        return 0;
bad:
    sts_policy_free(out);
    return -1;
}

int sts_mx_match(const char *pattern, const char *host)
{
    size_t hlen = strlen(host);

    if (hlen > 0 && host[hlen - 1] == '.')
        hlen--;
    if (pattern[0] == '*' && pattern[1] == '.') {
        /* Exactly one label, non-empty, before ".suffix". */
        const char *dot = memchr(host, '.', hlen);
        if (!dot || dot == host)
            return 0;
        size_t rest = hlen - (size_t)(dot + 1 - host), plen = strlen(pattern + 2);
        return rest == plen && strncasecmp(dot + 1, pattern + 2, plen) == 0;
    }
    return strlen(pattern) == hlen && strncasecmp(pattern, host, hlen) == 0;
}

int sts_policy_mx_ok(const sts_policy *p, const char *host)
{
    for (size_t i = 0; i < p->nmx; i++)
        if (sts_mx_match(p->mx[i], host))
            return 1;
    return 0;
}
