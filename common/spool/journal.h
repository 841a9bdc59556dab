#ifndef OTR_JOURNAL_H
#define OTR_JOURNAL_H
/*
 * Journal files: append-only sequences of self-delimiting, checksummed records.
 * Record = magic "OTRJ" (4 bytes) | payload length (u32 LE) | CRC-32 of length+payload
 * (u32 LE) | payload. A reader that meets a bad record resynchronises on the next magic.
 */
#include <stddef.h>
#include <stdint.h>

#include "vstring.h"

#define JOURNAL_MAGIC      "OTRJ"
#define JOURNAL_HEADER     12
#define JOURNAL_MAX_RECORD (1024 * 1024)

/* Appends one framed record holding payload to out. */
void journal_frame(vstring *out, const void *payload, size_t len);

typedef struct journal_stats {
    uint64_t records;     /* good records delivered */
    uint64_t bad_records; /* corrupt stretches skipped */
    uint64_t bad_bytes;   /* bytes skipped in them */
    int torn_tail;        /* the file ended inside a record */
} journal_stats;

/* For a writer reopening its journal after a crash: cuts an incomplete record at the end of
 * the file (fd open for writing). Returns the bytes removed (0 when the end is clean), or
 * -1 on I/O error. */
long journal_repair_tail(int fd);

/* Calls fn on each good record of the file at path, in order; fn returning non-zero stops.
 * Corruption is reported once per file with msg_warn and skipped. Returns 0, or -1 when the
 * file cannot be read (errno set). */
int journal_read_file(const char *path, int (*fn)(const void *payload, size_t len, void *ctx),
                      void *ctx, journal_stats *stats);
/* The same from byte offset on, which must be where a record starts. */
int journal_read_file_at(const char *path, uint64_t offset,
                         int (*fn)(const void *payload, size_t len, void *ctx), void *ctx,
                         journal_stats *stats);

#define JOURNAL_READ_LIVE 1 /* the file is being written: an incomplete end is no news */
/* journal_read_file_at for a reader that keeps its own position (the fleet shipper): *end
 * is, during each call of fn, the offset just past that record, and at return the offset
 * past the last good record read (where the next read starts). */
int journal_read_file_from(const char *path, uint64_t offset, int flags,
                           int (*fn)(const void *payload, size_t len, void *ctx), void *ctx,
                           journal_stats *stats, uint64_t *end);
#endif
