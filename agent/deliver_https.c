/* Delivery of a report to an https: rua endpoint with libcurl (RFC 8460 section 5.4). */
#include <arpa/inet.h>
#include <curl/curl.h>
#include <stdio.h>
#include <string.h>

#include "deliver.h"
#include "dns.h"
#include "gz.h"
#include "ipaddr.h"
#include "msg.h"
#include "mymalloc.h"
#include "otrconfig.h"
#include "vstring.h"

#define HTTPS_RESOLVE_MAX 2048 /* bytes of the CURLOPT_RESOLVE entry */

static dns_resolver *https_resolver;
static int https_curl_ready;

void deliver_https_cleanup(void)
{
    https_resolver = dns_resolver_free(https_resolver);
    if (https_curl_ready)
        curl_global_cleanup();
    https_curl_ready = 0;
}

static size_t https_discard(char *ptr, size_t size, size_t n, void *arg)
{
    (void)ptr;
    (void)arg;
    return size * n;
}

/* Resolves the URI's host with our resolver, checks every address and builds the
 * CURLOPT_RESOLVE entry that pins them, so that libcurl cannot resolve to another. */
static deliver_status https_pin(agent_ctx *ctx, const char *host, const char *port, vstring *pin,
                                char *why, size_t whylen)
{
    unsigned char buf[16];
    int literal = inet_pton(AF_INET, host, buf) == 1;

    if (host[0] == '[') {
        char inner[64];
        size_t len = strlen(host);
        if (len < 3 || len - 2 >= sizeof(inner)) {
            snprintf(why, whylen, "bad IP literal");
            return DELIVER_PERMFAIL;
        }
        memcpy(inner, host + 1, len - 2);
        inner[len - 2] = 0;
        if (!ctx->cfg->https_allow_private && ipaddr_is_private(inner)) {
            snprintf(why, whylen,
                     "refused: %s is a private, loopback, link-local or multicast "
                     "address (https_allow_private = no)",
                     inner);
            return DELIVER_PERMFAIL;
        }
        return DELIVER_OK;
    }
    if (literal) {
        if (!ctx->cfg->https_allow_private && ipaddr_is_private(host)) {
            snprintf(why, whylen,
                     "refused: %s is a private, loopback, link-local or multicast "
                     "address (https_allow_private = no)",
                     host);
            return DELIVER_PERMFAIL;
        }
        return DELIVER_OK;
    }
    if (https_resolver == NULL && (https_resolver = dns_resolver_new(ctx->cfg)) == NULL) {
        snprintf(why, whylen, "no resolver");
        return DELIVER_TEMPFAIL;
    }
    dns_result res;
    dns_status st = dns_addr(https_resolver, host, &res);
    if (st == DNS_TEMPFAIL) {
        snprintf(why, whylen, "resolving %s: %s", host, res.why);
        dns_result_free(&res);
        return DELIVER_TEMPFAIL;
    }
    if (st != DNS_OK) {
        snprintf(why, whylen, "resolving %s: %s", host,
                 st == DNS_BOGUS ? res.why : dns_status_name(st));
        dns_result_free(&res);
        return DELIVER_TEMPFAIL;
    }
    vstring_sprintf_append(pin, "%s:%s:", host, port);
    size_t kept = 0;
    for (size_t i = 0; i < res.n; i++) {
        if (!ctx->cfg->https_allow_private && ipaddr_is_private(res.rr[i])) {
            msg_debug("%s: address %s not used (private)", host, res.rr[i]);
            continue;
        }
        int v6 = strchr(res.rr[i], ':') != NULL;
        vstring_sprintf_append(pin, "%s%s%s%s", kept ? "," : "", v6 ? "[" : "", res.rr[i],
                               v6 ? "]" : "");
        kept++;
    }
    dns_result_free(&res);
    if (kept == 0) {
        snprintf(why, whylen,
                 "refused: %s resolves only to private, loopback, link-local or "
                 "multicast addresses (https_allow_private = no)",
                 host);
        return DELIVER_PERMFAIL;
    }
    if (pin->overflow) {
        snprintf(why, whylen, "too many addresses for %s", host);
        return DELIVER_TEMPFAIL;
    }
    return DELIVER_OK;
}

