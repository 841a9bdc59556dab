/* DKIM signing and verification (RFC 6376, RFC 8463) with OpenSSL. */
#include "dkim.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "dkim_int.h"
#include "domain.h"
#include "fsutil.h"
#include "mymalloc.h"

#define DKIM_KEYFILE_MAX 65536

struct dkim_key {
    EVP_PKEY *pkey;
    int ed25519;
};

/* Signed headers, in this order; RFC 8460 wants both TLS-Report-* headers covered. */
static const char *const dkim_sign_headers[] = {
    "From",
    "To",
    "Subject",
    "Date",
    "Message-ID",
    "MIME-Version",
    "Content-Type",
    "TLS-Report-Domain",
    "TLS-Report-Submitter",
    "TLS-Required",
    NULL,
};

void dkim_why(char *why, size_t whylen, const char *text)
{
    if (whylen)
        snprintf(why, whylen, "%s", text);
}

/* The OpenSSL reason of the last failure, for messages. */
static const char *dkim_ssl_error(void)
{
    unsigned long e = ERR_peek_last_error();
    const char *r = e ? ERR_reason_error_string(e) : NULL;

    ERR_clear_error();
    return r ? r : "unknown OpenSSL error";
}

void dkim_b64_append(vstring *out, const unsigned char *data, size_t len)
{
    unsigned char buf[4 * 48 / 3 + 1];

    while (len > 0) {
        size_t n = len > 48 ? 48 : len;
        int m = EVP_EncodeBlock(buf, data, (int)n);
        vstring_append(out, buf, (size_t)m);
        data += n;
        len -= n;
    }
}

/* Decodes base64 that may contain folding white space; returns the length or -1. */
int dkim_b64_decode(const char *s, size_t len, unsigned char *out, size_t outsize)
{
    char clean[DKIM_SIG_MAX];
    size_t n = 0, pad = 0;

    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == ' ' || c == '\t' || c == '\r' || c == '\n')
            continue;
        if (n + 1 >= sizeof(clean))
            return -1;
        clean[n++] = (char)c;
    }
    if (n == 0 || n % 4 != 0 || n / 4 * 3 > outsize)
        return -1;
    for (size_t i = n; i > 0 && clean[i - 1] == '='; i--)
        pad++;
    if (pad > 2)
        return -1;
    int m = EVP_DecodeBlock(out, (const unsigned char *)clean, (int)n);
    if (m < 0)
        return -1;
    return m - (int)pad;
}

static dkim_key *dkim_key_check(EVP_PKEY *pkey, char *why, size_t whylen)
{
    dkim_key *key;

    switch (EVP_PKEY_get_base_id(pkey)) {
    case EVP_PKEY_RSA:
        if (EVP_PKEY_get_bits(pkey) < 2048) {
            if (whylen)
                snprintf(why, whylen, "RSA key of %d bits: DKIM signing needs 2048 or more",
                         EVP_PKEY_get_bits(pkey));
            EVP_PKEY_free(pkey);
            return NULL;
        }
        break;
    case EVP_PKEY_ED25519:
        break;
    default:
        dkim_why(why, whylen, "not an RSA or Ed25519 private key");
        EVP_PKEY_free(pkey);
        return NULL;
    }
    key = mycalloc(1, sizeof(*key));
    key->pkey = pkey;
    key->ed25519 = EVP_PKEY_get_base_id(pkey) == EVP_PKEY_ED25519;
    return key;
}

dkim_key *dkim_key_parse(const void *pem, size_t len, char *why, size_t whylen)
{
    if (len > DKIM_KEYFILE_MAX || len > (size_t)0x7fffffff) {
        dkim_why(why, whylen, "key file too large");
        return NULL;
    }
    BIO *bio = BIO_new_mem_buf(pem, (int)len);
    /* A passphrase would need a prompt; a cron job has none, so refuse encrypted keys. */
    EVP_PKEY *pkey = bio ? PEM_read_bio_PrivateKey(bio, NULL, NULL, (void *)"") : NULL;
    BIO_free(bio);
    if (pkey == NULL) {
        if (whylen)
            snprintf(why, whylen, "no usable PEM private key (%s)", dkim_ssl_error());
        return NULL;
    }
    return dkim_key_check(pkey, why, whylen);
}

