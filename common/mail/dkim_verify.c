/* DKIM verification (RFC 6376 6, RFC 8463) of received reports. */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "dkim.h"
#include "dkim_int.h"
#include "domain.h"
#include "mymalloc.h"

#define DKIM_MAX_TAGS 32

/* ---- tag lists (RFC 6376 3.2) ---- */

typedef struct {
    const char *name, *val; /* val: trimmed of white space at both ends */
    size_t nlen, vlen;
    size_t raw_off, raw_end; /* the value with its white space, offsets into the list */
} dkim_tag;

/* Parses a tag list; returns the number of tags, or -1 when malformed or duplicated. */
static int dkim_tags(const char *s, size_t len, dkim_tag *t, size_t max)
{
    size_t n = 0, i = 0;

    while (i < len) {
        while (i < len && (dkim_wsp(s[i]) || s[i] == '\r' || s[i] == '\n'))
            i++;
        if (i == len)
            break; /* a trailing ";" is allowed */
        size_t ns = i;
        if (!isalpha((unsigned char)s[i]))
            return -1;
        while (i < len && (isalnum((unsigned char)s[i]) || s[i] == '_'))
            i++;
        size_t ne = i;
        while (i < len && (dkim_wsp(s[i]) || s[i] == '\r' || s[i] == '\n'))
            i++;
        if (i == len || s[i] != '=' || n == max)
            return -1;
        i++;
        size_t vs = i;
        while (i < len && s[i] != ';')
            i++;
        size_t ve = i, a = vs, b = ve;
        while (a < b && (dkim_wsp(s[a]) || s[a] == '\r' || s[a] == '\n'))
            a++;
        while (b > a && (dkim_wsp(s[b - 1]) || s[b - 1] == '\r' || s[b - 1] == '\n'))
            b--;
        for (size_t k = 0; k < n; k++)
            if (t[k].nlen == ne - ns && memcmp(t[k].name, s + ns, ne - ns) == 0)
                return -1;
        t[n] = (dkim_tag){s + ns, s + a, ne - ns, b - a, vs, ve};
        n++;
        if (i < len)
            i++; /* the ";" */
    }
    return (int)n;
}

static const dkim_tag *dkim_tag_get(const dkim_tag *t, int n, const char *name)
{
    for (int i = 0; i < n; i++)
        if (t[i].nlen == strlen(name) && memcmp(t[i].name, name, t[i].nlen) == 0)
            return &t[i];
    return NULL;
}

static int dkim_tag_is(const dkim_tag *t, const char *val)
{
    return t && t->vlen == strlen(val) && strncasecmp(t->val, val, t->vlen) == 0;
}

/* Does the colon/white-space separated list contain item (case-insensitively)? */
static int dkim_list_has(const char *s, size_t len, int sep, const char *item)
{
    size_t il = strlen(item), i = 0;

    while (i < len) {
        while (i < len && (s[i] == sep || isspace((unsigned char)s[i])))
            i++;
        size_t a = i;
        while (i < len && s[i] != sep && !isspace((unsigned char)s[i]))
            i++;
        if (i - a == il && strncasecmp(s + a, item, il) == 0)
            return 1;
    }
    return 0;
}

/* ---- verification ---- */

/* A copy of msg with every bare LF turned into CRLF. */
static vstring *dkim_crlf(const char *msg, size_t len)
{
    vstring *v = vstring_alloc(0);

    vstring_reserve(v, len + len / 32 + 2);
    for (size_t i = 0; i < len; i++) {
        if (msg[i] == '\n' && (i == 0 || msg[i - 1] != '\r'))
            vstring_append_char(v, '\r');
        vstring_append_char(v, msg[i]);
    }
    return v;
}

typedef struct {
    dkim_msg m;
    vstring *text;
    const dkim_field *sig;
    dkim_tag t[DKIM_MAX_TAGS];
    int nt;
    size_t voff; /* offset of the tag list inside the field */
} dkim_vctx;

