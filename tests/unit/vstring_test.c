/* vstring: growth, the hard maximum, and lengths whose size arithmetic would wrap. */
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "msg.h"
#include "t.h"
#include "vstring.h"

/* Runs fn in a child with stderr in a file; returns its wait status, the output in out. */
static int run_child(void (*fn)(void), char *out, size_t outsz)
{
    char path[] = "/tmp/vstring_test.XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0)
        return -1;
    unlink(path);
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        dup2(fd, 2);
        fn();
        _exit(0);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    ssize_t n = pread(fd, out, outsz - 1, 0);
    out[n > 0 ? n : 0] = 0;
    close(fd);
    return status;
}

static void append_huge(void)
{
    vstring *vs = vstring_alloc(0);
    char c = 'x';
    vstring_append(vs, &c, 1);
    vstring_append(vs, &c, SIZE_MAX); /* must panic, not copy */
}

static void reserve_huge(void)
{
    vstring *vs = vstring_alloc(0);
    vstring_append(vs, "abc", 3);
    vstring_reserve(vs, SIZE_MAX - 3);
}

int main(void)
{
    char out[4096];
    vstring *vs = vstring_alloc(0);

    msg_open("vstring_test", MSG_TO_STDERR);
    for (int i = 0; i < 1000; i++)
        CHECK_INT(vstring_append(vs, "0123456789", 10), 0);
    CHECK_INT(vstring_len(vs), 10000);
    CHECK(vs->cap > 10000);
    CHECK_INT(vstring_str(vs)[10000], 0);
    vstring_free(vs);

    /* The maximum holds even for a length that would wrap len + n. */
    vs = vstring_alloc(100);
    CHECK_INT(vstring_append(vs, "abc", 3), 0);
    CHECK_INT(vstring_append(vs, "abc", SIZE_MAX), -1);
    CHECK_INT(vs->overflow, 1);
    CHECK_INT(vstring_len(vs), 3);
    vstring_free(vs);

    /* Unbounded: a wrapping length is a panic with a message, never a write past the end. */
    int st = run_child(append_huge, out, sizeof(out));
    CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGABRT);
    CHECK(strstr(out, "vstring_reserve: length") != NULL);
    st = run_child(reserve_huge, out, sizeof(out));
    CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGABRT);
    CHECK(strstr(out, "vstring_reserve: length") != NULL);
    return t_done("vstring_test");
}
