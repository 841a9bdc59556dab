#ifndef OTR_DGRAM_H
#define OTR_DGRAM_H
/* Decoder of the libtlsrpt datagrams Postfix >= 3.10 sends (reference section 4). */
#include <stddef.h>

#include "outcome.h"

#define DGRAM_MAX_SIZE (256 * 1024) /* larger datagrams are refused whole */

typedef enum {
    DGRAM_OK = 0,
    DGRAM_ERR_JSON,    /* not a JSON object */
    DGRAM_ERR_VERSION, /* dpv not "1" (absent is "1") */
    DGRAM_ERR_TYPE,    /* a field of the wrong JSON type */
    DGRAM_ERR_CODE,    /* unknown policy type or result code */
    DGRAM_ERR_SIZE,    /* datagram, string or array over its limit */
    DGRAM_ERR_DOMAIN,  /* report or policy domain not a valid host name */
    DGRAM_ERR_MISSING, /* a required field is absent */
    DGRAM_NSTATUS
} dgram_status;

typedef struct dgram_decoder dgram_decoder;

/* Returns a decoder (reusable, one per thread) the caller frees with dgram_decoder_free. */
dgram_decoder *dgram_decoder_new(void);
dgram_decoder *dgram_decoder_free(dgram_decoder *d);
/* Decodes one datagram into o (cleared first; o->received is left for the caller).
 * *repaired counts the invalid UTF-8 sequences and NULs replaced. No string decoded holds a
 * C0 or C1 control character: each becomes a space. */
dgram_status dgram_decode(dgram_decoder *d, const void *buf, size_t len, outcome *o,
                          size_t *repaired);
/* Short name of a status for logs and counters, e.g. "not-json". */
const char *dgram_status_name(dgram_status status);
#endif
