#include "inreport.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "gz.h"
#include "inreport_int.h"
#include "mime.h"
#include "utf8.h"
#include "vstring.h"

/* A UTF-8 byte-order mark is no part of the JSON text (RFC 8259 8.1 lets a parser ignore
 * it), and some senders' tools write one. */
#define INREPORT_INFLATE_FIRST (256 * 1024)

static size_t inreport_bom(const void *data, size_t len)
{
    return len >= 3 && memcmp(data, "\xef\xbb\xbf", 3) == 0 ? 3 : 0;
}

/* Keeps the text a report was parsed from, repaired to valid UTF-8 (it is stored as a
 * JSON string), when it is at most INREPORT_RAW_MAX: a larger one is kept normalized only,
 * so that what a report costs to store stays a small multiple of it. Returns as
 * inreport_parse_json (-2: the budget is short). */
static int inreport_keep_raw(inreport *r, const char *text, size_t len, char *err, size_t errsize)
{
    if (len > INREPORT_RAW_MAX)
        return 0;
    vstring *v = vstring_alloc(0);
    utf8_repair(v, text, len);
    r->raw = arena_strndup(&r->mem, v->data, v->len);
    vstring_free(v);
    if (inreport_account(r, err, errsize) < 0) {
        inreport_reset(r);
        return -2;
    }
    return 0;
}

int inreport_parse_payload(inreport *r, const void *data, size_t len, size_t max, char *err,
                           size_t errsize)
{
    const unsigned char *p = data;
    int ret;

    if ((len >= 2 && p[0] == 0x1f && p[1] == 0x8b) || gz_is_zip(data, len)) {
        /* What the inflated text may grow to is taken from the budget first: a little,
         * then four times more each time it does not fit, up to max (so that a small
         * report costs little of the budget whatever max_report_size is); then what its
         * buffer really holds. */
        size_t taken = max < INREPORT_INFLATE_FIRST ? max : INREPORT_INFLATE_FIRST;
        vstring *json = vstring_alloc(0);
        int zip = gz_is_zip(data, len), st;
        for (;;) {
            if (inreport_take(r, taken, err, errsize) < 0) {
                inreport_reset(r);
                vstring_free(json);
                return -2;
            }
            st = zip ? gz_unzip_first(data, len, taken, json)
                     : gz_decompress(data, len, taken, json);
            if (st == 0 || errno != EFBIG || taken == max)
                break;
            inreport_give(r, taken);
            taken = taken > max / 4 ? max : 4 * taken;
        }
        if (st < 0) {
            inreport_err(err, errsize,
                         errno == EFBIG ? "report larger than max_report_size once inflated"
                         : zip          ? "invalid, truncated or encrypted zip data"
                                        : "invalid or truncated gzip data");
            inreport_reset(r);
            vstring_free(json);
            inreport_give(r, taken);
            return -1;
        }
        if (json->cap > taken && inreport_take(r, json->cap - taken, err, errsize) < 0) {
            ret = -2;
        } else {
            if (json->cap > taken)
                taken = json->cap;
            size_t skip = inreport_bom(json->data, json->len);
            ret = inreport_parse_json(r, json->data + skip, json->len - skip, err, errsize);
            if (ret == 0)
                ret = inreport_keep_raw(r, json->data + skip, json->len - skip, err, errsize);
        }
        vstring_free(json);
        inreport_give(r, taken);
        return ret;
    }
    if (len > max) {
        inreport_err(err, errsize, "report larger than max_report_size");
        inreport_reset(r);
        return -1;
    }
    size_t skip = inreport_bom(data, len);
    ret = inreport_parse_json(r, (const char *)data + skip, len - skip, err, errsize);
    if (ret == 0)
        ret = inreport_keep_raw(r, (const char *)data + skip, len - skip, err, errsize);
    return ret;
}

/* How surely a part is the report: by its type, or only by its file name. */
#define INREPORT_PART_NONE   0
#define INREPORT_PART_NAME   1 /* generic type and a report-like name, outside a report */
#define INREPORT_PART_REPORT 2 /* a report type, or a report-like name inside a report */

typedef struct inreport_scan {
    int tlsrpt_report; /* a multipart/report with report-type=tlsrpt was seen */
    mime_part part;    /* copy of the surest report part, the first of its kind */
    int found;         /* INREPORT_PART_* of part */
    mime_part forward; /* the first message/rfc822 part, when forward_ok */
    int forward_ok;
    vstring *tmp;
    char filename[256];
} inreport_scan;

int inreport_name_is_report(const char *name)
{
    size_t n = strlen(name);
    return (n > 5 && strcasecmp(name + n - 5, ".json") == 0) ||
           (n > 3 && strcasecmp(name + n - 3, ".gz") == 0) ||
           (n > 4 && strcasecmp(name + n - 4, ".zip") == 0);
}

