/*
 * The HTTPS fetch of an MTA-STS policy with libcurl, exactly as RFC 8461 section 3.3 asks:
 * HTTPS only, no redirects, HTTP 200 only, text/plain, at most 64 KiB, no HTTP caching,
 * and a certificate valid for mta-sts.<domain>. The host is resolved with our resolver
 * (the `resolver` setting) and pinned with CURLOPT_RESOLVE, so the fetch and the TXT
 * lookup see the same DNS.
 */
#include "sts_fetch.h"

#include <curl/curl.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "domain.h"
#include "ipaddr.h"
#include "msg.h"
#include "outcome.h"
#include "vstring.h"

#define STS_FETCH_FAIL    301
#define STS_FETCH_INVALID 302
#define STS_FETCH_WEBPKI  303

void sts_fetch_global_init(void)
{
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0)
        msg_fatal("sts: cannot initialize libcurl");
}

sts_txt_status sts_fetch_txt(dns_resolver *dns, const char *domain, char *id, size_t idsize,
                             const char **why)
{
    char name[DOMAIN_MAX + 16];
    dns_result res;

    *why = "";
    snprintf(name, sizeof(name), "_mta-sts.%s", domain);
    dns_status st = dns_txt(dns, name, &res);
    if (st == DNS_TEMPFAIL) {
        dns_result_free(&res);
        *why = "dns-tempfail";
        return STS_TXT_TEMPFAIL;
    }
    if (st != DNS_OK) {
        /* BOGUS: a forged answer must not enable (or disable) a policy; treat as none. */
        dns_result_free(&res);
        *why = st == DNS_BOGUS ? "dnssec-bogus" : "";
        return STS_TXT_NONE;
    }
    int r = sts_txt_select(res.rr, res.rrlen, res.n, id, idsize, why);
    dns_result_free(&res);
    return r > 0 ? STS_TXT_FOUND : r == 0 ? STS_TXT_NONE : STS_TXT_INVALID;
}

typedef struct {
    vstring *body;
    int too_large;
} sts_fetch_sink;

static size_t sts_fetch_write(char *data, size_t size, size_t n, void *arg)
{
    sts_fetch_sink *s = arg;
    size_t len = size * n;

    if (s->body->len + len > STS_POLICY_MAX) {
        s->too_large = 1;
        return 0; /* aborts the transfer */
    }
    vstring_append(s->body, data, len);
    return len;
}

static int sts_fetch_progress(void *arg, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
    volatile sig_atomic_t *cancel = arg;
    (void)dt, (void)dn, (void)ut, (void)un;
    return cancel && *cancel; /* non-zero aborts */
}

static void sts_fetch_fail(sts_fetch_result *out, int result, const char *reason,
                           const char *detail)
{
    out->result = result;
    snprintf(out->reason, sizeof(out->reason), "%s", reason);
    snprintf(out->detail, sizeof(out->detail), "%s", detail);
}

static const char *sts_fetch_verify_reason(long v)
{
    switch (v) {
    case X509_V_ERR_HOSTNAME_MISMATCH: /* see sts_fetch_ssl_ctx */
        return "tls-cert-name-mismatch";
    case X509_V_ERR_CERT_HAS_EXPIRED:
        return "tls-cert-expired";
    case X509_V_ERR_CERT_NOT_YET_VALID:
        return "tls-cert-not-yet-valid";
    case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
    case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
        return "tls-cert-self-signed";
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
    case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
        return "tls-cert-untrusted";
    case X509_V_ERR_CERT_REVOKED:
        return "tls-cert-revoked";
    default:
        return "tls-cert-invalid";
    }
}

/* curl checks the host name itself after OpenSSL accepted the chain, and a failure of that
 * check leaves no verification result, only an error text. OpenSSL checks it too, first:
 * a mismatch is then X509_V_ERR_HOSTNAME_MISMATCH in CURLINFO_SSL_VERIFYRESULT. */
static CURLcode sts_fetch_ssl_ctx(CURL *c, void *ssl_ctx, void *host)
{
    X509_VERIFY_PARAM *param = SSL_CTX_get0_param(ssl_ctx);

    (void)c;
    X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    return X509_VERIFY_PARAM_set1_host(param, host, 0) == 1 ? CURLE_OK : CURLE_OUT_OF_MEMORY;
}

