#ifndef OTR_MAILMSG_H
#define OTR_MAILMSG_H
/* The RFC 8460 report e-mail: multipart/report with a short text part and the gzip report,
 * headers as RFC 8460 3 and 5.3 ask, DKIM-signed when a key is configured. deliver_mail
 * sends it, deliver_file stores it (deliver.h). */
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "config.h"
#include "vstring.h"

#define MAILMSG_ADDR_MAX 254 /* RFC 5321 path limit, without the angle brackets */
#define MAILMSG_MAX      (16 * 1024 * 1024)

typedef struct mailmsg_report {
    const char *day;       /* YYYY-MM-DD, the UTC day covered */
    const char *domain;    /* report (policy) domain, A-label */
    const char *report_id; /* stable for (day, domain): retries carry the same id */
    const char *submitter;
    const char *json; /* the report, compact JSON */
    size_t json_len;
    uint64_t ok, failed; /* session totals, for the human-readable part */
} mailmsg_report;

/* Loads the DKIM key when dkim_domain, dkim_selector and dkim_key_file are all set and
 * checks report_from; returns 0, or -1 after logging (a start-up error). Without DKIM
 * settings, warns that receivers ignore unsigned reports when warn_unsigned is set. Once
 * per process; later calls return the first result. */
int mailmsg_init(const config *cfg, int warn_unsigned);
/* Whether messages will be signed (mailmsg_init found a key). */
int mailmsg_signing(void);
/* Frees the key (for tests and leak checkers). */
void mailmsg_done(void);

/* Is addr an addr-spec we may copy into a header and an SMTP envelope (mailaddr_valid, and
 * short enough for an SMTP path)? */
int mailmsg_addr_valid(const char *addr);
/* Extracts the address of a mailto: URI (RFC 6068: the part before "?", percent-decoded)
 * into out; returns 0, or -1 when it is not one valid address. */
int mailmsg_mailto_addr(const char *uri, char *out, size_t size);
/* The envelope sender and From address: report_from, or tlsrpt-noreply@<submitter>. */
void mailmsg_from(const config *cfg, const char *submitter, char *out, size_t size);

/* The RFC 8460 attachment name: <submitter>!<domain>!<begin>!<end>!<unique>.json.gz. */
void mailmsg_filename(char *out, size_t size, const mailmsg_report *r);
/* Builds the complete message of report r for the recipient to (an addr-spec, or NULL for
 * "undisclosed-recipients:;"), dated now, signed when a key is loaded; replaces out.
 * Returns 0, or -1 with why (a value that cannot go into a header, a signing failure). */
int mailmsg_build(const config *cfg, const mailmsg_report *r, const char *to, time_t now,
                  vstring *out, char *why, size_t whylen);
#endif
