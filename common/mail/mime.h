#ifndef OTR_MIME_H
#define OTR_MIME_H
/*
 * A bounded MIME (RFC 2045/2046) walker for received mail: header blocks with folding,
 * nested multiparts, base64 and quoted-printable bodies. It never copies the message; parts
 * point into the caller's buffer. Hard caps on depth, parts and header size make any input
 * cost at most a few passes over its bytes.
 */
#include <stddef.h>

#include "vstring.h"

#define MIME_MAX_DEPTH  8     /* nested multiparts */
#define MIME_MAX_PARTS  256   /* parts of any kind in one message */
#define MIME_MAX_HEADER 65536 /* bytes in one part's header block */
#define MIME_MAX_VALUE  4096  /* bytes kept of one unfolded header value */
#define MIME_TYPE_MAX   128

typedef struct mime_part {
    int depth;           /* 0: the message itself */
    const char *headers; /* raw header block, without the empty line */
    size_t headers_len;
    const char *body; /* raw (still encoded) body */
    size_t body_len;
    char type[MIME_TYPE_MAX]; /* "type/subtype", lower case; "text/plain" by default */
    char encoding[32];        /* Content-Transfer-Encoding, lower case; "" when absent */
    const char *content_type; /* unfolded Content-Type value ("" when absent) */
} mime_part;

/* Calls fn on every part, containers before their children, in message order; fn returning
 * non-zero stops the walk. Returns 0, the value fn returned, or -1 when a cap was hit
 * (*why, if not NULL, then names it). */
int mime_walk(const char *msg, size_t len, int (*fn)(const mime_part *p, void *ctx), void *ctx,
              const char **why);
/* Puts the unfolded value of the first header name (case-insensitive) of the block into out
 * (replacing it, at most MIME_MAX_VALUE bytes); returns 1 when found, else 0. */
int mime_header(const char *headers, size_t len, const char *name, vstring *out);
/* Puts the value of parameter name of a structured header value (`type; a=b; c="d"`) into
 * out (replacing it); returns 1 when found, else 0. */
int mime_param(const char *value, const char *name, vstring *out);
/* Appends the decoded body of p to out (bounded by out->max); returns 0, or -1 when out
 * overflowed. Unknown encodings are copied as they are. */
int mime_decode(const mime_part *p, vstring *out);
/* Finds the end of the header block at msg: sets *body to where the body starts; returns the
 * length of the header block, or (size_t)-1 when the block is longer than max. */
size_t mime_split(const char *msg, size_t len, size_t max, const char **body);
#endif
