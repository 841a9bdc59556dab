/*
 * tail -F for the log follower. A file is read with plain non-blocking reads; at its end the
 * path is checked: another inode means the file was rotated by rename (the old descriptor
 * is drained first, then the new file is read from its start), a size below the offset
 * means it was truncated (read again from the start).
 */
#include "logfollow.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "msg.h"
#include "mymalloc.h"
#include "spool_store.h"
#include "vstring.h"

struct logfollow {
    char *path;
    char *state_root;                  /* the spool holding the saved position; NULL: none */
    char *state_path;                  /* its name for messages */
    char note[LOGFOLLOW_NOTE_MAX + 1]; /* the caller's, saved with the position */
    int fd;
    int pipe; /* stdin: no rotation, no saved position */
    dev_t dev;
    ino_t ino;
    uint64_t gen; /* files opened since logfollow_open */
    uint64_t off; /* offset in the current file of the next byte read */
    uint64_t done;
    int rotated_seen; /* the path's inode changed: drain, then switch */
};

static int logfollow_reopen(logfollow *f, int from_end)
{
    int fd = open(f->path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    struct stat st;

    if (fd < 0)
        return -1;
    if (fstat(fd, &st) < 0) {
        close(fd);
        return -1;
    }
    if (f->fd >= 0) {
        close(f->fd);
        f->gen++;
    }
    f->fd = fd;
    f->dev = st.st_dev;
    f->ino = st.st_ino;
    f->off = from_end ? (uint64_t)st.st_size : 0;
    if (f->off)
        lseek(fd, (off_t)f->off, SEEK_SET);
    f->rotated_seen = 0;
    return 0;
}

/* The saved state: "dev ino resume done[ note]\n" (older versions wrote no note). */
static int logfollow_load(logfollow *f, uint64_t *dev, uint64_t *ino, uint64_t *resume,
                          uint64_t *done, char *note)
{
    vstring *vs = vstring_alloc(0);
    int used = 0;
    int ok = f->state_path &&
             spool_store_read(f->state_root, SPOOL_AREA_TOP, LOGFOLLOW_STATE, vs, 4096) == 0 &&
             sscanf(vs->data, "%" SCNu64 " %" SCNu64 " %" SCNu64 " %" SCNu64 "%n", dev, ino, resume,
                    done, &used) == 4;
    *note = 0;
    if (ok && vs->data[used] == ' ') {
        const char *p = vs->data + used + 1;
        size_t n = strcspn(p, "\n");
        if (n <= LOGFOLLOW_NOTE_MAX) {
            memcpy(note, p, n);
            note[n] = 0;
        }
    }
    vstring_free(vs);
    return ok ? 0 : -1;
}

/* The previous run's file may have been rotated to PATH.1 while we were down: finish it. */
static int logfollow_resume_rotated(logfollow *f, uint64_t dev, uint64_t ino, uint64_t resume)
{
    char old[4096];
    struct stat st;

    if ((size_t)snprintf(old, sizeof(old), "%s.1", f->path) >= sizeof(old))
        return -1;
    int fd = open(old, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0)
        return -1;
    if (fstat(fd, &st) < 0 || (uint64_t)st.st_dev != dev || (uint64_t)st.st_ino != ino ||
        (uint64_t)st.st_size < resume) {
        close(fd);
        return -1;
    }
    lseek(fd, (off_t)resume, SEEK_SET);
    f->fd = fd;
    f->dev = st.st_dev;
    f->ino = st.st_ino;
    f->off = resume;
    f->rotated_seen = 1; /* switch to PATH once this is drained */
    msg_info("log: resuming in %s, rotated while stopped", old);
    return 0;
}

logfollow *logfollow_open(const char *path, const char *state_root)
{
    logfollow *f = mycalloc(1, sizeof(*f));
    uint64_t dev, ino, resume, done;
    char note[LOGFOLLOW_NOTE_MAX + 1], where[PATH_MAX];
    struct stat st;

    f->fd = -1;
    f->path = mystrdup(path);
    if (state_root) {
        f->state_root = mystrdup(state_root);
        spool_store_describe(state_root, SPOOL_AREA_TOP, LOGFOLLOW_STATE, where, sizeof(where));
        f->state_path = mystrdup(where);
    }
    if (strcmp(path, "-") == 0) {
        f->pipe = 1;
        f->fd = 0;
        return f;
    }
    /* The note belongs to the saved position: kept only when reading resumes from it. */
    if (logfollow_load(f, &dev, &ino, &resume, &done, note) == 0) {
        if (stat(path, &st) == 0 && (uint64_t)st.st_dev == dev && (uint64_t)st.st_ino == ino &&
            (uint64_t)st.st_size >= resume && logfollow_reopen(f, 0) == 0) {
            f->off = resume;
            lseek(f->fd, (off_t)resume, SEEK_SET);
            f->done = done > resume ? done : 0;
            memcpy(f->note, note, sizeof(f->note));
            return f;
        }
        if (logfollow_resume_rotated(f, dev, ino, resume) == 0) {
            f->done = done > resume ? done : 0;
            memcpy(f->note, note, sizeof(f->note));
            return f;
        }
        /* Rotated away beyond reach, or truncated: the new file from its start. */
        if (logfollow_reopen(f, 0) < 0)
            msg_info("log: waiting for %s to appear", path);
        return f;
    }
    /* First start: what is already in the file predates us (import-log backfills it). The
     * position is saved at once: a restart before the first save would otherwise start
     * from the end again and skip what was written in between. */
    if (logfollow_reopen(f, 1) < 0)
        msg_info("log: waiting for %s to appear", path);
    else if (f->state_path && logfollow_save(f, logfollow_pos(f), logfollow_pos(f), NULL) < 0)
        msg_warn("log: cannot save the position in %s: %m", f->state_path);
    return f;
}

logfollow *logfollow_close(logfollow *f)
{
    if (f) {
        if (f->fd > 0 || (f->fd == 0 && !f->pipe))
            close(f->fd);
        myfree(f->path);
        myfree(f->state_root);
        myfree(f->state_path);
        myfree(f);
    }
    return NULL;
}

uint64_t logfollow_pos(const logfollow *f)
{
    return LOGFOLLOW_POS(f->gen, f->off);
}

uint64_t logfollow_behind(const logfollow *f)
{
    struct stat st;

    if (f->pipe || f->fd < 0 || fstat(f->fd, &st) < 0 || (uint64_t)st.st_size <= f->off)
        return 0;
    return (uint64_t)st.st_size - f->off;
}

uint64_t logfollow_done(const logfollow *f)
{
    return f->done ? LOGFOLLOW_POS(0, f->done) : 0;
}

static ssize_t logfollow_read_pipe(logfollow *f, char *buf, size_t size, int timeout_ms)
{
    struct pollfd pfd = {f->fd, POLLIN, 0};
    int r = poll(&pfd, 1, timeout_ms);

    if (r <= 0)
        return 0;
    ssize_t n = read(f->fd, buf, size);
    if (n < 0)
        return errno == EINTR || errno == EAGAIN ? 0 : -1;
    if (n == 0)
        return -1;
    f->off += (uint64_t)n;
    return n;
}

ssize_t logfollow_read(logfollow *f, char *buf, size_t size, int timeout_ms)
{
    if (f->pipe)
        return logfollow_read_pipe(f, buf, size, timeout_ms);
    if (f->fd < 0) {
        if (logfollow_reopen(f, 0) < 0) {
            poll(NULL, 0, timeout_ms);
            return 0;
        }
        msg_info("log: following %s", f->path);
    }
    for (;;) {
        ssize_t n = read(f->fd, buf, size);
        if (n > 0) {
            f->off += (uint64_t)n;
            return n;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno != EAGAIN)
            msg_warn("log: read %s: %m", f->path);
        break;
    }
    /* Nothing new: wait a little (a writer adds lines at its own pace), then look at the
     * path. */
    poll(NULL, 0, timeout_ms);
    /* At the end: has the path moved on? */
    struct stat st;
    if (f->rotated_seen) {
        /* The old file was drained after the rename was noticed: switch. */
        if (logfollow_reopen(f, 0) == 0)
            return logfollow_read(f, buf, size, timeout_ms);
        return 0;
    }
    if (stat(f->path, &st) < 0)
        return 0; /* between the rename and the new file's creation */
    if (st.st_dev != f->dev || st.st_ino != f->ino) {
        /* Rotated by rename: a writer may still finish a line in the old file; read once
         * more before switching. */
        f->rotated_seen = 1;
        return 0;
    }
    if ((uint64_t)st.st_size < f->off) {
        msg_info("log: %s was truncated; reading it from its start", f->path);
        f->gen++;
        f->off = 0;
        lseek(f->fd, 0, SEEK_SET);
    }
    return 0;
}

const char *logfollow_note(const logfollow *f)
{
    return f->note;
}

int logfollow_save(logfollow *f, uint64_t resume, uint64_t done, const char *note)
{
    char text[128 + LOGFOLLOW_NOTE_MAX];

    if (f->pipe || f->state_path == NULL || f->fd < 0)
        return 0;
    /* Positions in files before the current one cannot be resumed from: a restart
     * re-reads the current file from its start and skips what was stored. */
    uint64_t r = LOGFOLLOW_GEN(resume) == f->gen ? LOGFOLLOW_OFF(resume) : 0;
    uint64_t d = LOGFOLLOW_GEN(done) == f->gen ? LOGFOLLOW_OFF(done) : 0;
    if (note == NULL || strlen(note) > LOGFOLLOW_NOTE_MAX || strpbrk(note, "\n") != NULL)
        note = "";
    int n = snprintf(text, sizeof(text), "%" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64 "%s%s\n",
                     (uint64_t)f->dev, (uint64_t)f->ino, r, d, *note ? " " : "", note);
    return spool_store_replace(f->state_root, SPOOL_AREA_TOP, LOGFOLLOW_STATE, text, (size_t)n);
}
