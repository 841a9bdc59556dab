#include "privs.h"

#include <fcntl.h>
#include <grp.h>
#include <stdio.h>
#include <pwd.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "msg.h"

/* Gives the directory name (relative to at) to uid:gid through a descriptor: the spool
 * belongs to the user we drop to, who could have put a symlink or another file in place of
 * journal/ or state/ for root to chown by path. Returns the descriptor. */
static int privs_give_dir(int at, const char *name, const char *shown, int flags, uid_t uid,
                          gid_t gid)
{
    int fd = openat(at, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | flags);
    if (fd < 0)
        msg_fatal("cannot open %s as a directory%s: %m", shown,
                  flags & O_NOFOLLOW ? " (a symbolic link is refused)" : "");
    if (fchown(fd, uid, gid) < 0)
        msg_fatal("cannot give %s to uid %ld: %m", shown, (long)uid);
    return fd;
}

void privs_drop(const char *user, const char *spool_dir)
{
    char path[4096];

    if (geteuid() != 0 || *user == 0 || strcmp(user, "root") == 0)
        return;
    struct passwd *pw = getpwnam(user);
    if (pw == NULL)
        msg_fatal("user \"%s\" does not exist: create it, or name another user", user);
    if (pw->pw_uid == 0)
        msg_fatal("user \"%s\" has uid 0: name an unprivileged user", user);
    if (spool_dir != NULL) {
        /* The spool directory itself is named by root's configuration; what lies inside it
         * is the user's to change, so it is reached only through the directory's fd. */
        int dfd = privs_give_dir(AT_FDCWD, spool_dir, spool_dir, 0, pw->pw_uid, pw->pw_gid);
        static const char *const subdirs[] = {"journal", "state"};
        for (size_t i = 0; i < sizeof(subdirs) / sizeof(subdirs[0]); i++) {
            int n = snprintf(path, sizeof(path), "%s/%s", spool_dir, subdirs[i]);
            if (n < 0 || (size_t)n >= sizeof(path))
                msg_fatal("spool directory name too long: %s", spool_dir);
            close(privs_give_dir(dfd, subdirs[i], path, O_NOFOLLOW, pw->pw_uid, pw->pw_gid));
        }
        close(dfd);
    }
    if (initgroups(user, pw->pw_gid) < 0)
        msg_fatal("initgroups(%s): %m", user);
    if (setgid(pw->pw_gid) < 0)
        msg_fatal("setgid(%ld): %m", (long)pw->pw_gid);
    if (setuid(pw->pw_uid) < 0)
        msg_fatal("setuid(%ld): %m", (long)pw->pw_uid);
    if (setuid(0) == 0 || setgid(0) == 0)
        msg_fatal("could regain root after dropping to %s", user);
    msg_debug("running as user %s", user);
}
