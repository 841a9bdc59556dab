/*
 * LD_PRELOAD shim for tests/hostile/: plays the local user who wins a race against the
 * daemon. Right after bind() creates the unix socket OTR_HOSTILE_BIND, it puts a symlink to
 * OTR_HOSTILE_TARGET in its place, as a user who can write the socket's directory could in
 * the moment between bind() and whatever root does next by path. Built for the tests only.
 */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

int bind(int fd, const struct sockaddr *addr, socklen_t len)
{
    static int (*real_bind)(int, const struct sockaddr *, socklen_t);
    const char *path = getenv("OTR_HOSTILE_BIND");
    const char *target = getenv("OTR_HOSTILE_TARGET");
    char tmp[sizeof(((struct sockaddr_un *)0)->sun_path) + 16];

    if (real_bind == NULL)
        real_bind = (int (*)(int, const struct sockaddr *, socklen_t))dlsym(RTLD_NEXT, "bind");
    int r = real_bind(fd, addr, len);
    if (r == 0 && path && target && addr->sa_family == AF_UNIX &&
        strcmp(((const struct sockaddr_un *)addr)->sun_path, path) == 0) {
        snprintf(tmp, sizeof(tmp), "%s.hostile", path);
        unlink(tmp);
        if (symlink(target, tmp) == 0 && rename(tmp, path) == 0)
            fprintf(stderr, "hostile_shim: %s is now a symlink to %s\n", path, target);
    }
    return r;
}
