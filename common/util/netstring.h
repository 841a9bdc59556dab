#ifndef OTR_NETSTRING_H
#define OTR_NETSTRING_H
/* Netstrings ("LEN:DATA,"), the framing of Postfix's socketmap protocol. */
#include <stddef.h>

#include "vstring.h"

typedef enum {
    NETSTRING_OK = 0, /* one complete netstring */
    NETSTRING_MORE,   /* a valid prefix: wait for more bytes */
    NETSTRING_ERROR,  /* malformed, or longer than allowed: drop the connection */
} netstring_status;

/* Parses the netstring at the start of buf (len bytes) whose payload may hold at most max
 * bytes. On NETSTRING_OK, data and dlen give the payload (inside buf) and used is the
 * size of the whole netstring. */
netstring_status netstring_parse(const char *buf, size_t len, size_t max, const char **data,
                                 size_t *dlen, size_t *used);
/* Appends the netstring of the len bytes at data to out; returns as vstring_append. */
int netstring_append(vstring *out, const char *data, size_t len);
#endif
