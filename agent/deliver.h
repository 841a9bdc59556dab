#ifndef OTR_DELIVER_H
#define OTR_DELIVER_H
/* Delivery of one report to one rua destination; the state machine (delivery.c) decides
 * what to send when, these functions only send. */
#include <stddef.h>

#include "agent.h"
#include "mailmsg.h"

typedef enum {
    DELIVER_OK = 0,   /* the endpoint accepted it (250 / 2xx / file written) */
    DELIVER_TEMPFAIL, /* try again later */
    DELIVER_PERMFAIL, /* this endpoint will never take it (5xx, bad URI) */
} deliver_status;

/* Loads what mail delivery needs before any send (the DKIM key); returns 0, or -1 after
 * logging (an unreadable or invalid key is a start-up error, never a silent unsigned send). */
int deliver_mail_init(agent_ctx *ctx);
/* Sends r by mail to addr (the addr-spec of a mailto: URI) through smtp_relay. */
deliver_status deliver_mail(agent_ctx *ctx, const mailmsg_report *r, const char *addr, char *why,
                            size_t whylen);
/* POSTs r (gzip) to an https: URI. */
deliver_status deliver_https(agent_ctx *ctx, const mailmsg_report *r, const char *uri, char *why,
                             size_t whylen);
/* Releases what deliver_https keeps between calls (its resolver, libcurl). */
void deliver_https_cleanup(void);
/* deliver_to = file:DIR: writes the complete signed .eml (as deliver_mail would send it to
 * the mailto: URI's address; for an https: URI addressed to "undisclosed-recipients:;")
 * as DIR/<name>.<URI tag>.eml, and the report as DIR/<mailmsg_filename>. */
deliver_status deliver_file(agent_ctx *ctx, const mailmsg_report *r, const char *dir,
                            const char *uri, char *why, size_t whylen);
#endif
