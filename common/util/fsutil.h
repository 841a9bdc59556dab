#ifndef OTR_FSUTIL_H
#define OTR_FSUTIL_H
/* File system helpers shared by every module that keeps files. */
#include <stddef.h>
#include <sys/types.h>

#include "vstring.h"

/* Creates dir and its missing parents with mode; returns 0, or -1 (errno set). */
int fsutil_mkdirs(const char *dir, mode_t mode);
/* Replaces path with data atomically (temp file, fsync, rename, fsync of the directory);
 * returns 0, or -1 (errno set). */
int fsutil_write_atomic(const char *path, const void *data, size_t len, mode_t mode);
/* Reads the whole file into out (replacing it), refusing files over max bytes; returns 0,
 * or -1 (errno set; EFBIG when too large). */
int fsutil_read_file(const char *path, vstring *out, size_t max);
/* Reads up to size - 1 bytes of a small file (/proc, /sys) into buf, NUL-terminated;
 * returns how many, or -1. */
ssize_t fsutil_read_small(const char *path, char *buf, size_t size);
/* fsyncs the directory holding path; returns 0 or -1. */
int fsutil_sync_parent(const char *path);
/* Writes all len bytes, retrying on EINTR and short writes; returns 0 or -1. */
int fsutil_write_all(int fd, const void *data, size_t len);
#endif
