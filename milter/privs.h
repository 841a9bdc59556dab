#ifndef OTR_PRIVS_H
#define OTR_PRIVS_H
/* Dropping root: the one place that does it. */

/* When running as root, hands the spool directory to user and becomes that user (groups,
 * gid, uid). "root" keeps root. Every failure is fatal. */
void privs_drop(const char *user, const char *spool_dir);
#endif