/* What a failed transfer means, by curl's code; any other code is "fetch-failed". */
static const struct {
    CURLcode rc;
    int result;
    const char *reason;
} sts_fetch_curl_codes[] = {
    {CURLE_FILESIZE_EXCEEDED, STS_FETCH_INVALID, "policy-too-large"},
    {CURLE_ABORTED_BY_CALLBACK, STS_FETCH_FAIL, "cancelled"},
    {CURLE_COULDNT_RESOLVE_HOST, STS_FETCH_FAIL, "dns-no-address"},
    {CURLE_COULDNT_CONNECT, STS_FETCH_FAIL, "connect-failed"},
    {CURLE_OPERATION_TIMEDOUT, STS_FETCH_FAIL, "timeout"},
    {CURLE_SSL_CONNECT_ERROR, STS_FETCH_FAIL, "tls-handshake-failed"},
};

/* Sets out for a transfer of c that failed with rc (detail d). A certificate failure is
 * named by the verification result, never by curl's error text. */
static void sts_fetch_curl_fail(CURL *c, CURLcode rc, int too_large, const char *d,
                                sts_fetch_result *out)
{
    if (rc == CURLE_PEER_FAILED_VERIFICATION) {
        long v = 0;
        curl_easy_getinfo(c, CURLINFO_SSL_VERIFYRESULT, &v);
        msg_debug("sts: %s: verify result %ld", d, v);
        sts_fetch_fail(out, STS_FETCH_WEBPKI, sts_fetch_verify_reason(v), d);
        return;
    }
    if (rc == CURLE_WRITE_ERROR && too_large) /* our write callback refused the body */
        rc = CURLE_FILESIZE_EXCEEDED;
    for (size_t i = 0; i < sizeof(sts_fetch_curl_codes) / sizeof(sts_fetch_curl_codes[0]); i++) {
        if (sts_fetch_curl_codes[i].rc == rc) {
            sts_fetch_fail(out, sts_fetch_curl_codes[i].result, sts_fetch_curl_codes[i].reason, d);
            return;
        }
    }
    sts_fetch_fail(out, STS_FETCH_FAIL, "fetch-failed", d);
}

/* Resolves host with dns into a CURLOPT_RESOLVE entry; 0, or -1 with out->result set. */
static int sts_fetch_resolve(dns_resolver *dns, const char *host, int allow_private, vstring *entry,
                             sts_fetch_result *out)
{
    dns_result res;
    dns_status st = dns_addr(dns, host, &res);

    if (st != DNS_OK || res.n == 0) {
        char d[400];
        snprintf(d, sizeof(d), "%s: no address (%s)", host, dns_status_name(st));
        sts_fetch_fail(out, STS_FETCH_FAIL, st == DNS_TEMPFAIL ? "dns-tempfail" : "dns-no-address",
                       d);
        dns_result_free(&res);
        return -1;
    }
    vstring_sprintf_append(entry, "%s:443:", host);
    for (size_t i = 0; i < res.n; i++) {
        if (!allow_private && ipaddr_is_private(res.rr[i])) {
            char d[400];
            snprintf(d, sizeof(d), "%s resolves to a non-public address (https_allow_private = no)",
                     host);
            sts_fetch_fail(out, STS_FETCH_FAIL, "address-not-public", d);
            dns_result_free(&res);
            return -1;
        }
        int v6 = strchr(res.rr[i], ':') != NULL;
        vstring_sprintf_append(entry, "%s%s%s%s", i ? "," : "", v6 ? "[" : "", res.rr[i],
                               v6 ? "]" : "");
    }
    dns_result_free(&res);
    return 0;
}

static int sts_fetch_content_type_ok(const char *ct)
{
    size_t n = strlen("text/plain");

    if (!ct || strncasecmp(ct, "text/plain", n) != 0)
        return 0;
    ct += n;
    while (*ct == ' ' || *ct == '\t')
        ct++;
    return *ct == 0 || *ct == ';';
}

