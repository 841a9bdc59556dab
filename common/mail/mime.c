#include "mime.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

typedef struct mime_walker {
    int (*fn)(const mime_part *p, void *ctx);
    void *ctx;
    size_t parts;
    const char *why;
} mime_walker;

size_t mime_split(const char *msg, size_t len, size_t max, const char **body)
{
    size_t i = 0;

    while (i < len) {
        if (msg[i] == '\n') {
            *body = msg + i + 1;
            return i;
        }
        if (msg[i] == '\r' && i + 1 < len && msg[i + 1] == '\n') {
            *body = msg + i + 2;
            return i;
        }
        const char *nl = memchr(msg + i, '\n', len - i);
        i = nl ? (size_t)(nl - msg) + 1 : len;
        if (i > max)
            return (size_t)-1;
    }
    /* Headers only: a part may legitimately have an empty body. */
    *body = msg + len;
    return len;
}

/* Appends at most what MIME_MAX_VALUE still allows; header values are only looked at. */
static void mime_put(vstring *out, const char *s, size_t n)
{
    if (out->len >= MIME_MAX_VALUE)
        return;
    if (n > MIME_MAX_VALUE - out->len)
        n = MIME_MAX_VALUE - out->len;
    vstring_append(out, s, n);
}

int mime_header(const char *h, size_t len, const char *name, vstring *out)
{
    size_t nlen = strlen(name);
    size_t i = 0;

    vstring_reset(out);
    while (i < len) {
        const char *line = h + i;
        const char *nl = memchr(line, '\n', len - i);
        size_t llen = nl ? (size_t)(nl - line) : len - i;
        i += llen + (nl != NULL);
        if (llen <= nlen || strncasecmp(line, name, nlen) != 0)
            continue;
        size_t j = nlen;
        while (j < llen && (line[j] == ' ' || line[j] == '\t'))
            j++;
        if (j >= llen || line[j] != ':')
            continue;
        j++;
        mime_put(out, line + j, llen - j);
        /* Folded continuation lines start with white space; unfolding drops the line break. */
        while (i < len && (h[i] == ' ' || h[i] == '\t')) {
            const char *c = h + i;
            const char *cnl = memchr(c, '\n', len - i);
            size_t clen = cnl ? (size_t)(cnl - c) : len - i;
            i += clen + (cnl != NULL);
            mime_put(out, c, clen);
        }
        /* Trim, and drop the CRs that CRLF line ends leave behind. */
        size_t w = 0;
        for (size_t r = 0; r < out->len; r++)
            if (out->data[r] != '\r' && out->data[r] != '\n')
                out->data[w++] = out->data[r];
        while (w > 0 && isspace((unsigned char)out->data[w - 1]))
            w--;
        size_t s = 0;
        while (s < w && isspace((unsigned char)out->data[s]))
            s++;
        memmove(out->data, out->data + s, w - s);
        out->len = w - s;
        out->data[out->len] = 0;
        return 1;
    }
    return 0;
}

static const char *mime_skip_ws(const char *p)
{
    for (;;) {
        while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
            p++;
        if (*p != '(')
            return p;
        /* RFC 822 comment, possibly nested. */
        int level = 0;
        do {
            if (*p == '\\' && p[1])
                p++;
            else if (*p == '(')
                level++;
            else if (*p == ')')
                level--;
            p++;
        } while (*p && level > 0);
    }
}

int mime_param(const char *value, const char *name, vstring *out)
{
    size_t nlen = strlen(name);
    const char *p = value;

    vstring_reset(out);
    /* The type (or disposition) comes first; parameters follow each ';'. */
    while (*p && *p != ';')
        p++;
    while (*p == ';') {
        p = mime_skip_ws(p + 1);
        const char *attr = p;
        while (*p && *p != '=' && *p != ';' && *p != ' ' && *p != '\t')
            p++;
        size_t alen = (size_t)(p - attr);
        p = mime_skip_ws(p);
        if (*p != '=') {
            while (*p && *p != ';')
                p++;
            continue;
        }
        p = mime_skip_ws(p + 1);
        /* RFC 2231 `name*=charset''value`: the extended form names the same parameter. */
        int extended = alen == nlen + 1 && attr[nlen] == '*';
        int match = (alen == nlen || extended) && strncasecmp(attr, name, nlen) == 0;
        vstring *dst = match ? out : NULL;
        if (*p == '"') {
            for (p++; *p && *p != '"'; p++) {
                if (*p == '\\' && p[1])
                    p++;
                if (dst)
                    mime_put(dst, p, 1);
            }
            if (*p == '"')
                p++;
        } else {
            const char *v = p;
            while (*p && *p != ';' && *p != ' ' && *p != '\t' && *p != '\r' && *p != '\n')
                p++;
            if (dst)
                mime_put(dst, v, (size_t)(p - v));
        }
        if (match) {
            if (extended) {
                char *q = strchr(out->data, '\'');
                char *q2 = q ? strchr(q + 1, '\'') : NULL;
                if (q2) {
                    size_t skip = (size_t)(q2 + 1 - out->data);
                    memmove(out->data, q2 + 1, out->len - skip + 1);
                    out->len -= skip;
                }
            }
            return 1;
        }
        while (*p && *p != ';')
            p++;
    }
    return 0;
}

