/* opentlsrpt-agent ingest: stores received reports from files (.eml messages, .json or
 * .json.gz), e.g. fetched from an IMAP mailbox, with the parser the milter uses. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "agent.h"
#include "dns.h"
#include "fsutil.h"
#include "gz.h"
#include "inreport.h"
#include "inreport_dkim.h"
#include "msg.h"
#include "report_store.h"

/* Reads all of stdin, refusing more than max bytes; returns 0 or -1. */
static int ingest_stdin(vstring *out, size_t max)
{
    char buf[65536];
    ssize_t n;

    vstring_reset(out);
    while ((n = read(0, buf, sizeof(buf))) != 0) {
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -1;
        if (out->len + (size_t)n > max) {
            errno = EFBIG;
            return -1;
        }
        vstring_append(out, buf, (size_t)n);
    }
    return 0;
}

/* gzip, zip and JSON are recognized by their first bytes, a message by the rest; a file
 * named like a report (.json, .gz, .zip) is taken as one, so a broken one says why. */
static int ingest_one(agent_ctx *ctx, report_store *st, const char *name, const vstring *data,
                      size_t max)
{
    int message = 0;
    char dkim[300] = "none (not a message)";
    const unsigned char *p = (const unsigned char *)data->data;
    size_t i = 0;
    char err[200] = "";
    inreport r;
    inreport_meta meta;
    int ret;

    if (data->len >= 3 && memcmp(p, "\xef\xbb\xbf", 3) == 0)
        i = 3;
    while (i < data->len && (p[i] == ' ' || p[i] == '\t' || p[i] == '\r' || p[i] == '\n'))
        i++;
    memset(&meta, 0, sizeof(meta));
    inreport_init(&r);
    if ((data->len >= 2 && p[0] == 0x1f && p[1] == 0x8b) || gz_is_zip(p, data->len) ||
        (i < data->len && p[i] == '{') || inreport_name_is_report(name)) {
        ret = inreport_parse_payload(&r, data->data, data->len, max, err, sizeof(err)) == 0
                  ? INREPORT_OK
                  : INREPORT_BAD;
    } else {
        message = 1;
        ret = inreport_parse_message(&r, data->data, data->len, max, &meta, err, sizeof(err));
        if (ret == INREPORT_NONE)
            snprintf(err, sizeof(err),
                     "not a TLS-RPT report (no report part, and no "
                     "forwarded message with one)");
    }
    if (ret != INREPORT_OK) {
        msg_error("%s: %s", name, err);
        inreport_done(&r);
        return -1;
    }
    report_store_info info;
    memset(&info, 0, sizeof(info));
    info.received = time(NULL);
    info.source = "ingest";
    info.dkim_aligned = -1;
    if (message) {
        dns_resolver *res = dns_resolver_new(ctx->cfg);
        info.dkim_aligned = inreport_dkim(res, data->data + meta.dkim_offset, meta.dkim_len,
                                          r.submitter, dkim, sizeof(dkim));
        dns_resolver_free(res);
    }
    info.dkim = dkim;
    info.header_domain = meta.report_domain[0] ? meta.report_domain : NULL;
    info.header_submitter = meta.submitter[0] ? meta.submitter : NULL;
    int put = report_store_put(st, &r, &info);
    if (put < 0)
        msg_error("%s: cannot store the report: %m", name);
    else
        printf("%s: %s report %s from %s (%zu policies, dkim=%s%s%s)\n", name,
               put ? "stored" : "duplicate", r.report_id, r.submitter, r.npolicies, dkim,
               info.dkim_aligned == 0 ? ", not aligned with the submitter" : "",
               meta.forwarded ? ", forwarded" : "");
    inreport_done(&r);
    return put < 0 ? -1 : 0;
}

int cmd_ingest(agent_ctx *ctx, int argc, char **argv)
{
    size_t max = (size_t)ctx->cfg->max_report_size;
    /* A message may carry the report base64-encoded and uncompressed. */
    size_t max_file = max + max / 2 + 1024 * 1024;
    int failed = 0;

    if (argc < 2 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
        fprintf(stderr, "usage: opentlsrpt-agent ingest FILE... (.eml, .json, .json.gz, .zip; "
                        "- reads stdin)\n");
        return 2;
    }
    report_store *st = report_store_open(spool_dir(agent_spool(ctx)), max);
    if (st == NULL) {
        msg_error("cannot use the report store in %s: %m", ctx->cfg->spool_directory);
        return 1;
    }
    vstring *data = vstring_alloc(0);
    for (int i = 1; i < argc; i++) {
        int r = strcmp(argv[i], "-") == 0 ? ingest_stdin(data, max_file)
                                          : fsutil_read_file(argv[i], data, max_file);
        if (r < 0) {
            msg_error("%s: %s", argv[i],
                      errno == EFBIG ? "file too large (max_report_size)" : strerror(errno));
            failed++;
            continue;
        }
        failed += ingest_one(ctx, st, argv[i], data, max) < 0;
    }
    vstring_free(data);
    report_store_close(st);
    return failed ? 1 : 0;
}
