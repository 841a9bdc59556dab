/* Plain driver for the libFuzzer targets: runs every file named (or found in the
 * directories named) through LLVMFuzzerTestOneInput, so make check replays the corpus. As
 * run-fuzzers gives libFuzzer -rss_limit_mb, an input after which the peak RSS has grown by
 * more than REPLAY_RSS_LIMIT_MB (default 256) fails: memory amplification is a finding. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include "fsutil.h"
#include "vstring.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static long replay_rss_base, replay_rss_limit;

static long replay_peak_kb(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss;
}

static int replay_file(const char *path, size_t *n)
{
    vstring *v = vstring_alloc(0);

    if (fsutil_read_file(path, v, 16 * 1024 * 1024) < 0) {
        perror(path);
        vstring_free(v);
        return -1;
    }
    /* A copy of exactly the input's size, so ASan sees any read past its end. */
    uint8_t *copy = malloc(v->len ? v->len : 1);
    memcpy(copy, v->data, v->len);
    LLVMFuzzerTestOneInput(copy, v->len);
    free(copy);
    vstring_free(v);
    (*n)++;
    long grown = replay_peak_kb() - replay_rss_base;
    if (grown > replay_rss_limit * 1024) {
        fprintf(stderr, "%s: peak RSS grew by %ld MiB (limit %ld MiB)\n", path, grown / 1024,
                replay_rss_limit);
        return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    size_t n = 0;
    int bad = 0;
    const char *limit = getenv("REPLAY_RSS_LIMIT_MB");

    replay_rss_limit = limit ? strtol(limit, NULL, 10) : 256;
    replay_rss_base = replay_peak_kb();

    for (int i = 1; i < argc; i++) {
        struct stat st;
        if (stat(argv[i], &st) < 0) {
            perror(argv[i]);
            return 1;
        }
        if (!S_ISDIR(st.st_mode)) {
            bad |= replay_file(argv[i], &n) < 0;
            continue;
        }
        DIR *d = opendir(argv[i]);
        struct dirent *de;
        while (d && (de = readdir(d)) != NULL) {
            char path[4096];
            if (de->d_name[0] == '.')
                continue;
            snprintf(path, sizeof(path), "%s/%s", argv[i], de->d_name);
            bad |= replay_file(path, &n) < 0;
        }
        if (d)
            closedir(d);
    }
    printf("%s: replayed %zu inputs\n", argv[0], n);
    return bad || n == 0;
}