static const signed char mime_b64[256] = {
    ['A'] = 1,  ['B'] = 2,  ['C'] = 3,  ['D'] = 4,  ['E'] = 5,  ['F'] = 6,  ['G'] = 7,  ['H'] = 8,
    ['I'] = 9,  ['J'] = 10, ['K'] = 11, ['L'] = 12, ['M'] = 13, ['N'] = 14, ['O'] = 15, ['P'] = 16,
    ['Q'] = 17, ['R'] = 18, ['S'] = 19, ['T'] = 20, ['U'] = 21, ['V'] = 22, ['W'] = 23, ['X'] = 24,
    ['Y'] = 25, ['Z'] = 26, ['a'] = 27, ['b'] = 28, ['c'] = 29, ['d'] = 30, ['e'] = 31, ['f'] = 32,
    ['g'] = 33, ['h'] = 34, ['i'] = 35, ['j'] = 36, ['k'] = 37, ['l'] = 38, ['m'] = 39, ['n'] = 40,
    ['o'] = 41, ['p'] = 42, ['q'] = 43, ['r'] = 44, ['s'] = 45, ['t'] = 46, ['u'] = 47, ['v'] = 48,
    ['w'] = 49, ['x'] = 50, ['y'] = 51, ['z'] = 52, ['0'] = 53, ['1'] = 54, ['2'] = 55, ['3'] = 56,
    ['4'] = 57, ['5'] = 58, ['6'] = 59, ['7'] = 60, ['8'] = 61, ['9'] = 62, ['+'] = 63, ['/'] = 64,
};

static int mime_flush(vstring *out, unsigned char *buf, size_t *n)
{
    int r = vstring_append(out, buf, *n);
    *n = 0;
    return r;
}

static int mime_base64(const unsigned char *s, size_t len, vstring *out)
{
    unsigned char buf[3072];
    size_t n = 0;
    unsigned acc = 0, bits = 0;

    for (size_t i = 0; i < len; i++) {
        if (s[i] == '=')
            break;
        int v = mime_b64[s[i]];
        if (v == 0)
            continue; /* line breaks and any other noise */
        acc = (acc << 6) | (unsigned)(v - 1);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            buf[n++] = (unsigned char)(acc >> bits);
            acc &= (1u << bits) - 1;
            if (n == sizeof(buf) && mime_flush(out, buf, &n) < 0)
                return -1;
        }
    }
    return mime_flush(out, buf, &n);
}

