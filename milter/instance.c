#include "instance.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fsutil.h"
#include "msg.h"

#define INSTANCE_PID_FILE "opentlsrpt.pid"
#define INSTANCE_WAIT     35 /* seconds: the supervisor's STOP_GRACE and some */

/* The pid the running instance recorded, or 0. Read without following a symlink and only
 * from a regular file: we may be root, and the spool is the daemon user's to change. */
static long instance_holder(int dfd)
{
    char buf[32];
    struct stat st;
    int fd = openat(dfd, INSTANCE_PID_FILE, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);

    if (fd < 0)
        return 0;
    ssize_t n = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) ? read(fd, buf, sizeof(buf) - 1) : -1;
    close(fd);
    if (n <= 0)
        return 0;
    buf[n] = 0;
    char *end;
    long pid = strtol(buf, &end, 10);
    return pid > 0 && (*end == '\n' || *end == 0) ? pid : 0;
}

void instance_lock(const char *spool_dir)
{
    if (fsutil_mkdirs(spool_dir, 0750) < 0)
        msg_fatal("cannot create spool directory %s: %m", spool_dir);
    /* Never closed: the lock lasts as long as this instance's processes. */
    int dfd = open(spool_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        msg_fatal("cannot open spool directory %s: %m", spool_dir);
    /* The role processes of an instance that was killed still hold the lock while they
     * drain what they read (up to the supervisor's 30 s grace): wait for them, but refuse at
     * once while the recorded holder is alive. */
    for (int tries = 0;; tries++) {
        if (flock(dfd, LOCK_EX | LOCK_NB) == 0)
            return;
        if (errno != EWOULDBLOCK)
            msg_fatal("cannot lock spool directory %s: %m", spool_dir);
        long pid = instance_holder(dfd);
        if (pid > 0 && (kill((pid_t)pid, 0) == 0 || errno == EPERM))
            msg_fatal("opentlsrpt is already running on spool %s (pid %ld): stop it first, or "
                      "give this one another spool_directory",
                      spool_dir, pid);
        if (tries == INSTANCE_WAIT * 10)
            msg_fatal("opentlsrpt is already running on spool %s (%s): stop it first, or give "
                      "this one another spool_directory",
                      spool_dir, pid > 0 ? "processes left by a stopped one" : "no pid recorded");
        if (tries == 0)
            msg_info("waiting for the processes of a stopped instance to release %s", spool_dir);
        usleep(100 * 1000);
    }
}

static void instance_path(char *path, size_t size, const char *spool_dir)
{
    int n = snprintf(path, size, "%s/%s", spool_dir, INSTANCE_PID_FILE);
    if (n < 0 || (size_t)n >= size)
        msg_fatal("spool directory name too long: %s", spool_dir);
}

void instance_record(const char *spool_dir)
{
    char path[4096], text[32];
    int n = snprintf(text, sizeof(text), "%ld\n", (long)getpid());

    instance_path(path, sizeof(path), spool_dir);
    if (fsutil_write_atomic(path, text, (size_t)n, 0644) < 0)
        msg_warn("cannot write %s: %m", path);
}

void instance_forget(const char *spool_dir)
{
    char path[4096];

    instance_path(path, sizeof(path), spool_dir);
    unlink(path);
}
