#ifndef OTR_MAILADDR_H
#define OTR_MAILADDR_H
/* E-mail addresses taken from DNS data, checked before they reach an envelope or a header. */
#include <stddef.h>

/* Returns 1 when the len bytes are an RFC 5322 addr-spec we are willing to use: a dot-atom
 * or quoted local part (printable ASCII, no space, comma, angle bracket, CR or LF) "@" an
 * ASCII host name (LDH labels, A-labels for IDNs); 0 otherwise. */
int mailaddr_valid(const char *addr, size_t len);
#endif
