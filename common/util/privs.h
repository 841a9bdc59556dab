#ifndef OTR_PRIVS_H
#define OTR_PRIVS_H
/* Dropping root: the one place that does it, for the daemon and the agent. */

/* When running as root, hands spool_dir (and its journal/ and state/, which must be real
 * directories, never symlinks: they are reached through descriptors) to user unless
 * spool_dir is NULL, then becomes that user (supplementary groups, gid, uid) and checks root
 * cannot be regained. "root" keeps root; not running as root does nothing. Every failure is
 * fatal. */
void privs_drop(const char *user, const char *spool_dir);
#endif
