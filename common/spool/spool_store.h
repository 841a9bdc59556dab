#ifndef OTR_SPOOL_STORE_H
#define OTR_SPOOL_STORE_H
/*
 * The spool's named documents: every piece of kept state other than the outcome journals
 * (policy cache, applied-policy log, received reports, inbound TLS counts, delivery state,
 * positions) is read and written only through these calls. Each area of the spool has a
 * backend (a table of operations); the file backend, the default for every area, keeps one
 * file per document under the spool directory exactly as before. A shared backend (fleet
 * mode) takes over the areas it shares with spool_store_use; the callers do not change.
 *
 * root is the spool directory (spool_directory): the file backend's base; other backends
 * may ignore it. Keys are single names (no '/', not starting with '.', at most
 * SPOOL_STORE_KEY_MAX bytes); a bad key fails with EINVAL.
 */
#include <stddef.h>
#include <sys/types.h>

#include "vstring.h"

#define SPOOL_STORE_KEY_MAX 255

typedef enum spool_area {
    SPOOL_AREA_TOP,         /* spool_directory itself: small private files (log-follow.state) */
    SPOOL_AREA_STATE,       /* state/: the agent's delivery state and other private state */
    SPOOL_AREA_STS_CACHE,   /* sts/cache/<domain>: the MTA-STS policy cache */
    SPOOL_AREA_STS_APPLIED, /* sts/applied/<day>.txt: policies applied, per day */
    SPOOL_AREA_REPORTS,     /* reports/<day>-<hash>.json: received reports */
    SPOOL_AREA_INBOUND,     /* inbound/<day>.json: inbound TLS counts */
    SPOOL_AREA_COUNT
} spool_area;

/* spool_store_append flags. */
#define SPOOL_STORE_SYNC 1 /* durable before returning (the file backend: fdatasync) */

/* A backend. Every operation returns 0 (or what is said) or -1 with errno set. */
typedef struct spool_store_ops {
    const char *name;
    /* Makes area usable (the file backend creates its directory). */
    int (*prepare)(const char *root, spool_area area);
    /* Replaces out with the document; ENOENT when there is none, EFBIG over max bytes. */
    int (*read)(const char *root, spool_area area, const char *key, vstring *out, size_t max);
    /* Replaces the document atomically and durably. */
    int (*replace)(const char *root, spool_area area, const char *key, const void *data,
                   size_t len);
    /* Adds data at the document's end (creating it); SPOOL_STORE_SYNC: durably. */
    int (*append)(const char *root, spool_area area, const char *key, const void *data, size_t len,
                  int flags);
    /* Removes the document; no document is not an error. */
    int (*remove)(const char *root, spool_area area, const char *key);
    /* 1 when the document exists, 0 when not, -1 on error. */
    int (*exists)(const char *root, spool_area area, const char *key);
    /* The keys of area, sorted, NULL-terminated (caller frees each and the array); NULL
     * with errno set (ENOENT: the area holds nothing yet). */
    char **(*list)(const char *root, spool_area area);
    /* Takes the named exclusive lock without waiting; returns a handle >= 0, or -1 (errno
     * EWOULDBLOCK when someone holds it). */
    int (*lock)(const char *root, spool_area area, const char *key);
    void (*unlock)(int handle);
    /* Names the document for messages (the file backend: its path; key "": the area's). */
    void (*describe)(const char *root, spool_area area, const char *key, char *out, size_t size);
} spool_store_ops;

/* The file backend (the default of every area). */
extern const spool_store_ops spool_store_file;

/* Makes ops the backend of area from now on (NULL: back to the file backend). */
void spool_store_use(spool_area area, const spool_store_ops *ops);
/* The backend of area. */
const spool_store_ops *spool_store_backend(spool_area area);

/* The operations of area's backend (see spool_store_ops). */
int spool_store_prepare(const char *root, spool_area area);
int spool_store_read(const char *root, spool_area area, const char *key, vstring *out, size_t max);
int spool_store_replace(const char *root, spool_area area, const char *key, const void *data,
                        size_t len);
int spool_store_append(const char *root, spool_area area, const char *key, const void *data,
                       size_t len, int flags);
int spool_store_remove(const char *root, spool_area area, const char *key);
int spool_store_exists(const char *root, spool_area area, const char *key);
char **spool_store_list(const char *root, spool_area area);
int spool_store_lock(const char *root, spool_area area, const char *key);
void spool_store_unlock(spool_area area, int handle);
void spool_store_describe(const char *root, spool_area area, const char *key, char *out,
                          size_t size);
/* The sorted names in dir ending in suffix (NULL: any), never those starting with '.';
 * NULL-terminated, caller frees with spool_store_list_free; NULL when dir cannot be read. */
char **spool_store_list_dir(const char *dir, const char *suffix);
/* Frees a list from spool_store_list; returns NULL. */
char **spool_store_list_free(char **keys);
/* Whether key is a valid key (see above). */
int spool_store_key_ok(const char *key);
#endif
