#ifndef OTR_LOGFOLLOW_H
#define OTR_LOGFOLLOW_H
/*
 * Following a log file like `tail -F`: survives rotation by rename (the rest of the old file
 * is read first) and by truncation, waits for a missing file to appear, and resumes after a
 * restart from a saved position (device, inode, offset), also when the file was rotated to
 * PATH.1 meanwhile. "-" follows standard input (a pipe from journalctl or syslog).
 * Positions are stream positions: LOGFOLLOW_GEN(pos) counts the files read since open.
 */
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define LOGFOLLOW_POS(gen, off) (((uint64_t)(gen) << 44) | (uint64_t)(off))
#define LOGFOLLOW_GEN(pos)      ((pos) >> 44)
#define LOGFOLLOW_OFF(pos)      ((pos) & ((UINT64_C(1) << 44) - 1))

typedef struct logfollow logfollow;

/* Starts following path ("-": stdin); the saved position is the document LOGFOLLOW_STATE
 * of the spool at state_root (NULL: none).
 * Without a saved position an existing file is read from its end, a new one from its
 * start. The caller frees with logfollow_close. */
#define LOGFOLLOW_NOTE_MAX 64

#define LOGFOLLOW_STATE "log-follow.state" /* in the spool's top area */

logfollow *logfollow_open(const char *path, const char *state_root);
logfollow *logfollow_close(logfollow *f);
/* Reads new data into buf: returns the bytes read (the stream position of the first one is
 * logfollow_pos before the call), 0 when there is nothing new yet (after waiting
 * timeout_ms), -1 at the end of a pipe. */
ssize_t logfollow_read(logfollow *f, char *buf, size_t size, int timeout_ms);
/* The stream position of the next byte logfollow_read returns. */
uint64_t logfollow_pos(const logfollow *f);
/* Bytes of the file being read not read yet (an fstat; 0 for a pipe). */
uint64_t logfollow_behind(const logfollow *f);
/* After open: outcomes of lines ending at or before this position were already stored by
 * the previous run (they are re-read only to rebuild sessions); 0 when none. */
uint64_t logfollow_done(const logfollow *f);
/* Saves where a restart resumes (resume) and what is stored (done), with the caller's note
 * (up to LOGFOLLOW_NOTE_MAX bytes, no newline; NULL: none); atomic. 0 or -1. */
int logfollow_save(logfollow *f, uint64_t resume, uint64_t done, const char *note);
/* After open: the note saved with the position reading resumes from; "" when none. */
const char *logfollow_note(const logfollow *f);
#endif