dkim_key *dkim_key_load(const char *path, char *why, size_t whylen)
{
    vstring *v = vstring_alloc(0);
    dkim_key *key = NULL;

    if (fsutil_read_file(path, v, DKIM_KEYFILE_MAX) < 0) {
        if (whylen)
            snprintf(why, whylen, "%s: %s", path, strerror(errno));
    } else {
        char inner[200];
        key = dkim_key_parse(vstring_str(v), vstring_len(v), inner, sizeof(inner));
        if (key == NULL && whylen)
            snprintf(why, whylen, "%s: %s", path, inner);
    }
    OPENSSL_cleanse(v->data, v->cap);
    vstring_free(v);
    return key;
}

dkim_key *dkim_key_free(dkim_key *key)
{
    if (key) {
        EVP_PKEY_free(key->pkey);
        myfree(key);
    }
    return NULL;
}

const char *dkim_key_algorithm(const dkim_key *key)
{
    return key->ed25519 ? "ed25519-sha256" : "rsa-sha256";
}

void dkim_key_record(const dkim_key *key, vstring *out)
{
    unsigned char buf[1024];
    size_t n = sizeof(buf);

    if (key->ed25519) {
        /* RFC 8463: p= is the bare 32-byte public key, not a SubjectPublicKeyInfo. */
        if (EVP_PKEY_get_raw_public_key(key->pkey, buf, &n) != 1)
            n = 0;
        vstring_append_str(out, "v=DKIM1; k=ed25519; s=tlsrpt; p=");
    } else {
        unsigned char *p = buf;
        int m = i2d_PUBKEY(key->pkey, NULL);
        n = m > 0 && (size_t)m <= sizeof(buf) ? (size_t)i2d_PUBKEY(key->pkey, &p) : 0;
        vstring_append_str(out, "v=DKIM1; k=rsa; s=tlsrpt; p=");
    }
    dkim_b64_append(out, buf, n);
}

/* ---- canonicalization ---- */

int dkim_wsp(int c)
{
    return c == ' ' || c == '\t';
}

void dkim_canon_header_relaxed(const char *field, size_t len, vstring *out)
{
    const char *colon = memchr(field, ':', len);
    size_t nlen = colon ? (size_t)(colon - field) : len;

    /* Name: lower case, white space before the colon dropped. */
    while (nlen > 0 && dkim_wsp(field[nlen - 1]))
        nlen--;
    for (size_t i = 0; i < nlen; i++)
        vstring_append_char(out, tolower((unsigned char)field[i]));
    vstring_append_char(out, ':');
    if (colon == NULL)
        return;
    /* Value: unfolded, runs of white space as one space, none at either end. */
    int pending = 0, started = 0;
    for (const char *p = colon + 1; p < field + len; p++) {
        if (*p == '\r' || *p == '\n' || dkim_wsp(*p)) {
            pending = 1;
            continue;
        }
        if (pending && started)
            vstring_append_char(out, ' ');
        pending = 0;
        started = 1;
        vstring_append_char(out, *p);
    }
}

/* Length of the body without its trailing empty lines. */
static size_t dkim_body_trim(const char *body, size_t len)
{
    while (len >= 4 && memcmp(body + len - 4, "\r\n\r\n", 4) == 0)
        len -= 2;
    if (len == 2 && memcmp(body, "\r\n", 2) == 0)
        len = 0;
    return len;
}

void dkim_canon_body_simple(const char *body, size_t len, vstring *out)
{
    len = dkim_body_trim(body, len);
    vstring_append(out, body, len);
    if (len < 2 || body[len - 2] != '\r' || body[len - 1] != '\n')
        vstring_append(out, "\r\n", 2);
}

