#include "jsontok.h"

#include <string.h>

typedef struct {
    const char *in;
    size_t len, pos;
    jsontok *toks;
    size_t max, n;
    int depth;
    int full; /* ran out of tokens */
} jt_state;

static void jt_ws(jt_state *s)
{
    while (s->pos < s->len) {
        char c = s->in[s->pos];
        if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
            return;
        s->pos++;
    }
}

static int jt_hex(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static int jt_value(jt_state *s, int level);

static int jt_new(jt_state *s, jsontok_type type)
{
    if (s->n >= s->max) {
        s->full = 1;
        return -1;
    }
    jsontok *t = &s->toks[s->n];
    memset(t, 0, sizeof(*t));
    t->type = type;
    t->start = (uint32_t)s->pos;
    return (int)s->n++;
}

static int jt_string(jt_state *s)
{
    int i = jt_new(s, JSONTOK_STRING);
    if (i < 0)
        return -1;
    s->pos++; /* opening quote */
    s->toks[i].start = (uint32_t)s->pos;
    while (s->pos < s->len) {
        unsigned char c = (unsigned char)s->in[s->pos];
        if (c == '"') {
            s->toks[i].end = (uint32_t)s->pos++;
            s->toks[i].next = (uint32_t)s->n;
            return 0;
        }
        if (c < 0x20)
            return -1; /* raw control bytes are not allowed in JSON strings */
        if (c == '\\') {
            s->toks[i].escaped = 1;
            if (++s->pos >= s->len)
                return -1;
            c = (unsigned char)s->in[s->pos];
            if (c == 'u') {
                if (s->pos + 4 >= s->len)
                    return -1;
                for (int k = 1; k <= 4; k++)
                    if (jt_hex(s->in[s->pos + (size_t)k]) < 0)
                        return -1;
                s->pos += 4;
            } else if (!strchr("\"\\/bfnrt", c) || c == 0) {
                return -1;
            }
        }
        s->pos++;
    }
    return -1;
}

static int jt_number(jt_state *s)
{
    int i = jt_new(s, JSONTOK_NUMBER);
    size_t p = s->pos;
    const char *in = s->in;

    if (i < 0)
        return -1;
    if (p < s->len && in[p] == '-')
        p++;
    if (p >= s->len)
        return -1;
    if (in[p] == '0')
        p++;
    else if (in[p] >= '1' && in[p] <= '9')
        while (p < s->len && in[p] >= '0' && in[p] <= '9')
            p++;
    else
        return -1;
    if (p < s->len && in[p] == '.') {
        p++;
        if (p >= s->len || in[p] < '0' || in[p] > '9')
            return -1;
        while (p < s->len && in[p] >= '0' && in[p] <= '9')
            p++;
    }
    if (p < s->len && (in[p] == 'e' || in[p] == 'E')) {
        p++;
        if (p < s->len && (in[p] == '+' || in[p] == '-'))
            p++;
        if (p >= s->len || in[p] < '0' || in[p] > '9')
            return -1;
        while (p < s->len && in[p] >= '0' && in[p] <= '9')
            p++;
    }
    s->toks[i].end = (uint32_t)p;
    s->toks[i].next = (uint32_t)s->n;
    s->pos = p;
    return 0;
}

static int jt_literal(jt_state *s, const char *word, jsontok_type type)
{
    size_t wl = strlen(word);
    int i;

    if (s->len - s->pos < wl || memcmp(s->in + s->pos, word, wl) != 0)
        return -1;
    if ((i = jt_new(s, type)) < 0)
        return -1;
    s->pos += wl;
    s->toks[i].end = (uint32_t)s->pos;
    s->toks[i].next = (uint32_t)s->n;
    return 0;
}

static int jt_container(jt_state *s, int level, int object)
{
    int i = jt_new(s, object ? JSONTOK_OBJECT : JSONTOK_ARRAY);
    char close = object ? '}' : ']';

    if (i < 0 || level >= s->depth)
        return -1;
    s->pos++;
    jt_ws(s);
    if (s->pos < s->len && s->in[s->pos] == close) {
        s->pos++;
        s->toks[i].end = (uint32_t)s->pos;
        s->toks[i].next = (uint32_t)s->n;
        return 0;
    }
    for (;;) {
        jt_ws(s);
        if (object) {
            if (s->pos >= s->len || s->in[s->pos] != '"' || jt_string(s) < 0)
                return -1;
            jt_ws(s);
            if (s->pos >= s->len || s->in[s->pos] != ':')
                return -1;
            s->pos++;
            jt_ws(s);
        }
        if (jt_value(s, level + 1) < 0)
            return -1;
        s->toks[i].size++;
        jt_ws(s);
        if (s->pos >= s->len)
            return -1;
        if (s->in[s->pos] == ',') {
            s->pos++;
            continue;
        }
        if (s->in[s->pos] != close)
            return -1;
        s->pos++;
        s->toks[i].end = (uint32_t)s->pos;
        s->toks[i].next = (uint32_t)s->n;
        return 0;
    }
}

static int jt_value(jt_state *s, int level)
{
    if (s->pos >= s->len)
        return -1;
    switch (s->in[s->pos]) {
    case '{':
        return jt_container(s, level, 1);
    case '[':
        return jt_container(s, level, 0);
    case '"':
        return jt_string(s);
    case 't':
        return jt_literal(s, "true", JSONTOK_TRUE);
    case 'f':
        return jt_literal(s, "false", JSONTOK_FALSE);
    case 'n':
        return jt_literal(s, "null", JSONTOK_NULL);
    default:
        return jt_number(s);
    }
}

int jsontok_parse_ex(const char *in, size_t len, jsontok *toks, size_t max, int depth,
                     size_t *errpos)
{
    jt_state s = {in, len, 0, toks, max, 0, depth, 0};

    if (len > UINT32_MAX)
        return -1;
    jt_ws(&s);
    if (jt_value(&s, 0) < 0) {
        if (errpos)
            *errpos = s.pos;
        return s.full ? -2 : -1;
    }
    jt_ws(&s);
    if (s.pos != len) {
        if (errpos)
            *errpos = s.pos;
        return -1;
    }
    return (int)s.n;
}

int jsontok_parse(const char *in, size_t len, jsontok *toks, size_t max, int depth)
{
    return jsontok_parse_ex(in, len, toks, max, depth, NULL);
}

int jsontok_member(const char *in, const jsontok *toks, int obj, const char *key)
{
    size_t klen = strlen(key);
    int found = -1;

    if (obj < 0 || toks[obj].type != JSONTOK_OBJECT)
        return -1;
    uint32_t k = (uint32_t)obj + 1;
    for (uint32_t m = 0; m < toks[obj].size; m++) {
        const jsontok *kt = &toks[k];
        uint32_t v = kt->next;
        /* Keys of this protocol never need unescaping; an escaped key never matches. */
        if (!kt->escaped && kt->end - kt->start == klen && memcmp(in + kt->start, key, klen) == 0)
            found = (int)v;
        k = toks[v].next;
    }
    return found;
}

int jsontok_element(const jsontok *toks, int arr, uint32_t i)
{
    if (arr < 0 || toks[arr].type != JSONTOK_ARRAY || i >= toks[arr].size)
        return -1;
    uint32_t e = (uint32_t)arr + 1;
    while (i--)
        e = toks[e].next;
    return (int)e;
}

static size_t jt_put_utf8(char *out, uint32_t cp)
{
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xc0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3f));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xe0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
        out[2] = (char)(0x80 | (cp & 0x3f));
        return 3;
    }
    out[0] = (char)(0xf0 | (cp >> 18));
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
    out[3] = (char)(0x80 | (cp & 0x3f));
    return 4;
}

