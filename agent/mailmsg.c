/* The RFC 8460 report e-mail (RFC 8460 5.3, reference 1.4). */
#include "mailmsg.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>

#include "dkim.h"
#include "domain.h"
#include "gz.h"
#include "mailaddr.h"
#include "msg.h"
#include "spool.h"

#define MAILMSG_ID_MAX 512

static struct {
    int done, rc;
    dkim_key *key;
} mailmsg_state;

/* RFC 5322 atext. */
static int mailmsg_atext(int c)
{
    return isalnum(c) || (c && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL);
}

/* dot-atom-text of at most max characters. */
static int mailmsg_dot_atom(const char *s, size_t len, size_t max)
{
    if (len == 0 || len > max || s[0] == '.' || s[len - 1] == '.')
        return 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '.' ? s[i + 1] == '.' : !mailmsg_atext(c))
            return 0;
    }
    return 1;
}

/* An A-label domain as it may appear in a header: what domain_normalize keeps unchanged
 * apart from letter case. */
static int mailmsg_domain_ok(const char *d, size_t len)
{
    char norm[DOMAIN_MAX + 2];

    if (len == 0 || len > DOMAIN_MAX)
        return 0;
    for (size_t i = 0; i < len; i++)
        if (!isalnum((unsigned char)d[i]) && d[i] != '-' && d[i] != '.')
            return 0;
    return domain_normalize(d, len, norm, sizeof(norm)) == 0 && strlen(norm) == len &&
           strncasecmp(norm, d, len) == 0 && strchr(norm, '.') != NULL;
}

int mailmsg_addr_valid(const char *addr)
{
    size_t len = strlen(addr);

    return len <= MAILMSG_ADDR_MAX && mailaddr_valid(addr, len);
}

static int mailmsg_hex(int c)
{
    return isdigit(c) ? c - '0' : isxdigit(c) ? tolower(c) - 'a' + 10 : -1;
}

int mailmsg_mailto_addr(const char *uri, char *out, size_t size)
{
    size_t n = 0;

    if (strncasecmp(uri, "mailto:", 7) != 0 || size == 0)
        return -1;
    for (const unsigned char *p = (const unsigned char *)uri + 7; *p && *p != '?'; p++) {
        int c = *p;
        if (c == '%') {
            int h = mailmsg_hex(p[1]), l = h < 0 ? -1 : mailmsg_hex(p[2]);
            if (l < 0)
                return -1;
            c = h * 16 + l;
            p += 2;
        }
        if (c == 0 || n + 1 >= size)
            return -1;
        out[n++] = (char)c;
    }
    out[n] = 0;
    return mailmsg_addr_valid(out) ? 0 : -1;
}

void mailmsg_from(const config *cfg, const char *submitter, char *out, size_t size)
{
    if (cfg->report_from && *cfg->report_from)
        snprintf(out, size, "%s", cfg->report_from);
    else
        snprintf(out, size, "tlsrpt-noreply@%s", submitter);
}

int mailmsg_init(const config *cfg, int warn_unsigned)
{
    char why[512];

    if (mailmsg_state.done)
        return mailmsg_state.rc;
    mailmsg_state.done = 1;
    mailmsg_state.rc = -1;
    if (cfg->report_from && *cfg->report_from && !mailmsg_addr_valid(cfg->report_from)) {
        msg_error("report_from: \"%s\" is not a plain address (local@domain.example)",
                  cfg->report_from);
        return -1;
    }
    int n = (*cfg->dkim_domain != 0) + (*cfg->dkim_selector != 0) + (*cfg->dkim_key_file != 0);
    if (n == 0) {
        if (warn_unsigned)
            msg_warn("dkim_domain, dkim_selector and dkim_key_file are not set: reports go "
                     "out unsigned, and receivers ignore unsigned reports (RFC 8460 3)");
        mailmsg_state.rc = 0;
        return 0;
    }
    if (n != 3) {
        msg_error("dkim_domain, dkim_selector and dkim_key_file must be set together");
        return -1;
    }
    mailmsg_state.key = dkim_key_load(cfg->dkim_key_file, why, sizeof(why));
    if (mailmsg_state.key == NULL) {
        msg_error("dkim_key_file: %s", why);
        return -1;
    }
    /* Sign a token message now, so that a bad domain or selector stops the start. */
    vstring *v = vstring_alloc(0);
    static const char probe[] = "From: a@b.example\r\n\r\n";
    int rc = dkim_sign(mailmsg_state.key, cfg->dkim_domain, cfg->dkim_selector, probe,
                       sizeof(probe) - 1, 0, v, why, sizeof(why));
    vstring_free(v);
    if (rc < 0) {
        msg_error("DKIM: %s", why);
        mailmsg_state.key = dkim_key_free(mailmsg_state.key);
        return -1;
    }
    msg_debug("DKIM: signing as d=%s s=%s with %s", cfg->dkim_domain, cfg->dkim_selector,
              dkim_key_algorithm(mailmsg_state.key));
    mailmsg_state.rc = 0;
    return 0;
}

