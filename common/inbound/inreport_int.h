#ifndef OTR_INREPORT_INT_H
#define OTR_INREPORT_INT_H
/* Shared by the parts of the received-report parser: inreport_json.c (the report object,
 * JSON) defines these, inreport.c (MIME, mail) uses them; not for other modules. */
#include <stddef.h>

#include "inreport.h"

/* Forgets the report in r (its arena kept for reuse) and gives its memory back to the
 * budget. */
void inreport_reset(inreport *r);
void inreport_err(char *err, size_t size, const char *what);
/* A copy that is valid UTF-8, has no control characters and is at most INREPORT_MAX_FIELD
 * bytes; NULL for NULL or "". Owned by a. */
const char *inreport_clean(arena *a, const char *s, size_t len);
/* The domain of a contact-info, normalized (owned by a), or NULL. */
const char *inreport_submitter(arena *a, const char *contact);
/* Takes n bytes from r's budget (none set: always granted); returns 0, or -1 with the reason
 * in err. */
int inreport_take(inreport *r, size_t n, char *err, size_t errsize);
void inreport_give(inreport *r, size_t n);
/* Takes what r's arena grew by since last counted; returns 0, or -1 (reason in err). */
int inreport_account(inreport *r, char *err, size_t errsize);
#endif
