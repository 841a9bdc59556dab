#include "sockets.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "fsutil.h"
#include "msg.h"

/* Gives the socket just bound at path to uid:gid without acting on whatever else the name
 * may lead to by now: opened without following a symlink, and changed only when it is a
 * socket with a single link that belongs to us (no one else can create such a file). */
static int sockets_give(const char *path, uid_t uid, gid_t gid)
{
    struct stat st;
    int fd = open(path, O_PATH | O_NOFOLLOW | O_CLOEXEC);

    if (fd < 0) {
        msg_error("cannot open %s to set its owner/group: %m", path);
        return -1;
    }
    if (fstat(fd, &st) < 0 || !S_ISSOCK(st.st_mode) || st.st_nlink != 1 || st.st_uid != geteuid()) {
        msg_error("%s was replaced after bind (not our socket any more); not changing it", path);
        close(fd);
        return -1;
    }
    if (fchownat(fd, "", uid, gid, AT_EMPTY_PATH) < 0) {
        msg_error("cannot set owner/group of %s: %m", path);
        close(fd);
        return -1;
    }
    close(fd);
    return 0;
}

int sockets_group(const char *group, const char *path, gid_t *gid)
{
    *gid = (gid_t)-1;
    if (*group == 0)
        return 0;
    struct group *gr = getgrnam(group);
    /* The default admits Postfix and no one else; where it cannot apply (no Postfix, or
     * not root: a test or the demo) the socket keeps the daemon's group and its mode. */
    if (strcmp(group, SOCKETS_MTA_GROUP) == 0 && (gr == NULL || geteuid() != 0)) {
        if (geteuid() == 0)
            msg_warn("socket group \"%s\" of %s: no such group; the socket keeps root's "
                     "group: name the MTA's group in the socket's group setting",
                     group, path);
        return 0;
    }
    if (gr == NULL) {
        msg_error("socket group \"%s\" of %s: no such group", group, path);
        return -1;
    }
    *gid = gr->gr_gid;
    return 0;
}

int sockets_unix_listen(const char *path, int type, const char *owner, const char *group,
                        mode_t mode)
{
    struct sockaddr_un sun;
    struct stat st;
    char dir[PATH_MAX];
    uid_t uid = (uid_t)-1;
    gid_t gid = (gid_t)-1;

    if (strlen(path) >= sizeof(sun.sun_path)) {
        msg_error("socket path too long (max %zu bytes): %s", sizeof(sun.sun_path) - 1, path);
        return -1;
    }
    if (*owner) {
        struct passwd *pw = getpwnam(owner);
        if (pw == NULL) {
            msg_error("socket owner \"%s\" of %s: no such user", owner, path);
            return -1;
        }
        uid = pw->pw_uid;
    }
    if (sockets_group(group, path, &gid) < 0)
        return -1;
    snprintf(dir, sizeof(dir), "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash && slash != dir) {
        *slash = 0;
        if (fsutil_mkdirs(dir, 0755) < 0) {
            msg_error("cannot create socket directory %s: %m", dir);
            return -1;
        }
    }
    /* Replace a socket left behind by an earlier run, never any other kind of file. */
    if (lstat(path, &st) == 0) {
        if (!S_ISSOCK(st.st_mode)) {
            msg_error("%s exists and is not a socket; not replacing it", path);
            return -1;
        }
        unlink(path);
    }
    int fd = socket(AF_UNIX, type | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        msg_error("socket: %m");
        return -1;
    }
    memset(&sun, 0, sizeof(sun));
    sun.sun_family = AF_UNIX;
    memcpy(sun.sun_path, path, strlen(path) + 1);
    /* The mode is the one bind() gives the new file (mode & ~umask): nothing is changed by
     * path afterwards, where whoever can write the directory could have swapped the file. */
    mode_t old = umask(~mode & 0777);
    int r = bind(fd, (struct sockaddr *)&sun, sizeof(sun));
    umask(old);
    if (r < 0) {
        msg_error("cannot bind %s: %m", path);
        close(fd);
        return -1;
    }
    if ((uid != (uid_t)-1 || gid != (gid_t)-1) && sockets_give(path, uid, gid) < 0) {
        close(fd);
        return -1;
    }
    if (type == SOCK_STREAM && listen(fd, 128) < 0) {
        msg_error("cannot listen on %s: %m", path);
        close(fd);
        return -1;
    }
    return fd;
}

int sockets_inet_listen(const char *hostport)
{
    char host[256];
    const char *colon = strrchr(hostport, ':');
    struct addrinfo hints, *res, *ai;
    int fd = -1, one = 1;

    if (colon == NULL || (size_t)(colon - hostport) >= sizeof(host)) {
        msg_error("expected host:port, got \"%s\"", hostport);
        return -1;
    }
    memcpy(host, hostport, (size_t)(colon - hostport));
    host[colon - hostport] = 0;
    /* [::1]:port */
    char *h = host;
    if (h[0] == '[' && h[strlen(h) - 1] == ']') {
        h[strlen(h) - 1] = 0;
        h++;
    }
    memset(&hints, 0, sizeof(hints));
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    int gai = getaddrinfo(*h ? h : NULL, colon + 1, &hints, &res);
    if (gai != 0) {
        msg_error("cannot resolve %s: %s", hostport, gai_strerror(gai));
        return -1;
    }
    for (ai = res; ai; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
        if (fd < 0)
            continue;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && listen(fd, 128) == 0)
            break;
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    if (fd < 0)
        msg_error("cannot listen on %s: %m", hostport);
    return fd;
}

int sockets_listen(const char *setting, const char *spec, const char *owner, const char *group,
                   mode_t mode)
{
    if (strncmp(spec, "unix:", 5) == 0)
        return sockets_unix_listen(spec + 5, SOCK_STREAM, owner, group, mode);
    if (strncmp(spec, "inet:", 5) == 0)
        return sockets_inet_listen(spec + 5);
    msg_error("%s: expected unix:/path or inet:host:port, got \"%s\"", setting, spec);
    return -1;
}

void sockets_peer(int fd, char *out, size_t size)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);
    struct ucred cred;
    socklen_t clen = sizeof(cred);
    char host[INET6_ADDRSTRLEN];

    snprintf(out, size, "?");
    if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
        return;
    if (ss.ss_family == AF_UNIX) {
        if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &clen) == 0)
            snprintf(out, size, "uid %ld", (long)cred.uid);
        return;
    }
    len = sizeof(ss);
    if (getpeername(fd, (struct sockaddr *)&ss, &len) == 0 &&
        getnameinfo((struct sockaddr *)&ss, len, host, sizeof(host), NULL, 0, NI_NUMERICHOST) == 0)
        snprintf(out, size, "%s", host);
}

void sockets_check_dgram_qlen(void)
{
    char buf[32];

    if (fsutil_read_small("/proc/sys/net/unix/max_dgram_qlen", buf, sizeof(buf)) <= 0)
        return;
    long q = strtol(buf, NULL, 10);
    if (q < 512)
        msg_warn("net.unix.max_dgram_qlen is %ld: bursts of Postfix TLSRPT datagrams will be "
                 "lost; install contrib/sysctl.d/60-opentlsrpt.conf in /etc/sysctl.d and run "
                 "\"sysctl --system\" (raises it to 1024)",
                 q);
}