/* Types that say nothing about what the part holds: its file name has to. */
static int inreport_type_generic(const char *type)
{
    static const char *const generic[] = {
        "application/gzip",
        "application/x-gzip",
        "application/json",
        "application/zip",
        "application/x-zip-compressed",
        "application/x-zip",
        "application/octet-stream",
        "text/plain",
        "text/json",
    };
    for (size_t i = 0; i < sizeof(generic) / sizeof(generic[0]); i++)
        if (strcmp(type, generic[i]) == 0)
            return 1;
    return 0;
}

static int inreport_type_tlsrpt(const char *type)
{
    return strcmp(type, "application/tlsrpt+gzip") == 0 ||
           strcmp(type, "application/tlsrpt+json") == 0 || strcmp(type, "application/tlsrpt") == 0;
}

static int inreport_scan_part(const mime_part *p, void *ctx)
{
    inreport_scan *s = ctx;

    if (strcmp(p->type, "multipart/report") == 0 &&
        mime_param(p->content_type, "report-type", s->tmp) &&
        strcasecmp(s->tmp->data, "tlsrpt") == 0)
        s->tlsrpt_report = 1;
    /* A forwarded message is kept whole for DKIM: only an identity encoding allows that,
     * and RFC 2046 5.2.1 allows no other. */
    if (!s->forward_ok && p->depth > 0 && strcmp(p->type, "message/rfc822") == 0 &&
        (p->encoding[0] == 0 || strcmp(p->encoding, "7bit") == 0 ||
         strcmp(p->encoding, "8bit") == 0 || strcmp(p->encoding, "binary") == 0)) {
        s->forward = *p;
        s->forward_ok = 1;
    }
    if (s->found == INREPORT_PART_REPORT || strncmp(p->type, "multipart/", 10) == 0)
        return 0;
    char name[256] = "";
    vstring *cd = vstring_alloc(0);
    if ((mime_header(p->headers, p->headers_len, "Content-Disposition", cd) &&
         mime_param(cd->data, "filename", s->tmp)) ||
        mime_param(p->content_type, "name", s->tmp))
        snprintf(name, sizeof(name), "%s", s->tmp->data);
    vstring_free(cd);
    int kind = INREPORT_PART_NONE;
    if (inreport_type_tlsrpt(p->type))
        kind = INREPORT_PART_REPORT;
    else if (p->depth > 0 && inreport_type_generic(p->type) && inreport_name_is_report(name))
        kind = s->tlsrpt_report ? INREPORT_PART_REPORT : INREPORT_PART_NAME;
    if (kind > s->found) {
        s->part = *p;
        s->found = kind;
        memcpy(s->filename, name, sizeof(s->filename));
    }
    return 0;
}

int inreport_type_is_report(const char *content_type)
{
    const char *p = content_type;
    while (*p == ' ' || *p == '\t')
        p++;
    size_t n = strcspn(p, "; \t\r\n(");
    if ((n == 23 && (strncasecmp(p, "application/tlsrpt+gzip", n) == 0 ||
                     strncasecmp(p, "application/tlsrpt+json", n) == 0)) ||
        (n == 18 && strncasecmp(p, "application/tlsrpt", n) == 0))
        return 1;
    if (n != 16 || strncasecmp(p, "multipart/report", n) != 0)
        return 0;
    vstring *tmp = vstring_alloc(0);
    int ret = mime_param(content_type, "report-type", tmp) && strcasecmp(tmp->data, "tlsrpt") == 0;
    vstring_free(tmp);
    return ret;
}

int inreport_message_is_report(const char *msg, size_t len)
{
    inreport_scan s;

    memset(&s, 0, sizeof(s));
    s.tmp = vstring_alloc(0);
    /* A cut message still shows the parts before the cut: a failed walk decides nothing. */
    (void)mime_walk(msg, len, inreport_scan_part, &s, NULL);
    vstring_free(s.tmp);
    return s.tlsrpt_report || s.found == INREPORT_PART_REPORT;
}

static void inreport_meta_field(const char *h, size_t hlen, const char *name, vstring *tmp,
                                char *out, size_t size, int domain)
{
    out[0] = 0;
    if (!mime_header(h, hlen, name, tmp))
        return;
    if (domain) {
        if (domain_normalize(tmp->data, tmp->len, out, size) < 0)
            out[0] = 0;
        return;
    }
    arena a;
    arena_init(&a, 1024);
    const char *c = inreport_clean(&a, tmp->data, tmp->len);
    snprintf(out, size, "%s", c ? c : "");
    arena_destroy(&a);
}

static void inreport_meta_headers(inreport_meta *meta, const char *msg, size_t len, vstring *tmp)
{
    const char *body;
    size_t hlen = mime_split(msg, len, MIME_MAX_HEADER, &body);
    if (hlen == (size_t)-1)
        hlen = 0;
    inreport_meta_field(msg, hlen, "TLS-Report-Domain", tmp, meta->report_domain,
                        sizeof(meta->report_domain), 1);
    inreport_meta_field(msg, hlen, "TLS-Report-Submitter", tmp, meta->submitter,
                        sizeof(meta->submitter), 1);
    inreport_meta_field(msg, hlen, "Subject", tmp, meta->subject, sizeof(meta->subject), 0);
    meta->filename[0] = 0;
}

