#include "journal.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "msg.h"
#include "mymalloc.h"

static void put_u32(unsigned char *p, uint32_t v)
{
    p[0] = v & 0xff;
    p[1] = (v >> 8) & 0xff;
    p[2] = (v >> 16) & 0xff;
    p[3] = (v >> 24) & 0xff;
}

static uint32_t get_u32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint32_t journal_crc(const unsigned char *lenbytes, const void *payload, size_t len)
{
    uLong crc = crc32(0L, Z_NULL, 0);

    crc = crc32(crc, lenbytes, 4);
    crc = crc32(crc, payload, (uInt)len);
    return (uint32_t)crc;
}

void journal_frame(vstring *out, const void *payload, size_t len)
{
    unsigned char hdr[JOURNAL_HEADER];

    memcpy(hdr, JOURNAL_MAGIC, 4);
    put_u32(hdr + 4, (uint32_t)len);
    put_u32(hdr + 8, journal_crc(hdr + 4, payload, len));
    vstring_append(out, hdr, sizeof(hdr));
    vstring_append(out, payload, len);
}

/* Returns the length of the good record at p (n bytes available), 0 when more bytes are
 * needed to tell, or -1 when the bytes at p are not a good record. */
static long journal_check(const unsigned char *p, size_t n)
{
    if (n < 4)
        return memcmp(p, JOURNAL_MAGIC, n) == 0 ? 0 : -1;
    if (memcmp(p, JOURNAL_MAGIC, 4) != 0)
        return -1;
    if (n < JOURNAL_HEADER)
        return 0;
    uint32_t len = get_u32(p + 4);
    if (len > JOURNAL_MAX_RECORD)
        return -1;
    if (n < JOURNAL_HEADER + (size_t)len)
        return 0;
    if (journal_crc(p + 4, p + JOURNAL_HEADER, len) != get_u32(p + 8))
        return -1;
    return (long)(JOURNAL_HEADER + len);
}

long journal_repair_tail(int fd)
{
    struct stat st;

    if (fstat(fd, &st) < 0)
        return -1;
    if (st.st_size == 0)
        return 0;
    /* Any complete record fits in this window, so the last good one is in it. */
    size_t window = 2 * (JOURNAL_HEADER + JOURNAL_MAX_RECORD);
    off_t start = st.st_size > (off_t)window ? st.st_size - (off_t)window : 0;
    size_t len = (size_t)(st.st_size - start);
    unsigned char *buf = mymalloc(len);
    ssize_t got = pread(fd, buf, len, start);
    if (got < 0 || (size_t)got != len) {
        myfree(buf);
        return -1;
    }
    long good_end = -1;
    for (size_t pos = 0; pos + JOURNAL_HEADER <= len;) {
        const unsigned char *m = memmem(buf + pos, len - pos, JOURNAL_MAGIC, 4);
        if (m == NULL)
            break;
        pos = (size_t)(m - buf);
        long n = journal_check(buf + pos, len - pos);
        if (n > 0) {
            good_end = (long)(pos + (size_t)n);
            pos += (size_t)n;
        } else {
            pos++;
        }
    }
    myfree(buf);
    if (good_end < 0 && start > 0)
        return 0; /* no record in the window: not a torn tail; leave it for the readers */
    off_t keep = start + (good_end < 0 ? 0 : good_end);
    if (keep == st.st_size)
        return 0;
    if (ftruncate(fd, keep) < 0)
        return -1;
    return (long)(st.st_size - keep);
}

int journal_read_file(const char *path, int (*fn)(const void *payload, size_t len, void *ctx),
                      void *ctx, journal_stats *stats)
{
    return journal_read_file_at(path, 0, fn, ctx, stats);
}

int journal_read_file_at(const char *path, uint64_t offset,
                         int (*fn)(const void *payload, size_t len, void *ctx), void *ctx,
                         journal_stats *stats)
{
    return journal_read_file_from(path, offset, 0, fn, ctx, stats, NULL);
}

int journal_read_file_from(const char *path, uint64_t offset, int flags,
                           int (*fn)(const void *payload, size_t len, void *ctx), void *ctx,
                           journal_stats *stats, uint64_t *end)
{
    size_t cap = 4 * 1024 * 1024, have = 0, pos = 0;
    uint64_t base = offset, local_end; /* base: the file offset of buf[0] */
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    journal_stats local;
    uint64_t skipping = 0;
    int eof = 0, stop = 0;

    if (stats == NULL)
        stats = &local;
    if (end == NULL)
        end = &local_end;
    *end = offset;
    memset(stats, 0, sizeof(*stats));
    if (fd < 0)
        return -1;
    if (offset > 0 && lseek(fd, (off_t)offset, SEEK_SET) < 0) {
        int saved = errno;
        close(fd);
        errno = saved;
        return -1;
    }
    unsigned char *buf = mymalloc(cap);
    while (!stop) {
        /* Refill: move the unread rest to the front, read more. */
        if (!eof && (have - pos < JOURNAL_HEADER + JOURNAL_MAX_RECORD || pos == have)) {
            memmove(buf, buf + pos, have - pos);
            base += pos;
            have -= pos;
            pos = 0;
            while (have < cap) {
                ssize_t r = read(fd, buf + have, cap - have);
                if (r < 0 && errno == EINTR)
                    continue;
                if (r < 0) {
                    int saved = errno;
                    close(fd);
                    myfree(buf);
                    errno = saved;
                    return -1;
                }
                if (r == 0) {
                    eof = 1;
                    break;
                }
                have += (size_t)r;
            }
        }
        if (pos == have)
            break;
        long n = journal_check(buf + pos, have - pos);
        if (n > 0) {
            if (skipping) {
                stats->bad_records++;
                stats->bad_bytes += skipping;
                skipping = 0;
            }
            stats->records++;
            *end = base + pos + (size_t)n;
            if (fn(buf + pos + JOURNAL_HEADER, (size_t)n - JOURNAL_HEADER, ctx) != 0)
                stop = 1;
            pos += (size_t)n;
        } else if (n == 0 && eof) {
            /* Incomplete record at the end: torn by a crash, or still being written. */
            stats->torn_tail = 1;
            stats->bad_bytes += skipping + (have - pos);
            skipping = 0;
            break;
        } else if (n == 0) {
            continue; /* refill */
        } else {
            /* Corrupt: skip to the next possible magic. */
            const unsigned char *next = memmem(buf + pos + 1, have - pos - 1, JOURNAL_MAGIC, 4);
            size_t skip = next ? (size_t)(next - (buf + pos)) : (have - pos);
            /* A magic split across the buffer end: keep the last 3 bytes. */
            if (next == NULL && !eof && skip > 3)
                skip -= 3;
            skipping += skip;
            pos += skip;
        }
    }
    if (skipping) {
        stats->bad_records++;
        stats->bad_bytes += skipping;
    }
    close(fd);
    myfree(buf);
    if (stats->bad_records)
        msg_warn("%s: skipped %llu corrupt stretch(es), %llu bytes; kept %llu good records", path,
                 (unsigned long long)stats->bad_records, (unsigned long long)stats->bad_bytes,
                 (unsigned long long)stats->records);
    if (stats->torn_tail && !(flags & JOURNAL_READ_LIVE))
        msg_warn("%s: incomplete record at the end (torn by a crash, or still being written); "
                 "skipped",
                 path);
    return 0;
}