static int mime_hex(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = tolower(c);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

static int mime_qp(const unsigned char *s, size_t len, vstring *out)
{
    unsigned char buf[4096];
    size_t n = 0;

    for (size_t i = 0; i < len; i++) {
        if (s[i] == '=') {
            size_t j = i + 1;
            if (j + 1 < len && mime_hex(s[j]) >= 0 && mime_hex(s[j + 1]) >= 0) {
                buf[n++] = (unsigned char)(mime_hex(s[j]) * 16 + mime_hex(s[j + 1]));
                i = j + 1;
            } else {
                while (j < len && (s[j] == ' ' || s[j] == '\t'))
                    j++;
                if (j < len && s[j] == '\r')
                    j++;
                if (j < len && s[j] == '\n')
                    i = j; /* soft line break */
                else if (j >= len)
                    i = len;
                else
                    buf[n++] = '=';
            }
        } else {
            buf[n++] = s[i];
        }
        if (n == sizeof(buf) && mime_flush(out, buf, &n) < 0)
            return -1;
    }
    return mime_flush(out, buf, &n);
}

int mime_decode(const mime_part *p, vstring *out)
{
    const unsigned char *s = (const unsigned char *)p->body;

    if (strcmp(p->encoding, "base64") == 0)
        return mime_base64(s, p->body_len, out);
    if (strcmp(p->encoding, "quoted-printable") == 0)
        return mime_qp(s, p->body_len, out);
    return vstring_append(out, s, p->body_len);
}

/* Finds the next "--boundary" at a line start in [p, end); body is where lines may start. */
static const char *mime_delimiter(const char *body, const char *p, const char *end, const char *bnd,
                                  size_t blen)
{
    while (p < end && (size_t)(end - p) >= blen + 2) {
        const char *d = memmem(p, (size_t)(end - p), bnd, blen);
        if (d == NULL)
            return NULL;
        if ((size_t)(d - body) < 2) {
            p = d + 1;
            continue;
        }
        const char *after = d + blen;
        int at_line = (size_t)(d - body) == 2 || d[-3] == '\n';
        int ends = after == end || *after == '-' || *after == ' ' || *after == '\t' ||
                   *after == '\r' || *after == '\n';
        if (d[-1] == '-' && d[-2] == '-' && at_line && ends)
            return d - 2;
        p = d + 1;
    }
    return NULL;
}

static int mime_walk_part(mime_walker *w, const char *msg, size_t len, int depth);

static int mime_walk_children(mime_walker *w, const char *body, size_t len, const char *bnd,
                              int depth)
{
    const char *end = body + len;
    const char *start = NULL;
    const char *p = body;
    size_t blen = strlen(bnd);
    const char *d;
    int r;

    while ((d = mime_delimiter(body, p, end, bnd, blen)) != NULL) {
        const char *after = d + 2 + blen;
        if (start) {
            /* The line break before a delimiter belongs to the delimiter. */
            const char *cend = d;
            if (cend > start && cend[-1] == '\n')
                cend--;
            if (cend > start && cend[-1] == '\r')
                cend--;
            if ((r = mime_walk_part(w, start, (size_t)(cend - start), depth + 1)) != 0)
                return r;
        }
        if (end - after >= 2 && after[0] == '-' && after[1] == '-')
            return 0;
        const char *nl = memchr(after, '\n', (size_t)(end - after));
        if (nl == NULL)
            return 0;
        start = p = nl + 1;
    }
    /* No closing delimiter (a truncated message): the last part runs to the end. */
    if (start)
        return mime_walk_part(w, start, (size_t)(end - start), depth + 1);
    return 0;
}

static int mime_walk_part(mime_walker *w, const char *msg, size_t len, int depth)
{
    mime_part part;
    vstring *ct, *bnd = NULL;
    const char *body;
    int r;

    if (depth > MIME_MAX_DEPTH) {
        w->why = "multiparts nested too deeply";
        return -1;
    }
    if (++w->parts > MIME_MAX_PARTS) {
        w->why = "too many MIME parts";
        return -1;
    }
    memset(&part, 0, sizeof(part));
    size_t hlen = mime_split(msg, len, MIME_MAX_HEADER, &body);
    if (hlen == (size_t)-1) {
        w->why = "header block too large";
        return -1;
    }
    part.depth = depth;
    part.headers = msg;
    part.headers_len = hlen;
    part.body = body;
    part.body_len = (size_t)(msg + len - body);
    ct = vstring_alloc(0);
    mime_header(msg, hlen, "Content-Type", ct);
    part.content_type = ct->data;
    size_t i = 0;
    const char *v = ct->data;
    while (v[i] && v[i] != ';' && v[i] != ' ' && v[i] != '\t' && v[i] != '(' &&
           i + 1 < sizeof(part.type)) {
        part.type[i] = (char)tolower((unsigned char)v[i]);
        i++;
    }
    if (strchr(part.type, '/') == NULL)
        memcpy(part.type, "text/plain", sizeof("text/plain"));
    vstring *enc = vstring_alloc(0);
    if (mime_header(msg, hlen, "Content-Transfer-Encoding", enc))
        for (i = 0; i < enc->len && i + 1 < sizeof(part.encoding); i++)
            part.encoding[i] = (char)tolower((unsigned char)enc->data[i]);
    vstring_free(enc);

    r = w->fn(&part, w->ctx);
    if (r == 0 && strncmp(part.type, "multipart/", 10) == 0) {
        bnd = vstring_alloc(0);
        /* Without a usable boundary a multipart is just opaque bytes. */
        if (mime_param(ct->data, "boundary", bnd) && bnd->len > 0 && bnd->len <= 200)
            r = mime_walk_children(w, part.body, part.body_len, bnd->data, depth);
        vstring_free(bnd);
    }
    vstring_free(ct);
    return r;
}

int mime_walk(const char *msg, size_t len, int (*fn)(const mime_part *p, void *ctx), void *ctx,
              const char **why)
{
    mime_walker w = {fn, ctx, 0, NULL};
    int r = mime_walk_part(&w, msg, len, 0);

    if (why)
        *why = w.why;
    return r;
}