static uint32_t jt_u4(const char *p)
{
    return (uint32_t)(jt_hex(p[0]) << 12 | jt_hex(p[1]) << 8 | jt_hex(p[2]) << 4 | jt_hex(p[3]));
}

size_t jsontok_string(const char *in, const jsontok *t, char *out)
{
    const char *p = in + t->start, *end = in + t->end;
    size_t o = 0;

    if (!t->escaped) {
        memcpy(out, p, (size_t)(end - p));
        return (size_t)(end - p);
    }
    while (p < end) {
        if (*p != '\\') {
            out[o++] = *p++;
            continue;
        }
        p++;
        switch (*p) {
        case 'b':
            out[o++] = '\b';
            break;
        case 'f':
            out[o++] = '\f';
            break;
        case 'n':
            out[o++] = '\n';
            break;
        case 'r':
            out[o++] = '\r';
            break;
        case 't':
            out[o++] = '\t';
            break;
        case 'u': {
            uint32_t cp = jt_u4(p + 1);
            p += 4;
            if (cp >= 0xd800 && cp <= 0xdbff && end - p >= 7 && p[1] == '\\' && p[2] == 'u') {
                uint32_t lo = jt_u4(p + 3);
                if (lo >= 0xdc00 && lo <= 0xdfff) {
                    cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
                    p += 6;
                }
            }
            if (cp >= 0xd800 && cp <= 0xdfff)
                cp = 0xfffd;
            /* Escapes are at least as long as their UTF-8 (6 bytes for up to 3, 12 for 4). */
            o += jt_put_utf8(out + o, cp);
            break;
        }
        default:
            out[o++] = *p;
            break;
        }
        p++;
    }
    return o;
}

int jsontok_int(const char *in, const jsontok *t, int64_t *out)
{
    const char *p = in + t->start, *end = in + t->end;
    int neg = 0;
    int64_t v = 0;

    if (t->type != JSONTOK_NUMBER)
        return -1;
    if (p < end && *p == '-') {
        neg = 1;
        p++;
    }
    if (p == end)
        return -1;
    for (; p < end; p++) {
        if (*p < '0' || *p > '9')
            return -1; /* a fraction or an exponent: not an integer */
        if (v > (INT64_MAX - (*p - '0')) / 10)
            return -1;
        v = v * 10 + (*p - '0');
    }
    *out = neg ? -v : v;
    return 0;
}
