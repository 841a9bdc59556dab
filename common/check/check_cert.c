/*
 * Certificate checks of the domain check: chain verification against the CA store, name
 * matching, expiry, and DANE TLSA matching (RFC 7672: usages DANE-TA(2) and DANE-EE(3),
 * selectors 0/1, matching types 0/1/2) over the chain an MX presented.
 */
#include "check.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <string.h>

int check_cert_verify(STACK_OF(X509) * chain, const char *ca_file, int ignore_time)
{
    X509_STORE *store = X509_STORE_new();
    X509_STORE_CTX *ctx = X509_STORE_CTX_new();
    int err = X509_V_ERR_UNSPECIFIED;

    if (store == NULL || ctx == NULL || sk_X509_num(chain) < 1)
        goto out;
    int loaded = ca_file && *ca_file ? X509_STORE_load_locations(store, ca_file, NULL)
                                     : X509_STORE_set_default_paths(store);
    if (loaded != 1)
        goto out;
    if (X509_STORE_CTX_init(ctx, store, sk_X509_value(chain, 0), chain) != 1)
        goto out;
    X509_STORE_CTX_set_purpose(ctx, X509_PURPOSE_SSL_SERVER);
    if (ignore_time)
        X509_STORE_CTX_set_flags(ctx, X509_V_FLAG_NO_CHECK_TIME);
    err = X509_verify_cert(ctx) == 1 ? X509_V_OK : X509_STORE_CTX_get_error(ctx);
    if (err == X509_V_OK)
        err = 0;
out:
    X509_STORE_CTX_free(ctx);
    X509_STORE_free(store);
    return err;
}

int check_cert_name_ok(X509 *leaf, const char *host)
{
    /* Partial wildcards ("m*.example") are not honoured by MTAs; neither do we. */
    return X509_check_host(leaf, host, strlen(host), X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS, NULL) ==
           1;
}

static void check_cert_append(char *out, size_t size, const unsigned char *s, int len)
{
    size_t used = strlen(out);
    if (used && used + 2 < size) {
        memcpy(out + used, ", ", 3);
        used += 2;
    }
    for (int i = 0; i < len && used + 1 < size; i++)
        out[used++] = s[i] >= 0x20 && s[i] < 0x7f ? (char)s[i] : '?';
    out[used] = 0;
}

void check_cert_names(X509 *leaf, char *out, size_t size)
{
    GENERAL_NAMES *names = X509_get_ext_d2i(leaf, NID_subject_alt_name, NULL, NULL);

    if (size == 0)
        return;
    out[0] = 0;
    for (int i = 0; names && i < sk_GENERAL_NAME_num(names); i++) {
        GENERAL_NAME *g = sk_GENERAL_NAME_value(names, i);
        if (g->type == GEN_DNS)
            check_cert_append(out, size, ASN1_STRING_get0_data(g->d.dNSName),
                              ASN1_STRING_length(g->d.dNSName));
    }
    GENERAL_NAMES_free(names);
    if (*out == 0) {
        X509_NAME *subj = X509_get_subject_name(leaf);
        int idx = X509_NAME_get_index_by_NID(subj, NID_commonName, -1);
        if (idx >= 0) {
            ASN1_STRING *cn = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subj, idx));
            check_cert_append(out, size, ASN1_STRING_get0_data(cn), ASN1_STRING_length(cn));
        }
    }
}

long check_cert_days_left(X509 *leaf)
{
    int days = 0, secs = 0;

    if (ASN1_TIME_diff(&days, &secs, NULL, X509_get0_notAfter(leaf)) != 1)
        return -1;
    /* A certificate that expired an hour ago has 0 whole days but is expired. */
    if (days == 0 && secs < 0)
        return -1;
    return days;
}

int check_tlsa_parse(const char *rr, check_tlsa *out)
{
    int f[3];
    const char *p = rr;

    for (int i = 0; i < 3; i++) {
        if (*p < '0' || *p > '9')
            return -1;
        f[i] = 0;
        while (*p >= '0' && *p <= '9' && f[i] < 1000)
            f[i] = f[i] * 10 + (*p++ - '0');
        if (f[i] > 255 || *p != ' ')
            return -1;
        p++;
    }
    out->usage = f[0];
    out->selector = f[1];
    out->mtype = f[2];
    out->len = 0;
    while (*p) {
        int hi = OPENSSL_hexchar2int((unsigned char)p[0]);
        int lo = hi < 0 ? -1 : OPENSSL_hexchar2int((unsigned char)p[1]);
        if (lo < 0 || out->len == sizeof(out->data))
            return -1;
        out->data[out->len++] = (unsigned char)(hi << 4 | lo);
        p += 2;
    }
    return out->len ? 0 : -1;
}

