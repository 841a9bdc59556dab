/*
 * The spool's named documents behind a backend table per area, and the file backend: one
 * file per document under the spool directory, the layout and modes the spool always had.
 */
#include "spool_store.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fsutil.h"
#include "msg.h"
#include "mymalloc.h"

#define SPOOL_STORE_DIR_MODE 0750

/* Where each area lives under the spool directory, and the mode of its files: private
 * state 0600, what other local readers (the agent's group) may read 0640. */
static const struct {
    const char *dir;
    mode_t mode;
} spool_store_layout[SPOOL_AREA_COUNT] = {
    [SPOOL_AREA_TOP] = {"", 0600},
    [SPOOL_AREA_STATE] = {"state", 0600},
    [SPOOL_AREA_STS_CACHE] = {"sts/cache", 0640},
    [SPOOL_AREA_STS_APPLIED] = {"sts/applied", 0640},
    [SPOOL_AREA_REPORTS] = {"reports", 0640},
    [SPOOL_AREA_INBOUND] = {"inbound", 0640},
};

static const spool_store_ops *spool_store_table[SPOOL_AREA_COUNT];

int spool_store_key_ok(const char *key)
{
    size_t n = key ? strlen(key) : 0;

    return n > 0 && n <= SPOOL_STORE_KEY_MAX && key[0] != '.' && strchr(key, '/') == NULL;
}

/* The file backend. */

static int spool_file_dir(char *out, size_t size, const char *root, spool_area area)
{
    const char *sub = spool_store_layout[area].dir;
    int n = *sub ? snprintf(out, size, "%s/%s", root, sub) : snprintf(out, size, "%s", root);

    if (n < 0 || (size_t)n >= size) {
        errno = ENAMETOOLONG;
        return -1;
    }
    return 0;
}

static int spool_file_path(char *out, size_t size, const char *root, spool_area area,
                           const char *key)
{
    char dir[PATH_MAX];

    if (!spool_store_key_ok(key)) {
        errno = EINVAL;
        return -1;
    }
    if (spool_file_dir(dir, sizeof(dir), root, area) < 0)
        return -1;
    int n = snprintf(out, size, "%s/%s", dir, key);
    if (n < 0 || (size_t)n >= size) {
        errno = ENAMETOOLONG;
        return -1;
    }
    return 0;
}

static int spool_file_prepare(const char *root, spool_area area)
{
    char dir[PATH_MAX];

    if (spool_file_dir(dir, sizeof(dir), root, area) < 0)
        return -1;
    return fsutil_mkdirs(dir, SPOOL_STORE_DIR_MODE);
}

static int spool_file_read(const char *root, spool_area area, const char *key, vstring *out,
                           size_t max)
{
    char path[PATH_MAX];

    if (spool_file_path(path, sizeof(path), root, area, key) < 0)
        return -1;
    return fsutil_read_file(path, out, max);
}

static int spool_file_replace(const char *root, spool_area area, const char *key, const void *data,
                              size_t len)
{
    char path[PATH_MAX];

    if (spool_file_path(path, sizeof(path), root, area, key) < 0)
        return -1;
    return fsutil_write_atomic(path, data, len, spool_store_layout[area].mode);
}

static int spool_file_append(const char *root, spool_area area, const char *key, const void *data,
                             size_t len, int flags)
{
    char path[PATH_MAX];
    struct stat st;

    if (spool_file_path(path, sizeof(path), root, area, key) < 0)
        return -1;
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, spool_store_layout[area].mode);
    if (fd < 0)
        return -1;
    /* A new file's directory entry must be durable too when its content must be. */
    int fresh = (flags & SPOOL_STORE_SYNC) && fstat(fd, &st) == 0 && st.st_size == 0;
    if (fsutil_write_all(fd, data, len) < 0 || ((flags & SPOOL_STORE_SYNC) && fdatasync(fd) < 0) ||
        (fresh && fsutil_sync_parent(path) < 0)) {
        int saved = errno;
        close(fd);
        errno = saved;
        return -1;
    }
    return close(fd);
}

static int spool_file_remove(const char *root, spool_area area, const char *key)
{
    char path[PATH_MAX];

    if (spool_file_path(path, sizeof(path), root, area, key) < 0)
        return -1;
    return unlink(path) < 0 && errno != ENOENT ? -1 : 0;
}

static int spool_file_exists(const char *root, spool_area area, const char *key)
{
    char path[PATH_MAX];

    if (spool_file_path(path, sizeof(path), root, area, key) < 0)
        return -1;
    if (access(path, F_OK) == 0)
        return 1;
    return errno == ENOENT ? 0 : -1;
}

static int spool_store_name_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

