#ifndef OTR_TLSRPT_RECORD_H
#define OTR_TLSRPT_RECORD_H
/* The TLSRPT policy record (RFC 8460 section 3, TXT at _smtp._tls.<domain>): where a
 * domain wants its reports. */
#include <stddef.h>

#define TLSRPT_RECORD_MAX 4096 /* bytes of one record (its strings concatenated) */
#define TLSRPT_MAX_URIS   32   /* usable rua URIs kept; further ones are ignored */

typedef enum {
    TLSRPT_URI_MAILTO,
    TLSRPT_URI_HTTPS,
} tlsrpt_uri_kind;

typedef struct tlsrpt_uri {
    tlsrpt_uri_kind kind;
    char *uri;    /* as published (percent-encoding kept): names the endpoint in state, logs */
    char *target; /* mailto: the decoded addr-spec; https: the URI itself */
    char *host;   /* mailto: the address's domain; https: the URI's host (lower case) */
} tlsrpt_uri;

typedef struct tlsrpt_record {
    size_t n;
    tlsrpt_uri uris[TLSRPT_MAX_URIS];
    size_t nnotes;
    char *notes[TLSRPT_MAX_URIS]; /* why URIs were skipped, one line each, printable ASCII */
} tlsrpt_record;

/* Parses the len bytes of a record into rec (which the caller frees with
 * tlsrpt_record_free, whatever the result). Returns 0 when the record is valid (rec->n may
 * still be 0 when none of its URIs is usable), or -1 with the reason in why. */
int tlsrpt_record_parse(const char *txt, size_t len, tlsrpt_record *rec, char *why, size_t whylen);
void tlsrpt_record_free(tlsrpt_record *rec);
#endif