/* Whether cert matches one record's selector and matching type. */
static int check_tlsa_cert(X509 *cert, const check_tlsa *t)
{
    unsigned char *der = NULL, md[EVP_MAX_MD_SIZE];
    unsigned mdlen = 0;
    int len = t->selector == 0 ? i2d_X509(cert, &der) : i2d_PUBKEY(X509_get0_pubkey(cert), &der);
    int match = 0;

    if (len <= 0)
        return 0;
    if (t->mtype == 0) {
        match = (size_t)len == t->len && memcmp(der, t->data, t->len) == 0;
    } else {
        const EVP_MD *alg = t->mtype == 1 ? EVP_sha256() : EVP_sha512();
        if (EVP_Digest(der, (size_t)len, md, &mdlen, alg, NULL) == 1)
            match = mdlen == t->len && memcmp(md, t->data, t->len) == 0;
    }
    OPENSSL_free(der);
    return match;
}

/* DANE-TA: the leaf must chain up to ta (trusted as given, RFC 7672 2.2) and name host. */
static int check_tlsa_ta_ok(STACK_OF(X509) * chain, X509 *ta, const char *host)
{
    X509_STORE *store = X509_STORE_new();
    X509_STORE_CTX *ctx = X509_STORE_CTX_new();
    int ok = 0;

    if (store && ctx && X509_STORE_add_cert(store, ta) == 1 &&
        X509_STORE_CTX_init(ctx, store, sk_X509_value(chain, 0), chain) == 1) {
        X509_STORE_CTX_set_flags(ctx, X509_V_FLAG_PARTIAL_CHAIN);
        ok = X509_verify_cert(ctx) == 1 && check_cert_name_ok(sk_X509_value(chain, 0), host);
    }
    X509_STORE_CTX_free(ctx);
    X509_STORE_free(store);
    return ok;
}

int check_tlsa_match(STACK_OF(X509) * chain, const check_tlsa *rec, size_t n, const char *host,
                     size_t *which, char *why, size_t whylen)
{
    size_t usable = 0;
    int ta_matched_badly = 0;

    snprintf(why, whylen, "no TLSA record matches the presented chain");
    if (sk_X509_num(chain) < 1) {
        snprintf(why, whylen, "no certificate presented");
        return 0;
    }
    for (size_t i = 0; i < n; i++) {
        const check_tlsa *t = &rec[i];
        if ((t->usage != 2 && t->usage != 3) || t->selector > 1 || t->mtype > 2 ||
            (t->mtype == 1 && t->len != 32) || (t->mtype == 2 && t->len != 64))
            continue;
        usable++;
        if (t->usage == 3) {
            /* DANE-EE: the key is the identity; names and dates do not matter (RFC 7672 3.1.1). */
            if (check_tlsa_cert(sk_X509_value(chain, 0), t)) {
                *which = i;
                snprintf(why, whylen, "DANE-EE record %zu matches the server certificate", i + 1);
                return 1;
            }
            continue;
        }
        for (int c = 0; c < sk_X509_num(chain); c++) {
            X509 *cert = sk_X509_value(chain, c);
            if (!check_tlsa_cert(cert, t))
                continue;
            if (check_tlsa_ta_ok(chain, cert, host)) {
                *which = i;
                snprintf(why, whylen, "DANE-TA record %zu matches chain certificate %d", i + 1, c);
                return 1;
            }
            ta_matched_badly = 1;
        }
    }
    if (usable == 0) {
        snprintf(why, whylen, "no usable TLSA record (only usages 2 and 3 count for SMTP)");
        return -1;
    }
    if (ta_matched_badly)
        snprintf(why, whylen,
                 "a DANE-TA record matches, but the server certificate does not "
                 "chain to it validly or does not name %s",
                 host);
    return 0;
}