/* Decodes and parses the part s found; returns INREPORT_*. */
static int inreport_parse_part(inreport *r, inreport_scan *s, size_t max, inreport_meta *meta,
                               char *err, size_t errsize)
{
    int ret;

    if (meta) {
        arena a;
        arena_init(&a, 1024);
        const char *c = inreport_clean(&a, s->filename, strlen(s->filename));
        snprintf(meta->filename, sizeof(meta->filename), "%s", c ? c : "");
        arena_destroy(&a);
    }
    /* A base64 body is 4/3 of its content: decoding never needs more than that. Decoded,
     * it is no larger than as sent; its buffer may be twice what it holds. */
    size_t taken = 2 * s->part.body_len + 4096;
    if (inreport_take(r, taken, err, errsize) < 0)
        return INREPORT_TEMP;
    vstring *body = vstring_alloc(max + max / 2 + 4096);
    if (mime_decode(&s->part, body) < 0) {
        inreport_err(err, errsize, "report part larger than max_report_size");
        ret = INREPORT_BAD;
    } else {
        int st = inreport_parse_payload(r, body->data, body->len, max, err, errsize);
        ret = st == 0 ? INREPORT_OK : st == -2 ? INREPORT_TEMP : INREPORT_BAD;
    }
    /* Without a usable contact-info the TLS-Report-Submitter header names the submitter. */
    if (ret == INREPORT_OK && meta && meta->submitter[0] &&
        inreport_submitter(&r->mem, r->contact) == NULL)
        r->submitter = arena_strdup(&r->mem, meta->submitter);
    vstring_free(body);
    inreport_give(r, taken);
    return ret;
}

/* The message at msg (forwarded when nested: its own forwards are not followed). */
static int inreport_parse_at(inreport *r, const char *msg, size_t len, size_t max,
                             inreport_meta *meta, int nested, char *err, size_t errsize)
{
    inreport_scan s;
    const char *why = NULL;
    int ret;

    memset(&s, 0, sizeof(s));
    s.tmp = vstring_alloc(0);
    inreport_reset(r);
    if (meta)
        inreport_meta_headers(meta, msg, len, s.tmp);
    if (mime_walk(msg, len, inreport_scan_part, &s, &why) < 0) {
        vstring_free(s.tmp);
        /* An ordinary message may be odd too; only a report's oddity is its sender's bug. */
        if (!s.tlsrpt_report && s.found != INREPORT_PART_REPORT)
            return INREPORT_NONE;
        inreport_err(err, errsize, why ? why : "unreadable MIME structure");
        return INREPORT_BAD;
    }
    if (s.found == INREPORT_PART_REPORT) {
        ret = inreport_parse_part(r, &s, max, meta, err, errsize);
        vstring_free(s.tmp);
        return ret;
    }
    /* A report forwarded as an attachment: the forwarded message is what its sender sent,
     * its headers and DKIM signature included. */
    if (!nested && s.forward_ok) {
        inreport_meta inner;
        memset(&inner, 0, sizeof(inner));
        ret =
            inreport_parse_at(r, s.forward.body, s.forward.body_len, max, &inner, 1, err, errsize);
        if (ret != INREPORT_NONE) {
            if (meta) {
                *meta = inner;
                meta->forwarded = 1;
                meta->dkim_offset = (size_t)(s.forward.body - msg);
                meta->dkim_len = s.forward.body_len;
            }
            vstring_free(s.tmp);
            return ret;
        }
        if (meta)
            inreport_meta_headers(meta, msg, len, s.tmp);
    }
    /* Only a name says it is a report: take it when it parses as one, else it was some
     * other attachment of ordinary mail. */
    if (s.found == INREPORT_PART_NAME) {
        ret = inreport_parse_part(r, &s, max, meta, err, errsize);
        vstring_free(s.tmp);
        if (ret == INREPORT_OK || ret == INREPORT_TEMP || s.tlsrpt_report)
            return ret;
        inreport_reset(r);
        return INREPORT_NONE;
    }
    vstring_free(s.tmp);
    if (!s.tlsrpt_report)
        return INREPORT_NONE;
    inreport_err(err, errsize, "multipart/report without a report part");
    return INREPORT_BAD;
}

int inreport_parse_message(inreport *r, const char *msg, size_t len, size_t max,
                           inreport_meta *meta, char *err, size_t errsize)
{
    if (meta) {
        memset(meta, 0, sizeof(*meta));
        meta->dkim_len = len;
    }
    return inreport_parse_at(r, msg, len, max, meta, 0, err, errsize);
}
