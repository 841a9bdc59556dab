#include "tlsrpt_record.h"

#include <stdio.h>
#include <string.h>

#include "domain.h"
#include "mailaddr.h"
#include "mymalloc.h"
#include "vstring.h"

#define TLSRPT_VERSION      "v=TLSRPTv1"
#define TLSRPT_EXT_NAME_MAX 32
#define TLSRPT_NOTE_URI_MAX 120 /* bytes of a URI quoted in a note */

typedef struct {
    const unsigned char *s;
    size_t len;
    size_t pos;
} tlsrpt_scan;

static int tlsrpt_wsp(int c)
{
    return c == ' ' || c == '\t';
}

static void tlsrpt_skip_wsp(tlsrpt_scan *sc)
{
    while (sc->pos < sc->len && tlsrpt_wsp(sc->s[sc->pos]))
        sc->pos++;
}

static int tlsrpt_alnum(int c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

static int tlsrpt_hex(int c)
{
    return (c >= '0' && c <= '9')   ? c - '0'
           : (c >= 'a' && c <= 'f') ? c - 'a' + 10
           : (c >= 'A' && c <= 'F') ? c - 'A' + 10
                                    : -1;
}

/* The characters RFC 3986 allows in a URI, '%' included (its escapes are checked apart). */
static int tlsrpt_uri_char(int c)
{
    return tlsrpt_alnum(c) || (c != 0 && strchr("-._~:/?#[]@!$&'()*+,;=%", c) != NULL);
}

static void tlsrpt_note(tlsrpt_record *rec, const unsigned char *uri, size_t len,
                        const char *reason)
{
    if (rec->nnotes >= TLSRPT_MAX_URIS)
        return;
    vstring *v = vstring_alloc(0);
    vstring_append_char(v, '"');
    for (size_t i = 0; i < len && i < TLSRPT_NOTE_URI_MAX; i++) {
        if (uri[i] >= 0x21 && uri[i] < 0x7f && uri[i] != '"' && uri[i] != '\\')
            vstring_append_char(v, uri[i]);
        else
            vstring_sprintf_append(v, "\\x%02x", uri[i]);
    }
    vstring_append_str(v, len > TLSRPT_NOTE_URI_MAX ? "...\": " : "\": ");
    vstring_append_str(v, reason);
    rec->notes[rec->nnotes++] = mystrndup(vstring_str(v), vstring_len(v));
    vstring_free(v);
}

/* Decodes %XX escapes of len bytes into out; returns -1 on a malformed escape or a NUL. */
static int tlsrpt_unescape(const unsigned char *s, size_t len, vstring *out)
{
    for (size_t i = 0; i < len; i++) {
        int c = s[i];
        if (c == '%') {
            if (i + 2 >= len)
                return -1;
            int hi = tlsrpt_hex(s[i + 1]), lo = tlsrpt_hex(s[i + 2]);
            if (hi < 0 || lo < 0)
                return -1;
            c = hi << 4 | lo;
            i += 2;
        }
        if (c == 0)
            return -1;
        vstring_append_char(out, c);
    }
    return 0;
}

static int tlsrpt_prefix(const unsigned char *s, size_t len, const char *prefix)
{
    size_t n = strlen(prefix);

    if (len < n)
        return 0;
    for (size_t i = 0; i < n; i++) {
        int c = s[i];
        if (c >= 'A' && c <= 'Z')
            c += 'a' - 'A';
        if (c != prefix[i])
            return 0;
    }
    return 1;
}

/* mailto:addr-spec[?hfields]: one address; hfields (subject=...) are ignored. */
static const char *tlsrpt_mailto(const unsigned char *s, size_t len, tlsrpt_uri *u)
{
    const unsigned char *q = memchr(s, '?', len);
    size_t alen = q ? (size_t)(q - s) : len;
    vstring *addr = vstring_alloc(TLSRPT_RECORD_MAX);
    const char *bad = NULL;

    if (tlsrpt_unescape(s, alen, addr) < 0)
        bad = "malformed percent-encoding";
    else if (vstring_len(addr) == 0)
        bad = "no address";
    else if (!mailaddr_valid(vstring_str(addr), vstring_len(addr)))
        bad = "not a usable e-mail address (one RFC 5322 addr-spec with an ASCII domain)";
    if (bad == NULL) {
        const char *at = strrchr(vstring_str(addr), '@');
        char dom[DOMAIN_MAX + 2];
        if (domain_normalize(at + 1, strlen(at + 1), dom, sizeof(dom)) < 0) {
            bad = "the address's domain is not a host name";
        } else {
            u->target = mystrndup(vstring_str(addr), vstring_len(addr));
            u->host = mystrdup(dom);
        }
    }
    vstring_free(addr);
    return bad;
}

/* https://host[:port][/path...]: the host must be a name or an IP literal. */
static const char *tlsrpt_https(const unsigned char *s, size_t len, tlsrpt_uri *u)
{
    if (len < 2 || s[0] != '/' || s[1] != '/')
        return "no host in the URI";
    size_t start = 2, end = start;
    while (end < len && s[end] != '/' && s[end] != '?' && s[end] != '#')
        end++;
    const unsigned char *at = NULL;
    for (size_t i = start; i < end; i++)
        if (s[i] == '@')
            at = s + i;
    if (at)
        return "credentials in the URI";
    size_t hs = start, he = end;
    if (hs < he && s[hs] == '[') {
        const unsigned char *rb = memchr(s + hs, ']', he - hs);
        if (rb == NULL)
            return "unterminated IP literal";
        he = (size_t)(rb - s) + 1;
    } else {
        const unsigned char *colon = memchr(s + hs, ':', he - hs);
        if (colon)
            he = (size_t)(colon - s);
    }
    if (he < end) {
        if (s[he] != ':' || he + 1 == end)
            return "bad port";
        for (size_t i = he + 1; i < end; i++)
            if (s[i] < '0' || s[i] > '9' || end - he - 1 > 5)
                return "bad port";
    }
    if (he == hs)
        return "no host in the URI";
    char host[DOMAIN_MAX + 2];
    if (s[hs] == '[') {
        if (he - hs > sizeof(host) - 1)
            return "bad IP literal";
        for (size_t i = hs + 1; i + 1 < he; i++)
            if (tlsrpt_hex(s[i]) < 0 && s[i] != ':' && s[i] != '.')
                return "bad IP literal";
        memcpy(host, s + hs, he - hs);
        host[he - hs] = 0;
    } else {
        vstring *h = vstring_alloc(DOMAIN_MAX + 1);
        int bad = tlsrpt_unescape(s + hs, he - hs, h) < 0 || h->overflow ||
                  domain_normalize(vstring_str(h), vstring_len(h), host, sizeof(host)) < 0;
        vstring_free(h);
        if (bad)
            return "the host is not a host name";
    }
    u->host = mystrdup(host);
    return NULL;
}

/* One tlsrpt-uri of len bytes (the delimiters already split off). */
static void tlsrpt_add_uri(tlsrpt_record *rec, const unsigned char *s, size_t len)
{
    tlsrpt_uri u;
    const char *bad = NULL;
    size_t colon = 0;

    memset(&u, 0, sizeof(u));
    for (size_t i = 0; i < len && bad == NULL; i++) {
        if (!tlsrpt_uri_char(s[i]))
            bad = "character not allowed in a URI";
        else if (s[i] == '!')
            bad = "'!' must be percent-encoded";
        else if (s[i] == '%' &&
                 (i + 2 >= len || tlsrpt_hex(s[i + 1]) < 0 || tlsrpt_hex(s[i + 2]) < 0))
            bad = "malformed percent-encoding";
    }
    if (bad == NULL) {
        while (colon < len && s[colon] != ':')
            colon++;
        int ok = colon > 0 && colon < len && ((s[0] | 0x20) >= 'a' && (s[0] | 0x20) <= 'z');
        for (size_t i = 1; ok && i < colon; i++)
            ok = tlsrpt_alnum(s[i]) || s[i] == '+' || s[i] == '-' || s[i] == '.';
        if (!ok)
            bad = "not a URI (no scheme)";
    }
    if (bad == NULL) {
        if (tlsrpt_prefix(s, len, "mailto:")) {
            u.kind = TLSRPT_URI_MAILTO;
            bad = tlsrpt_mailto(s + 7, len - 7, &u);
        } else if (tlsrpt_prefix(s, len, "https:")) {
            u.kind = TLSRPT_URI_HTTPS;
            bad = tlsrpt_https(s + 6, len - 6, &u);
            if (bad == NULL)
                u.target = mystrndup((const char *)s, len);
        } else {
            bad = "unsupported scheme (only mailto: and https:), ignored";
        }
    }
    if (bad == NULL) {
        u.uri = mystrndup((const char *)s, len);
        for (size_t i = 0; i < rec->n; i++)
            if (strcmp(rec->uris[i].uri, u.uri) == 0)
                bad = "listed twice, used once";
        if (bad == NULL && rec->n == TLSRPT_MAX_URIS)
            bad = "more than 32 URIs, ignored";
    }
    if (bad) {
        tlsrpt_note(rec, s, len, bad);
        myfree(u.uri);
        myfree(u.target);
        myfree(u.host);
        return;
    }
    rec->uris[rec->n++] = u;
}

/* rua= tlsrpt-uri *(*WSP "," *WSP tlsrpt-uri); returns NULL or why the record is bad. */
static const char *tlsrpt_rua(tlsrpt_scan *sc, tlsrpt_record *rec)
{
    for (;;) {
        size_t start = sc->pos;
        while (sc->pos < sc->len && !tlsrpt_wsp(sc->s[sc->pos]) && sc->s[sc->pos] != ',' &&
               sc->s[sc->pos] != ';')
            sc->pos++;
        if (sc->pos == start)
            return "empty URI in rua=";
        tlsrpt_add_uri(rec, sc->s + start, sc->pos - start);
        size_t after = sc->pos;
        tlsrpt_skip_wsp(sc);
        if (sc->pos < sc->len && sc->s[sc->pos] == ',') {
            sc->pos++;
            tlsrpt_skip_wsp(sc);
            continue;
        }
        if (sc->pos < sc->len && sc->s[sc->pos] != ';')
            return "text after a URI (URIs are separated by \",\")";
        sc->pos = after; /* the field delimiter takes the white space */
        return NULL;
    }
}

/* ext-name "=" ext-value */
static const char *tlsrpt_ext(tlsrpt_scan *sc)
{
    size_t start = sc->pos;

    if (sc->pos >= sc->len || !tlsrpt_alnum(sc->s[sc->pos]))
        return "a field does not start with a name";
    while (sc->pos < sc->len && (tlsrpt_alnum(sc->s[sc->pos]) || sc->s[sc->pos] == '_' ||
                                 sc->s[sc->pos] == '-' || sc->s[sc->pos] == '.'))
        sc->pos++;
    if (sc->pos - start > TLSRPT_EXT_NAME_MAX)
        return "a field name is longer than 32 characters";
    if (sc->pos >= sc->len || sc->s[sc->pos] != '=')
        return "a field has no \"=\"";
    sc->pos++;
    start = sc->pos;
    while (sc->pos < sc->len && sc->s[sc->pos] >= 0x21 && sc->s[sc->pos] <= 0x7e &&
           sc->s[sc->pos] != ';' && sc->s[sc->pos] != '=')
        sc->pos++;
    if (sc->pos == start)
        return "a field has an empty value";
    return NULL;
}

int tlsrpt_record_parse(const char *txt, size_t len, tlsrpt_record *rec, char *why, size_t whylen)
{
    tlsrpt_scan sc = {(const unsigned char *)txt, len, 0};
    const char *bad = NULL;
    int rua = 0;

    memset(rec, 0, sizeof(*rec));
    if (len > TLSRPT_RECORD_MAX) {
        bad = "record longer than 4096 bytes";
        goto out;
    }
    if (len < sizeof(TLSRPT_VERSION) - 1 ||
        memcmp(txt, TLSRPT_VERSION, sizeof(TLSRPT_VERSION) - 1) != 0) {
        bad = "does not begin with v=TLSRPTv1";
        goto out;
    }
    sc.pos = sizeof(TLSRPT_VERSION) - 1;
    while (bad == NULL) {
        tlsrpt_skip_wsp(&sc);
        if (sc.pos == sc.len)
            break;
        if (sc.s[sc.pos] != ';') {
            bad = "fields must be separated by \";\"";
            break;
        }
        sc.pos++;
        tlsrpt_skip_wsp(&sc);
        if (sc.pos == sc.len)
            break; /* a trailing delimiter is allowed */
        if (tlsrpt_prefix(sc.s + sc.pos, sc.len - sc.pos, "rua=")) {
            sc.pos += 4;
            rua++;
            bad = tlsrpt_rua(&sc, rec);
        } else {
            bad = tlsrpt_ext(&sc);
        }
    }
    if (bad == NULL && rua == 0)
        bad = "no rua= field";
out:
    if (bad) {
        tlsrpt_record_free(rec); /* a record that does not parse yields nothing */
        snprintf(why, whylen, "%s", bad);
        return -1;
    }
    return 0;
}

void tlsrpt_record_free(tlsrpt_record *rec)
{
    for (size_t i = 0; i < rec->n; i++) {
        myfree(rec->uris[i].uri);
        myfree(rec->uris[i].target);
        myfree(rec->uris[i].host);
    }
    for (size_t i = 0; i < rec->nnotes; i++)
        myfree(rec->notes[i]);
    rec->n = rec->nnotes = 0;
}