static dkim_result dkim_find(dkim_vctx *v, const char *msg, size_t len, size_t index, char *why,
                             size_t whylen)
{
    v->text = dkim_crlf(msg, len);
    if (dkim_msg_split(v->text->data, v->text->len, &v->m) < 0) {
        dkim_why(why, whylen, "too many header fields");
        return DKIM_PERMERROR;
    }
    size_t seen = 0;
    for (size_t i = 0; i < v->m.n; i++) {
        if (!dkim_field_is(&v->m.f[i], "DKIM-Signature", 14) || seen++ != index)
            continue;
        v->sig = &v->m.f[i];
        break;
    }
    if (v->sig == NULL) {
        dkim_why(why, whylen, "no DKIM-Signature");
        return DKIM_NONE;
    }
    if (v->sig->len > DKIM_SIG_MAX) {
        dkim_why(why, whylen, "DKIM-Signature too long");
        return DKIM_PERMERROR;
    }
    const char *colon = memchr(v->sig->start, ':', v->sig->len);
    v->voff = (size_t)(colon + 1 - v->sig->start);
    v->nt = dkim_tags(colon + 1, v->sig->len - v->voff, v->t, DKIM_MAX_TAGS);
    if (v->nt < 0) {
        dkim_why(why, whylen, "malformed DKIM-Signature tag list");
        return DKIM_PERMERROR;
    }
    return DKIM_PASS;
}

static void dkim_vctx_done(dkim_vctx *v)
{
    myfree(v->m.f);
    vstring_free(v->text);
}

static dkim_result dkim_sig_ids(const dkim_vctx *v, char *domain, size_t dsize, char *selector,
                                size_t ssize, char *why, size_t whylen)
{
    const dkim_tag *d = dkim_tag_get(v->t, v->nt, "d"), *s = dkim_tag_get(v->t, v->nt, "s");
    char sel[DKIM_SELECTOR_MAX + 1];

    if (d == NULL || s == NULL || s->vlen > DKIM_SELECTOR_MAX) {
        dkim_why(why, whylen, "DKIM-Signature without a usable d= or s=");
        return DKIM_PERMERROR;
    }
    memcpy(sel, s->val, s->vlen);
    sel[s->vlen] = 0;
    if (dsize <= DOMAIN_MAX || ssize <= s->vlen ||
        domain_normalize(d->val, d->vlen, domain, dsize) < 0 || !dkim_selector_ok(sel)) {
        dkim_why(why, whylen, "DKIM-Signature d= or s= is not a valid name");
        return DKIM_PERMERROR;
    }
    memcpy(selector, sel, s->vlen + 1);
    return DKIM_PASS;
}

dkim_result dkim_signature_info(const char *msg, size_t len, size_t index, char *domain,
                                size_t dsize, char *selector, size_t ssize, char *why,
                                size_t whylen)
{
    dkim_vctx v;

    memset(&v, 0, sizeof(v));
    dkim_result r = dkim_find(&v, msg, len, index, why, whylen);
    if (r == DKIM_PASS)
        r = dkim_sig_ids(&v, domain, dsize, selector, ssize, why, whylen);
    dkim_vctx_done(&v);
    return r;
}

