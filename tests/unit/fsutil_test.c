/* fsutil_write_atomic in a directory someone else can write: a planted symlink or hard link
 * at a temporary name must never make it truncate or re-mode another file. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fsutil.h"
#include "t.h"
#include "vstring.h"

int main(void)
{
    char dir[] = "/tmp/fsutil_test.XXXXXX";
    char victim[64], target[64], lnk[128];
    struct stat st;

    if (mkdtemp(dir) == NULL)
        return 99;
    snprintf(victim, sizeof(victim), "%s/victim", dir);
    snprintf(target, sizeof(target), "%s/out", dir);
    int fd = open(victim, O_WRONLY | O_CREAT | O_EXCL, 0600);
    CHECK(fd >= 0 && write(fd, "secret\n", 7) == 7);
    close(fd);

    /* The names the old code used (<path>.tmp.<pid>), as a symlink and as a hard link. */
    snprintf(lnk, sizeof(lnk), "%s.tmp.%ld", target, (long)getpid());
    CHECK_INT(symlink(victim, lnk), 0);
    CHECK_INT(fsutil_write_atomic(target, "new\n", 4, 0644), 0);
    unlink(lnk);
    CHECK_INT(link(victim, lnk), 0);
    CHECK_INT(fsutil_write_atomic(target, "newer\n", 6, 0644), 0);

    vstring *got = vstring_alloc(0);
    CHECK_INT(fsutil_read_file(victim, got, 100), 0);
    CHECK_STR(vstring_str(got), "secret\n");
    CHECK_INT(stat(victim, &st), 0);
    CHECK_INT(st.st_mode & 07777, 0600);
    CHECK_INT(fsutil_read_file(target, got, 100), 0);
    CHECK_STR(vstring_str(got), "newer\n");
    CHECK_INT(lstat(target, &st), 0);
    CHECK(S_ISREG(st.st_mode) && (st.st_mode & 07777) == 0644 && st.st_nlink == 1);

    /* Replacing a symlink at the final name replaces the link, never writes through it. */
    unlink(target);
    CHECK_INT(symlink(victim, target), 0);
    CHECK_INT(fsutil_write_atomic(target, "x\n", 2, 0644), 0);
    CHECK_INT(fsutil_read_file(victim, got, 100), 0);
    CHECK_STR(vstring_str(got), "secret\n");

    /* No temporary file is left behind. */
    unlink(lnk);
    unlink(target);
    unlink(victim);
    CHECK_INT(rmdir(dir), 0);
    vstring_free(got);
    return t_done("fsutil_test");
}
