#ifndef OTR_DKIM_INT_H
#define OTR_DKIM_INT_H
/* Shared by dkim.c (keys, canonicalization, signing) and dkim_verify.c; not an API. */
#include <stddef.h>

#include "vstring.h"

#define DKIM_MAX_FIELDS 2000 /* header fields of a message we are willing to look at */

typedef struct {
    const char *start; /* header field text, without the final CRLF */
    size_t len;
    int used;
} dkim_field;

typedef struct {
    dkim_field *f;
    size_t n;
    const char *body;
    size_t body_len;
} dkim_msg;

void dkim_why(char *why, size_t whylen, const char *text);
int dkim_wsp(int c);
/* Appends base64 without line breaks. */
void dkim_b64_append(vstring *out, const unsigned char *data, size_t len);
/* Decodes base64 that may contain folding white space; returns the length or -1. */
int dkim_b64_decode(const char *s, size_t len, unsigned char *out, size_t outsize);
/* Splits a CRLF message into header fields (m->f, the caller frees it) and body; returns
 * 0, or -1 when it has too many fields to be a report. */
int dkim_msg_split(const char *msg, size_t len, dkim_msg *m);
/* Is f a field named name (case-insensitively)? */
int dkim_field_is(const dkim_field *f, const char *name, size_t nlen);
/* Appends the canonical forms of the fields named in the colon-separated list h. */
void dkim_hash_headers(dkim_msg *m, const char *h, size_t hlen, int relaxed, vstring *out);
/* A selector: letters, digits, "-", "_" and inner dots, at most DKIM_SELECTOR_MAX. */
int dkim_selector_ok(const char *s);
#endif