/* The public key of a key record for algorithm ed25519 or rsa, or NULL with why. */
static EVP_PKEY *dkim_keyrec_parse(const char *rec, size_t len, int ed25519, char *why,
                                   size_t whylen)
{
    dkim_tag t[DKIM_MAX_TAGS];
    unsigned char der[DKIM_KEYREC_MAX];
    int n = len <= DKIM_KEYREC_MAX ? dkim_tags(rec, len, t, DKIM_MAX_TAGS) : -1;

    if (n < 0) {
        dkim_why(why, whylen, "malformed key record");
        return NULL;
    }
    const dkim_tag *v = dkim_tag_get(t, n, "v"), *k = dkim_tag_get(t, n, "k"),
                   *h = dkim_tag_get(t, n, "h"), *s = dkim_tag_get(t, n, "s"),
                   *p = dkim_tag_get(t, n, "p");
    if ((v && (v != &t[0] || !dkim_tag_is(v, "DKIM1"))) || p == NULL) {
        dkim_why(why, whylen, "key record is not DKIM1 or has no p=");
        return NULL;
    }
    if (p->vlen == 0) {
        dkim_why(why, whylen, "key revoked (empty p=)");
        return NULL;
    }
    if ((ed25519 && !dkim_tag_is(k, "ed25519")) || (!ed25519 && k && !dkim_tag_is(k, "rsa"))) {
        dkim_why(why, whylen, "key type does not match the signature algorithm");
        return NULL;
    }
    if (h && !dkim_list_has(h->val, h->vlen, ':', "sha256")) {
        dkim_why(why, whylen, "key record does not allow sha256");
        return NULL;
    }
    if (s && !dkim_list_has(s->val, s->vlen, ':', "*") &&
        !dkim_list_has(s->val, s->vlen, ':', "email") &&
        !dkim_list_has(s->val, s->vlen, ':', "tlsrpt")) {
        dkim_why(why, whylen, "key record service type excludes tlsrpt");
        return NULL;
    }
    int m = dkim_b64_decode(p->val, p->vlen, der, sizeof(der));
    EVP_PKEY *pk = NULL;
    if (m > 0 && ed25519) {
        pk = m == 32 ? EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, der, 32) : NULL;
    } else if (m > 0) {
        const unsigned char *q = der;
        pk = d2i_PUBKEY(NULL, &q, m);
        if (pk == NULL) { /* some publish the bare RSAPublicKey */
            q = der;
            pk = d2i_PublicKey(EVP_PKEY_RSA, NULL, &q, m);
        }
        if (pk && (EVP_PKEY_get_base_id(pk) != EVP_PKEY_RSA || EVP_PKEY_get_bits(pk) < 1024)) {
            EVP_PKEY_free(pk);
            dkim_why(why, whylen, "key is not RSA of 1024 bits or more");
            return NULL;
        }
    }
    ERR_clear_error();
    if (pk == NULL)
        dkim_why(why, whylen, "key record p= is not a usable public key");
    return pk;
}

/* RFC 6376 3.5: the domain of i= is d= or a subdomain of it (absent: it is d=). */
static int dkim_identity_ok(const dkim_tag *i, const char *d)
{
    if (i == NULL)
        return 1;
    const char *at = memchr(i->val, '@', i->vlen);
    if (at == NULL)
        return 0;
    size_t dl = strlen(d), il = i->vlen - (size_t)(at + 1 - i->val);
    const char *id = at + 1;
    while (il > 0 && id[il - 1] == '.')
        il--;
    if (il == dl)
        return strncasecmp(id, d, dl) == 0;
    return il > dl && id[il - dl - 1] == '.' && strncasecmp(id + il - dl, d, dl) == 0;
}

