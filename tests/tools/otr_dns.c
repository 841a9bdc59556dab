/* otr-dns: looks names up through common/mail/dns.c, for the shell tests.
 * usage: otr-dns [-c CONF] [-o name=value]... txt|mx|addr|tlsa NAME
 * Prints the status, a "secure" marker, then one record per line (bytes outside printable
 * ASCII as \xNN). */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "dns.h"
#include "msg.h"

static void otr_dns_print(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c < 0x7f && c != '\\')
            putchar(c);
        else
            printf("\\x%02x", c);
    }
    putchar('\n');
}

int main(int argc, char **argv)
{
    const char *path = NULL, *overrides[33];
    size_t no = 0;
    int ch;

    msg_open("otr-dns", MSG_TO_STDERR);
    while ((ch = getopt(argc, argv, "c:o:")) != -1) {
        if (ch == 'c')
            path = optarg;
        else if (ch == 'o' && no < 32)
            overrides[no++] = optarg;
        else
            return 2;
    }
    overrides[no] = NULL;
    if (argc - optind != 2) {
        fprintf(stderr, "usage: otr-dns [-c CONF] [-o name=value] txt|mx|addr|tlsa NAME\n");
        return 2;
    }
    config *cfg = config_load(path ? path : "/dev/null", path != NULL, overrides);
    if (cfg == NULL)
        return 2;
    dns_resolver *r = dns_resolver_new(cfg);
    if (r == NULL)
        return 2;
    const char *type = argv[optind], *name = argv[optind + 1];
    dns_result res;
    if (strcmp(type, "txt") == 0)
        dns_txt(r, name, &res);
    else if (strcmp(type, "mx") == 0)
        dns_mx(r, name, &res);
    else if (strcmp(type, "addr") == 0)
        dns_addr(r, name, &res);
    else if (strcmp(type, "tlsa") == 0)
        dns_tlsa(r, name, &res);
    else
        return 2;
    printf("%s%s\n", dns_status_name(res.status), res.secure ? " secure" : "");
    for (size_t i = 0; i < res.n; i++)
        otr_dns_print(res.rr[i], res.rrlen[i]);
    if (res.status == DNS_TEMPFAIL || res.status == DNS_BOGUS)
        fprintf(stderr, "why: %s\n", res.why);
    dns_result_free(&res);
    dns_resolver_free(r);
    config_free(cfg);
    return 0;
}
