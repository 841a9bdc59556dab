#ifndef OTR_INSTANCE_H
#define OTR_INSTANCE_H
/* One daemon per spool: a second opentlsrpt on the same spool would rebind every socket and
 * leave the first running deaf. */

/* Takes the instance lock (flock on the spool directory, created if need be), or exits with
 * a message naming the running daemon. The lock is held by the open descriptor, which the
 * role processes inherit: it is free again only when every process of this instance has
 * gone, and the kernel frees the lock of a killed instance by itself. */
void instance_lock(const char *spool_dir);
/* Records our pid in <spool>/opentlsrpt.pid for the message of a second instance; called
 * after the privilege drop (the spool belongs to user). */
void instance_record(const char *spool_dir);
/* Removes the pid file at a clean stop. */
void instance_forget(const char *spool_dir);
#endif
