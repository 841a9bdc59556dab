#ifndef OTR_SOCKETS_H
#define OTR_SOCKETS_H
/* Listening sockets the daemon's roles need, created by the parent before it drops root. */
#include <stddef.h>
#include <sys/types.h>

/* Binds a unix socket of type (SOCK_DGRAM/SOCK_STREAM) at path, creating the directory,
 * replacing a stale socket, and setting owner, group (names; "" leaves them) and mode.
 * Returns the fd, or -1 after logging why. */
int sockets_unix_listen(const char *path, int type, const char *owner, const char *group,
                        mode_t mode);
/* The default group of the unix sockets (tlsrpt_socket_group, policy_socket_group,
 * milter_socket_group): the one Postfix's processes run as. */
#define SOCKETS_MTA_GROUP "postfix"
/* Sets *gid to group's id ((gid_t)-1 for "" or a default group that cannot apply here);
 * returns 0, or -1 after logging that the group does not exist. path is for messages. */
int sockets_group(const char *group, const char *path, gid_t *gid);
/* Binds a TCP socket for "host:port" and listens; returns the fd, or -1 after logging. */
int sockets_inet_listen(const char *hostport);
/* Listens on spec, "unix:/path" (with owner, group, mode as sockets_unix_listen) or
 * "inet:host:port", for the setting named setting; returns the fd, or -1 after logging. */
int sockets_listen(const char *setting, const char *spec, const char *owner, const char *group,
                   mode_t mode);
/* Names the peer of a connected socket for per-peer limits: "uid N" (SO_PEERCRED) on a
 * unix socket, the numeric address on an inet one, "?" when unknown. */
void sockets_peer(int fd, char *out, size_t size);
/* Warns when net.unix.max_dgram_qlen is below 512: Postfix's datagrams are then lost in
 * bursts. */
void sockets_check_dgram_qlen(void);
#endif