char **spool_store_list_dir(const char *dir, const char *suffix)
{
    DIR *d = opendir(dir);
    size_t n = 0, cap = 16, slen = suffix ? strlen(suffix) : 0;
    char **v;
    struct dirent *de;

    if (d == NULL)
        return NULL;
    v = mymalloc(cap * sizeof(*v));
    while ((de = readdir(d)) != NULL) {
        size_t len = strlen(de->d_name);
        if (de->d_name[0] == '.')
            continue;
        if (suffix && (len <= slen || strcmp(de->d_name + len - slen, suffix)))
            continue;
        if (n + 1 >= cap)
            v = myrealloc(v, (cap *= 2) * sizeof(*v));
        v[n++] = mystrdup(de->d_name);
    }
    closedir(d);
    qsort(v, n, sizeof(*v), spool_store_name_cmp);
    v[n] = NULL;
    return v;
}

static char **spool_file_list(const char *root, spool_area area)
{
    char dir[PATH_MAX];

    if (spool_file_dir(dir, sizeof(dir), root, area) < 0)
        return NULL;
    char **v = spool_store_list_dir(dir, NULL);
    size_t j = 0;
    /* Temporary files of an atomic replace are not documents. */
    for (size_t i = 0; v && v[i]; i++) {
        if (strstr(v[i], ".tmp.") || !spool_store_key_ok(v[i]))
            myfree(v[i]);
        else
            v[j++] = v[i];
    }
    if (v)
        v[j] = NULL;
    return v;
}

static int spool_file_lock(const char *root, spool_area area, const char *key)
{
    char path[PATH_MAX];

    if (spool_file_path(path, sizeof(path), root, area, key) < 0)
        return -1;
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0)
        return -1;
    if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
        int saved = errno;
        close(fd);
        errno = saved;
        return -1;
    }
    return fd;
}

static void spool_file_unlock(int handle)
{
    if (handle >= 0)
        close(handle);
}

static void spool_file_describe(const char *root, spool_area area, const char *key, char *out,
                                size_t size)
{
    char dir[PATH_MAX];

    if (spool_file_dir(dir, sizeof(dir), root, area) < 0)
        snprintf(dir, sizeof(dir), "%s", root);
    if (*key)
        snprintf(out, size, "%s/%s", dir, key);
    else
        snprintf(out, size, "%s", dir);
}

const spool_store_ops spool_store_file = {
    "file",
    spool_file_prepare,
    spool_file_read,
    spool_file_replace,
    spool_file_append,
    spool_file_remove,
    spool_file_exists,
    spool_file_list,
    spool_file_lock,
    spool_file_unlock,
    spool_file_describe,
};

/* The dispatch. */

void spool_store_use(spool_area area, const spool_store_ops *ops)
{
    if (area < 0 || area >= SPOOL_AREA_COUNT)
        msg_fatal("spool_store_use: bad area %d", (int)area);
    spool_store_table[area] = ops;
}

const spool_store_ops *spool_store_backend(spool_area area)
{
    return area >= 0 && area < SPOOL_AREA_COUNT && spool_store_table[area] ? spool_store_table[area]
                                                                           : &spool_store_file;
}

int spool_store_prepare(const char *root, spool_area area)
{
    return spool_store_backend(area)->prepare(root, area);
}

int spool_store_read(const char *root, spool_area area, const char *key, vstring *out, size_t max)
{
    return spool_store_backend(area)->read(root, area, key, out, max);
}

int spool_store_replace(const char *root, spool_area area, const char *key, const void *data,
                        size_t len)
{
    return spool_store_backend(area)->replace(root, area, key, data, len);
}

int spool_store_append(const char *root, spool_area area, const char *key, const void *data,
                       size_t len, int flags)
{
    return spool_store_backend(area)->append(root, area, key, data, len, flags);
}

int spool_store_remove(const char *root, spool_area area, const char *key)
{
    return spool_store_backend(area)->remove(root, area, key);
}

int spool_store_exists(const char *root, spool_area area, const char *key)
{
    return spool_store_backend(area)->exists(root, area, key);
}

char **spool_store_list(const char *root, spool_area area)
{
    return spool_store_backend(area)->list(root, area);
}

int spool_store_lock(const char *root, spool_area area, const char *key)
{
    return spool_store_backend(area)->lock(root, area, key);
}

void spool_store_unlock(spool_area area, int handle)
{
    spool_store_backend(area)->unlock(handle);
}

void spool_store_describe(const char *root, spool_area area, const char *key, char *out,
                          size_t size)
{
    spool_store_backend(area)->describe(root, area, key, out, size);
}

char **spool_store_list_free(char **keys)
{
    for (size_t i = 0; keys && keys[i]; i++)
        myfree(keys[i]);
    myfree(keys);
    return NULL;
}