int mailmsg_signing(void)
{
    return mailmsg_state.key != NULL;
}

void mailmsg_done(void)
{
    mailmsg_state.key = dkim_key_free(mailmsg_state.key);
    mailmsg_state.done = 0;
}

/* RFC 5322 date-time in UTC, independent of the locale. */
static void mailmsg_date(time_t now, char *out, size_t size)
{
    static const char days[7][4] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static const char months[12][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                       "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    struct tm tm;

    gmtime_r(&now, &tm);
    snprintf(out, size, "%s, %02d %s %04d %02d:%02d:%02d +0000", days[tm.tm_wday % 7], tm.tm_mday,
             months[tm.tm_mon % 12], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

/* Base64 in lines of 76 characters (RFC 2045 6.8). */
static void mailmsg_base64(const void *data, size_t len, vstring *out)
{
    const unsigned char *p = data;
    unsigned char line[77];

    while (len > 0) {
        size_t n = len > 57 ? 57 : len;
        int m = EVP_EncodeBlock(line, p, (int)n);
        vstring_append(out, line, (size_t)m);
        vstring_append(out, "\r\n", 2);
        p += n;
        len -= n;
    }
}

void mailmsg_filename(char *out, size_t size, const mailmsg_report *r)
{
    unsigned char digest[32];
    time_t begin = spool_day_parse(r->day);

    /* RFC 8460 5.3: submitter!domain!begin!end!unique; the unique part derives from the
     * report-id so that a resend carries the same name. */
    EVP_Digest(r->report_id, strlen(r->report_id), digest, NULL, EVP_sha256(), NULL);
    snprintf(out, size, "%s!%s!%lld!%lld!%02x%02x%02x%02x%02x%02x.json.gz", r->submitter, r->domain,
             (long long)begin, (long long)begin + 86399, digest[0], digest[1], digest[2], digest[3],
             digest[4], digest[5]);
}

/* Checks what goes into headers; the report came from the spool, so its names came from
 * the network once. */
static int mailmsg_check(const mailmsg_report *r, const char *to, char *why, size_t whylen)
{
    const char *at = strrchr(r->report_id, '@');

    if (spool_day_parse(r->day) == (time_t)-1 || !mailmsg_domain_ok(r->domain, strlen(r->domain)) ||
        !mailmsg_domain_ok(r->submitter, strlen(r->submitter))) {
        snprintf(why, whylen, "report day, domain or submitter unfit for a header");
        return -1;
    }
    if (at == NULL || strlen(r->report_id) > MAILMSG_ID_MAX ||
        !mailmsg_dot_atom(r->report_id, (size_t)(at - r->report_id), MAILMSG_ID_MAX) ||
        !mailmsg_dot_atom(at + 1, strlen(at + 1), MAILMSG_ID_MAX)) {
        snprintf(why, whylen, "report-id unfit for a Message-ID");
        return -1;
    }
    if (to && !mailmsg_addr_valid(to)) {
        snprintf(why, whylen, "recipient is not a plain address (local@domain.example)");
        return -1;
    }
    return 0;
}

int mailmsg_build(const config *cfg, const mailmsg_report *r, const char *to, time_t now,
                  vstring *out, char *why, size_t whylen)
{
    char from[MAILMSG_ADDR_MAX + 64], date[64], fname[1024], boundary[48];
    unsigned char digest[32];

    vstring_reset(out);
    if (mailmsg_check(r, to, why, whylen) < 0)
        return -1;
    mailmsg_from(cfg, r->submitter, from, sizeof(from));
    if (!mailmsg_addr_valid(from)) {
        snprintf(why, whylen, "From address is not a plain address");
        return -1;
    }
    mailmsg_date(now, date, sizeof(date));
    mailmsg_filename(fname, sizeof(fname), r);
    /* The boundary derives from the report-id, so a resend is the same message; base64 and
     * our text never contain "=_". */
    EVP_Digest(r->report_id, strlen(r->report_id), digest, NULL, EVP_sha256(), NULL);
    int bn = snprintf(boundary, sizeof(boundary), "=_otr_");
    for (size_t i = 0; i < 12; i++)
        bn += snprintf(boundary + bn, sizeof(boundary) - (size_t)bn, "%02x", digest[i]);

    vstring *m = vstring_alloc(MAILMSG_MAX);
    vstring_sprintf_append(m, "From: %s\r\n", from);
    if (to)
        vstring_sprintf_append(m, "To: %s\r\n", to);
    else
        vstring_append_str(m, "To: undisclosed-recipients:;\r\n");
    /* RFC 8460 5.3 subject, folded before each part when it would pass 78 characters. */
    size_t slen = strlen(r->domain) + strlen(r->submitter) + strlen(r->report_id) + 50;
    const char *sep = slen > 78 ? "\r\n " : " ";
    vstring_sprintf_append(m, "Subject: Report Domain: %s%sSubmitter: %s%sReport-ID: <%s>\r\n",
                           r->domain, sep, r->submitter, sep, r->report_id);
    vstring_sprintf_append(m, "Date: %s\r\n", date);
    vstring_sprintf_append(m, "Message-ID: <%s>\r\n", r->report_id);
    vstring_append_str(m, "MIME-Version: 1.0\r\n");
    vstring_sprintf_append(m,
                           "Content-Type: multipart/report; report-type=\"tlsrpt\";\r\n"
                           "\tboundary=\"%s\"\r\n",
                           boundary);
    vstring_sprintf_append(m, "TLS-Report-Domain: %s\r\n", r->domain);
    vstring_sprintf_append(m, "TLS-Report-Submitter: %s\r\n", r->submitter);
    /* RFC 8689: deliver even when the receiver's STARTTLS, MTA-STS or DANE is broken. */
    vstring_append_str(m, "TLS-Required: No\r\n");
    vstring_append_str(m, "Auto-Submitted: auto-generated\r\n");
    vstring_append_str(m, "\r\nThis is an SMTP TLS report (RFC 8460) in MIME format.\r\n");

    vstring_sprintf_append(m,
                           "\r\n--%s\r\n"
                           "Content-Type: text/plain; charset=us-ascii\r\n"
                           "Content-Transfer-Encoding: 7bit\r\n\r\n",
                           boundary);
    vstring_sprintf_append(m,
                           "This is an aggregate SMTP TLS report (RFC 8460) from %s\r\n"
                           "for the domain %s, covering %s from 00:00:00 to 23:59:59 UTC.\r\n"
                           "\r\n"
                           "Successful TLS sessions: %llu\r\n"
                           "Failed TLS sessions:     %llu\r\n"
                           "\r\n"
                           "The report is attached as application/tlsrpt+gzip:\r\n"
                           "%s\r\n",
                           r->submitter, r->domain, r->day, (unsigned long long)r->ok,
                           (unsigned long long)r->failed, fname);

    vstring_sprintf_append(m,
                           "\r\n--%s\r\n"
                           "Content-Type: application/tlsrpt+gzip;\r\n\tname=\"%s\"\r\n"
                           "Content-Transfer-Encoding: base64\r\n"
                           "Content-Disposition: attachment;\r\n\tfilename=\"%s\"\r\n\r\n",
                           boundary, fname, fname);
    vstring *gz = vstring_alloc(0);
    int rc = gz_compress(r->json, r->json_len, gz);
    if (rc == 0)
        mailmsg_base64(gz->data, gz->len, m);
    vstring_free(gz);
    vstring_sprintf_append(m, "\r\n--%s--\r\n", boundary);
    if (rc < 0 || m->overflow) {
        snprintf(why, whylen, rc < 0 ? "gzip failed" : "message too large");
        vstring_free(m);
        return -1;
    }

    if (mailmsg_state.key) {
        if (dkim_sign(mailmsg_state.key, cfg->dkim_domain, cfg->dkim_selector, m->data, m->len, now,
                      out, why, whylen) < 0) {
            vstring_free(m);
            return -1;
        }
    }
    vstring_append(out, m->data, m->len);
    vstring_free(m);
    return 0;
}