deliver_status deliver_https(agent_ctx *ctx, const mailmsg_report *r, const char *uri, char *why,
                             size_t whylen)
{
    char errbuf[CURL_ERROR_SIZE], *host = NULL, *port = NULL;
    deliver_status st = DELIVER_TEMPFAIL;
    struct curl_slist *headers = NULL, *resolve = NULL;
    vstring *pin = vstring_alloc(HTTPS_RESOLVE_MAX), *gz = vstring_alloc(0);
    CURL *c = NULL;

    if (!https_curl_ready) {
        if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0) {
            snprintf(why, whylen, "libcurl initialisation failed");
            goto out;
        }
        https_curl_ready = 1;
    }
    CURLU *u = curl_url();
    if (u == NULL || curl_url_set(u, CURLUPART_URL, uri, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) != CURLUE_OK) {
        curl_url_cleanup(u);
        snprintf(why, whylen, "not a usable https URI");
        st = DELIVER_PERMFAIL;
        goto out;
    }
    curl_url_cleanup(u);
    if ((st = https_pin(ctx, host, port, pin, why, whylen)) != DELIVER_OK)
        goto out;
    st = DELIVER_TEMPFAIL;
    if (gz_compress(r->json, r->json_len, gz) < 0) {
        snprintf(why, whylen, "gzip failed");
        goto out;
    }
    if ((c = curl_easy_init()) == NULL) {
        snprintf(why, whylen, "curl_easy_init failed");
        goto out;
    }
    errbuf[0] = 0;
    headers = curl_slist_append(headers, "Content-Type: application/tlsrpt+gzip");
    headers = curl_slist_append(headers, "Expect:"); /* no 100-continue round trip */
    if (vstring_len(pin) > 0)
        resolve = curl_slist_append(resolve, vstring_str(pin));
    curl_easy_setopt(c, CURLOPT_URL, uri);
#if LIBCURL_VERSION_NUM >= 0x075500
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "https");
#else
    curl_easy_setopt(c, CURLOPT_PROTOCOLS, (long)CURLPROTO_HTTPS);
#endif
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(c, CURLOPT_POST, 1L);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, vstring_str(gz));
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)vstring_len(gz));
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
    if (resolve)
        curl_easy_setopt(c, CURLOPT_RESOLVE, resolve);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, (long)ctx->cfg->https_connect_timeout);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, (long)ctx->cfg->https_timeout);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, ctx->cfg->https_verify ? 1L : 0L);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, ctx->cfg->https_verify ? 2L : 0L);
    if (*ctx->cfg->https_ca_file)
        curl_easy_setopt(c, CURLOPT_CAINFO, ctx->cfg->https_ca_file);
    curl_easy_setopt(c, CURLOPT_USERAGENT, PACKAGE_NAME "/" PACKAGE_VERSION);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, https_discard);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
    CURLcode rc = curl_easy_perform(c);
    if (rc != CURLE_OK) {
        snprintf(why, whylen, "%s", errbuf[0] ? errbuf : curl_easy_strerror(rc));
        goto out;
    }
    long code = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
    if (code >= 200 && code < 300) {
        snprintf(why, whylen, "HTTP %ld", code);
        st = DELIVER_OK;
    } else {
        /* RFC 8460 5.4: anything but 2xx is a failure to retry; redirects are not followed. */
        snprintf(why, whylen, "HTTP %ld%s", code,
                 code >= 300 && code < 400 ? " (redirects are not followed)" : "");
    }
out:
    if (c)
        curl_easy_cleanup(c);
    curl_slist_free_all(headers);
    curl_slist_free_all(resolve);
    curl_free(host);
    curl_free(port);
    vstring_free(pin);
    vstring_free(gz);
    return st;
}