int sts_fetch_policy(const char *domain, const sts_fetch_opts *opts, sts_fetch_result *out)
{
    char host[DOMAIN_MAX + 16], url[DOMAIN_MAX + 64], err[CURL_ERROR_SIZE] = "";
    vstring *resolve = vstring_alloc(4096);
    sts_fetch_sink sink = {vstring_alloc(0), 0};
    struct curl_slist *hdrs = NULL, *pins = NULL;
    CURL *c = NULL;

    memset(out, 0, sizeof(*out));
    snprintf(host, sizeof(host), "mta-sts.%s", domain);
    snprintf(url, sizeof(url), "https://%s/.well-known/mta-sts.txt", host);
    if (opts->dns && sts_fetch_resolve(opts->dns, host, opts->allow_private, resolve, out) < 0)
        goto done;
    if ((c = curl_easy_init()) == NULL) {
        sts_fetch_fail(out, STS_FETCH_FAIL, "internal-error", "curl_easy_init failed");
        goto done;
    }
    hdrs = curl_slist_append(hdrs, "Cache-Control: no-cache");
    hdrs = curl_slist_append(hdrs, "Pragma: no-cache");
    if (resolve->len)
        pins = curl_slist_append(pins, resolve->data);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "https");
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_PROXY, ""); /* never an environment proxy */
    curl_easy_setopt(c, CURLOPT_TIMEOUT, opts->timeout);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, opts->timeout);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
    curl_easy_setopt(c, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
    if (opts->ca_file && *opts->ca_file)
        curl_easy_setopt(c, CURLOPT_CAINFO, opts->ca_file);
    curl_easy_setopt(c, CURLOPT_SSL_CTX_FUNCTION, sts_fetch_ssl_ctx);
    curl_easy_setopt(c, CURLOPT_SSL_CTX_DATA, host);
    curl_easy_setopt(c, CURLOPT_MAXFILESIZE, (long)STS_POLICY_MAX);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
    if (pins)
        curl_easy_setopt(c, CURLOPT_RESOLVE, pins);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "opentlsrpt (MTA-STS)");
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, sts_fetch_write);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &sink);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, err);
    if (opts->cancel) {
        curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, sts_fetch_progress);
        curl_easy_setopt(c, CURLOPT_XFERINFODATA, (void *)opts->cancel);
        curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
    }

    CURLcode rc = curl_easy_perform(c);
    char d[640];
    snprintf(d, sizeof(d), "%s: %s", url, *err ? err : curl_easy_strerror(rc));
    if (rc != CURLE_OK) {
        sts_fetch_curl_fail(c, rc, sink.too_large, d, out);
        goto done;
    }
    long code = 0;
    char *ct = NULL;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
    curl_easy_getinfo(c, CURLINFO_CONTENT_TYPE, &ct);
    if (code != 200) {
        char reason[32];
        snprintf(reason, sizeof(reason), "http-%ld", code);
        snprintf(d, sizeof(d), "%s: HTTP status %ld", url, code);
        sts_fetch_fail(out, STS_FETCH_FAIL, reason, d);
        goto done;
    }
    if (!sts_fetch_content_type_ok(ct)) {
        snprintf(d, sizeof(d), "%s: media type is not text/plain", url);
        sts_fetch_fail(out, STS_FETCH_INVALID, "content-type-not-text-plain", d);
        goto done;
    }
    const char *why;
    if (sts_policy_parse(sink.body->data, sink.body->len, &out->policy, &why) < 0) {
        snprintf(d, sizeof(d), "%s: invalid policy (%s)", url, why);
        sts_fetch_fail(out, STS_FETCH_INVALID, why, d);
        goto done;
    }
    out->result = 0;
    snprintf(out->detail, sizeof(out->detail), "%s: mode %s, max_age %ld, %zu mx", url,
             sts_mode_name(out->policy.mode), out->policy.max_age, out->policy.nmx);
done:
    if (c)
        curl_easy_cleanup(c);
    curl_slist_free_all(hdrs);
    curl_slist_free_all(pins);
    vstring_free(resolve);
    vstring_free(sink.body);
    return out->result;
}

void sts_fetch_result_free(sts_fetch_result *r)
{
    sts_policy_free(&r->policy);
}
