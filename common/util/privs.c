#include "privs.h"

#include <grp.h>
#include <stdio.h>
#include <pwd.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "msg.h"

static void privs_chown(const char *path, uid_t uid, gid_t gid)
{
    if (chown(path, uid, gid) < 0)
        msg_fatal("cannot give %s to uid %ld: %m", path, (long)uid);
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
        privs_chown(spool_dir, pw->pw_uid, pw->pw_gid);
        static const char *const subdirs[] = {"journal", "state"};
        for (size_t i = 0; i < sizeof(subdirs) / sizeof(subdirs[0]); i++) {
            int n = snprintf(path, sizeof(path), "%s/%s", spool_dir, subdirs[i]);
            if (n < 0 || (size_t)n >= sizeof(path))
                msg_fatal("spool directory name too long: %s", spool_dir);
            privs_chown(path, pw->pw_uid, pw->pw_gid);
        }
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