void dkim_canon_body_relaxed(const char *body, size_t len, vstring *out)
{
    size_t keep = vstring_len(out);
    const char *end = body + len;

    for (const char *p = body; p < end;) {
        const char *eol = p;
        while (eol < end && !(*eol == '\r' && eol + 1 < end && eol[1] == '\n'))
            eol++;
        size_t line = vstring_len(out);
        int pending = 0;
        for (const char *q = p; q < eol; q++) {
            if (dkim_wsp(*q)) {
                pending = 1;
                continue;
            }
            if (pending)
                vstring_append_char(out, ' ');
            pending = 0;
            vstring_append_char(out, *q);
        }
        /* Trailing white space is dropped; a last line without CRLF gets one. */
        int empty = vstring_len(out) == line;
        vstring_append(out, "\r\n", 2);
        if (!empty)
            keep = vstring_len(out);
        p = eol < end ? eol + 2 : end;
    }
    /* Empty lines at the end are removed; an empty body stays empty. */
    out->len = keep;
    out->data[keep] = 0;
}

void dkim_body_hash_relaxed(const char *body, size_t len, unsigned char hash[32])
{
    vstring *c = vstring_alloc(0);

    dkim_canon_body_relaxed(body, len, c);
    EVP_Digest(c->data, c->len, hash, NULL, EVP_sha256(), NULL);
    vstring_free(c);
}

/* ---- message structure ---- */

/* Splits a CRLF message into header fields and body; returns 0, or -1 when it has too many
 * fields to be a report. */
int dkim_msg_split(const char *msg, size_t len, dkim_msg *m)
{
    const char *p = msg, *end = msg + len;

    m->f = NULL;
    m->n = 0;
    m->body = end;
    m->body_len = 0;
    while (p < end) {
        const char *eol = p;
        while (eol + 1 < end && !(eol[0] == '\r' && eol[1] == '\n'))
            eol++;
        if (eol + 1 >= end)
            eol = end;
        if (eol == p) { /* the empty line */
            m->body = p + 2 <= end ? p + 2 : end;
            m->body_len = (size_t)(end - m->body);
            return 0;
        }
        if (dkim_wsp(*p) && m->n > 0) {
            m->f[m->n - 1].len = (size_t)(eol - m->f[m->n - 1].start);
        } else {
            if (m->n == DKIM_MAX_FIELDS) {
                m->f = myfree(m->f);
                return -1;
            }
            if (m->n % 64 == 0)
                m->f = myrealloc(m->f, (m->n + 64) * sizeof(*m->f));
            m->f[m->n].start = p;
            m->f[m->n].len = (size_t)(eol - p);
            m->f[m->n].used = 0;
            m->n++;
        }
        p = eol < end ? eol + 2 : end;
    }
    return 0;
}

int dkim_field_is(const dkim_field *f, const char *name, size_t nlen)
{
    size_t i = 0;

    if (f->len <= nlen || strncasecmp(f->start, name, nlen) != 0)
        return 0;
    for (i = nlen; i < f->len && dkim_wsp(f->start[i]); i++)
        ;
    return i < f->len && f->start[i] == ':';
}

/* Hashes the header fields named in the colon-separated list h, bottom-up instance
 * selection (RFC 6376 5.4.2); a name with no instance left contributes nothing. */
void dkim_hash_headers(dkim_msg *m, const char *h, size_t hlen, int relaxed, vstring *out)
{
    const char *p = h, *end = h + hlen;

    for (size_t i = 0; i < m->n; i++)
        m->f[i].used = 0;
    while (p < end) {
        const char *c = memchr(p, ':', (size_t)(end - p));
        const char *e = c ? c : end;
        const char *a = p, *b = e;
        while (a < b && (dkim_wsp(*a) || *a == '\r' || *a == '\n'))
            a++;
        while (b > a && (dkim_wsp(b[-1]) || b[-1] == '\r' || b[-1] == '\n'))
            b--;
        for (size_t i = m->n; b > a && i > 0; i--) {
            dkim_field *f = &m->f[i - 1];
            if (f->used || !dkim_field_is(f, a, (size_t)(b - a)))
                continue;
            f->used = 1;
            if (relaxed)
                dkim_canon_header_relaxed(f->start, f->len, out);
            else
                vstring_append(out, f->start, f->len);
            vstring_append(out, "\r\n", 2);
            break;
        }
        p = c ? c + 1 : end;
    }
}

/* ---- signing ---- */