dkim_result dkim_verify(const char *msg, size_t len, size_t index, const char *keyrec,
                        size_t keylen, char *why, size_t whylen)
{
    unsigned char bh[32], want[64], sig[1024];
    dkim_vctx v;
    dkim_result r;

    memset(&v, 0, sizeof(v));
    if ((r = dkim_find(&v, msg, len, index, why, whylen)) != DKIM_PASS)
        goto done;
    const dkim_tag *tv = dkim_tag_get(v.t, v.nt, "v"), *a = dkim_tag_get(v.t, v.nt, "a"),
                   *b = dkim_tag_get(v.t, v.nt, "b"), *tbh = dkim_tag_get(v.t, v.nt, "bh"),
                   *c = dkim_tag_get(v.t, v.nt, "c"), *h = dkim_tag_get(v.t, v.nt, "h"),
                   *q = dkim_tag_get(v.t, v.nt, "q");
    r = DKIM_PERMERROR;
    if (!dkim_tag_is(tv, "1") || a == NULL || b == NULL || tbh == NULL || h == NULL) {
        dkim_why(why, whylen, "DKIM-Signature lacks v=1, a=, b=, bh= or h=");
        goto done;
    }
    if (dkim_tag_get(v.t, v.nt, "l")) {
        dkim_why(why, whylen, "DKIM-Signature with l= (partial body) refused");
        goto done;
    }
    if (q && !dkim_list_has(q->val, q->vlen, ':', "dns/txt")) {
        dkim_why(why, whylen, "unsupported q=");
        goto done;
    }
    if (!dkim_list_has(h->val, h->vlen, ':', "from")) {
        dkim_why(why, whylen, "From is not signed");
        goto done;
    }
    int ed25519 = dkim_tag_is(a, "ed25519-sha256");
    if (!ed25519 && !dkim_tag_is(a, "rsa-sha256")) {
        dkim_why(why, whylen, "unsupported algorithm (a=)");
        goto done;
    }
    int hrelaxed = 0, brelaxed = 0;
    if (c) {
        const char *slash = memchr(c->val, '/', c->vlen);
        size_t hl = slash ? (size_t)(slash - c->val) : c->vlen;
        const char *bv = slash ? slash + 1 : "simple";
        size_t bl = slash ? c->vlen - hl - 1 : 6;
        hrelaxed = hl == 7 && strncasecmp(c->val, "relaxed", 7) == 0;
        brelaxed = bl == 7 && strncasecmp(bv, "relaxed", 7) == 0;
        if ((!hrelaxed && !(hl == 6 && strncasecmp(c->val, "simple", 6) == 0)) ||
            (!brelaxed && !(bl == 6 && strncasecmp(bv, "simple", 6) == 0))) {
            dkim_why(why, whylen, "unsupported canonicalization (c=)");
            goto done;
        }
    }
    char dom[DOMAIN_MAX + 2], sel[DKIM_SELECTOR_MAX + 1];
    if ((r = dkim_sig_ids(&v, dom, sizeof(dom), sel, sizeof(sel), why, whylen)) != DKIM_PASS)
        goto done;
    if (!dkim_identity_ok(dkim_tag_get(v.t, v.nt, "i"), dom)) {
        r = DKIM_PERMERROR;
        dkim_why(why, whylen, "i= is not d= or a subdomain of it");
        goto done;
    }
    r = DKIM_PERMERROR;
    EVP_PKEY *pk = dkim_keyrec_parse(keyrec, keylen, ed25519, why, whylen);
    if (pk == NULL)
        goto done;

    /* Body hash. */
    vstring *data = vstring_alloc(0);
    if (brelaxed)
        dkim_canon_body_relaxed(v.m.body, v.m.body_len, data);
    else
        dkim_canon_body_simple(v.m.body, v.m.body_len, data);
    EVP_Digest(data->data, data->len, bh, NULL, EVP_sha256(), NULL);
    int wl = dkim_b64_decode(tbh->val, tbh->vlen, want, sizeof(want));
    if (wl != 32 || memcmp(want, bh, 32) != 0) {
        r = wl == 32 ? DKIM_FAIL : DKIM_PERMERROR;
        dkim_why(why, whylen, wl == 32 ? "body hash mismatch" : "malformed bh=");
        goto free_key;
    }
    /* Header hash: the signed fields, then this field with the value of b= emptied. */
    vstring_reset(data);
    dkim_hash_headers(&v.m, h->val, h->vlen, hrelaxed, data);
    vstring *self = vstring_alloc(0);
    vstring_append(self, v.sig->start, v.voff + b->raw_off);
    vstring_append(self, v.sig->start + v.voff + b->raw_end, v.sig->len - v.voff - b->raw_end);
    if (hrelaxed)
        dkim_canon_header_relaxed(self->data, self->len, data);
    else
        vstring_append(data, self->data, self->len);
    vstring_free(self);

    int sl = dkim_b64_decode(b->val, b->vlen, sig, sizeof(sig));
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    int ok = 0;
    if (sl > 0 && ed25519) {
        unsigned char digest[32];
        EVP_Digest(data->data, data->len, digest, NULL, EVP_sha256(), NULL);
        ok = EVP_DigestVerifyInit(md, NULL, NULL, NULL, pk) == 1 &&
             EVP_DigestVerify(md, sig, (size_t)sl, digest, sizeof(digest)) == 1;
    } else if (sl > 0) {
        ok = EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, pk) == 1 &&
             EVP_DigestVerify(md, sig, (size_t)sl, (const unsigned char *)data->data, data->len) ==
                 1;
    }
    EVP_MD_CTX_free(md);
    ERR_clear_error();
    r = ok ? DKIM_PASS : sl > 0 ? DKIM_FAIL : DKIM_PERMERROR;
    dkim_why(why, whylen,
             ok       ? "signature verified"
             : sl > 0 ? "signature mismatch"
                      : "malformed b=");
free_key:
    vstring_free(data);
    EVP_PKEY_free(pk);
done:
    dkim_vctx_done(&v);
    return r;
}

const char *dkim_result_name(dkim_result r)
{
    switch (r) {
    case DKIM_PASS:
        return "pass";
    case DKIM_FAIL:
        return "fail";
    case DKIM_PERMERROR:
        return "permerror";
    default:
        return "none";
    }
}
