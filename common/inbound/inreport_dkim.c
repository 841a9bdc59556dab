#include "inreport_dkim.h"

#include <stdio.h>
#include <string.h>

#include "dkim.h"

/* Equal, or one is a subdomain of the other: the organizational view senders take. */
static int inreport_dkim_aligned(const char *d, const char *submitter)
{
    size_t dl = strlen(d), sl = strlen(submitter);

    if (dl == 0 || sl == 0)
        return 0;
    if (strcmp(d, submitter) == 0)
        return 1;
    if (sl > dl && submitter[sl - dl - 1] == '.' && strcmp(submitter + sl - dl, d) == 0)
        return 1;
    return dl > sl && d[dl - sl - 1] == '.' && strcmp(d + dl - sl, submitter) == 0;
}

int inreport_dkim(dns_resolver *res, const char *msg, size_t len, const char *submitter, char *out,
                  size_t size)
{
    char domain[256], selector[DKIM_SELECTOR_MAX + 1], why[200], name[512];

    snprintf(out, size, "none");
    for (size_t i = 0; i < INREPORT_DKIM_MAX_SIGS; i++) {
        dkim_result r = dkim_signature_info(msg, len, i, domain, sizeof(domain), selector,
                                            sizeof(selector), why, sizeof(why));
        if (r == DKIM_NONE)
            break;
        if (r != DKIM_PASS) {
            snprintf(out, size, "%s (%s)", dkim_result_name(r), why);
            continue;
        }
        if (res == NULL) {
            snprintf(out, size, "temperror (no resolver for d=%s)", domain);
            continue;
        }
        dns_result dr;
        memset(&dr, 0, sizeof(dr));
        snprintf(name, sizeof(name), "%s._domainkey.%s", selector, domain);
        dns_status st = dns_txt(res, name, &dr);
        if (st != DNS_OK || dr.n == 0) {
            snprintf(out, size, "%s (key %s: %s)", st == DNS_TEMPFAIL ? "temperror" : "permerror",
                     name, dns_status_name(st));
            dns_result_free(&dr);
            continue;
        }
        r = dkim_verify(msg, len, i, dr.rr[0], dr.rrlen[0], why, sizeof(why));
        dns_result_free(&dr);
        if (r == DKIM_PASS) {
            snprintf(out, size, "pass (d=%s)", domain);
            return inreport_dkim_aligned(domain, submitter);
        }
        snprintf(out, size, "%s (d=%s: %s)", dkim_result_name(r), domain, why);
    }
    return -1;
}