int dkim_selector_ok(const char *s)
{
    size_t n = strlen(s);

    if (n == 0 || n > DKIM_SELECTOR_MAX || s[0] == '.' || s[n - 1] == '.' || strstr(s, ".."))
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)s[i]) && s[i] != '-' && s[i] != '_' && s[i] != '.')
            return 0;
    return 1;
}

/* Signs (RSA: PKCS#1 v1.5 over the data with SHA-256; Ed25519: over the SHA-256 of the
 * data, RFC 8463 3) and appends the base64 signature folded into lines. */
static int dkim_sign_data(const dkim_key *key, const vstring *data, vstring *out)
{
    unsigned char digest[32], sig[1024];
    size_t siglen = sizeof(sig);
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    int ok;

    if (key->ed25519) {
        EVP_Digest(data->data, data->len, digest, NULL, EVP_sha256(), NULL);
        ok = EVP_DigestSignInit(md, NULL, NULL, NULL, key->pkey) == 1 &&
             EVP_DigestSign(md, sig, &siglen, digest, sizeof(digest)) == 1;
    } else {
        ok = EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, key->pkey) == 1 &&
             EVP_DigestSign(md, NULL, &siglen, (const unsigned char *)data->data, data->len) == 1 &&
             siglen <= sizeof(sig) &&
             EVP_DigestSign(md, sig, &siglen, (const unsigned char *)data->data, data->len) == 1;
    }
    EVP_MD_CTX_free(md);
    if (!ok)
        return -1;
    vstring *b = vstring_alloc(0);
    dkim_b64_append(b, sig, siglen);
    for (size_t i = 0; i < b->len; i += 72) {
        if (i)
            vstring_append(out, "\r\n\t ", 3);
        vstring_append(out, b->data + i, b->len - i > 72 ? 72 : b->len - i);
    }
    vstring_free(b);
    return 0;
}

int dkim_sign(const dkim_key *key, const char *domain, const char *selector, const char *msg,
              size_t len, time_t now, vstring *out, char *why, size_t whylen)
{
    char dom[DOMAIN_MAX + 2];
    unsigned char bh[32];
    dkim_msg m;

    if (domain_normalize(domain, strlen(domain), dom, sizeof(dom)) < 0) {
        dkim_why(why, whylen, "dkim_domain is not a domain name");
        return -1;
    }
    if (!dkim_selector_ok(selector)) {
        dkim_why(why, whylen, "dkim_selector is not a valid selector");
        return -1;
    }
    if (dkim_msg_split(msg, len, &m) < 0) {
        dkim_why(why, whylen, "too many header fields");
        return -1;
    }
    dkim_body_hash_relaxed(m.body, m.body_len, bh);

    /* Only the headers present are listed: a listed absent one would forbid adding it. */
    vstring *h = vstring_alloc(0);
    for (size_t i = 0; dkim_sign_headers[i]; i++) {
        for (size_t j = 0; j < m.n; j++) {
            if (dkim_field_is(&m.f[j], dkim_sign_headers[i], strlen(dkim_sign_headers[i]))) {
                if (h->len)
                    vstring_append_char(h, ':');
                vstring_append_str(h, dkim_sign_headers[i]);
                break;
            }
        }
    }
    vstring *sig = vstring_alloc(0);
    vstring_sprintf_append(sig,
                           "DKIM-Signature: v=1; a=%s; c=relaxed/relaxed; d=%s; s=%s;\r\n"
                           "\tt=%lld; h=%s;\r\n\tbh=",
                           dkim_key_algorithm(key), dom, selector, (long long)now, h->data);
    dkim_b64_append(sig, bh, sizeof(bh));
    vstring_append_str(sig, ";\r\n\tb=");

    vstring *data = vstring_alloc(0);
    dkim_hash_headers(&m, h->data, h->len, 1, data);
    dkim_canon_header_relaxed(sig->data, sig->len, data);
    int rc = dkim_sign_data(key, data, sig);
    if (rc < 0) {
        if (whylen)
            snprintf(why, whylen, "signing failed: %s", dkim_ssl_error());
    } else {
        vstring_append(sig, "\r\n", 2);
        vstring_append(out, sig->data, sig->len);
    }
    vstring_free(data);
    vstring_free(sig);
    vstring_free(h);
    myfree(m.f);
    return rc;
}
