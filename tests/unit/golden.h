#ifndef OTR_TEST_GOLDEN_H
#define OTR_TEST_GOLDEN_H
/*
 * Golden-file cases, one runner for every data-driven unit test: each DIR/NAME<in_ext> is
 * run through the test's function into a text, compared with DIR/NAME<out_ext>. With
 * OTR_REGEN=1 the expected files are rewritten instead and the run fails, so that a
 * regeneration is reviewed (git diff) and the test run again, never counted as a pass.
 */
#include <dirent.h>
#include <stdlib.h>

#include "fsutil.h"
#include "t.h"
#include "vstring.h"

#define GOLDEN_MAX (64 << 20) /* the largest case file read */

/* Runs one case: reads what it needs from dir (name has no extension), appends its text to
 * got. */
typedef void (*golden_fn)(const char *dir, const char *name, vstring *got, void *ctx);

static const char *golden_in_ext;

static int golden_is_case(const struct dirent *de)
{
    size_t len = strlen(de->d_name), n = strlen(golden_in_ext);
    return len > n && strcmp(de->d_name + len - n, golden_in_ext) == 0;
}

/* Compares got with path (or rewrites path under OTR_REGEN); returns 1 when it rewrote a
 * file whose content changed. */
static int golden_compare(const char *path, const char *name, const vstring *got)
{
    vstring *want = vstring_alloc(0);
    int have = fsutil_read_file(path, want, GOLDEN_MAX) == 0, changed = 0;

    if (getenv("OTR_REGEN")) {
        changed = !have || strcmp(got->data, want->data) != 0;
        if (changed)
            CHECK(fsutil_write_atomic(path, got->data, got->len, 0644) == 0);
    } else if (!have) {
        fprintf(stderr, "%s: missing expected output\n", path);
        CHECK(0);
    } else if (strcmp(got->data, want->data) != 0) {
        fprintf(stderr, "case %s:\n--- want\n%s--- got\n%s", name, want->data, got->data);
        CHECK(0);
    } else {
        CHECK(1);
    }
    vstring_free(want);
    return changed;
}

/* Runs every case of dir in name order; returns how many there were. */
static int golden_run(const char *dir, const char *in_ext, const char *out_ext, golden_fn fn,
                      void *ctx)
{
    struct dirent **list;
    char name[256], path[4096];
    int rewritten = 0;

    golden_in_ext = in_ext;
    int n = scandir(dir, &list, golden_is_case, alphasort);
    CHECK(n >= 0);
    for (int i = 0; i < n; i++) {
        vstring *got = vstring_alloc(0);
        snprintf(name, sizeof(name), "%.*s", (int)(strlen(list[i]->d_name) - strlen(in_ext)),
                 list[i]->d_name);
        fn(dir, name, got, ctx);
        snprintf(path, sizeof(path), "%s/%s%s", dir, name, out_ext);
        rewritten += golden_compare(path, name, got);
        vstring_free(got);
        free(list[i]);
    }
    if (n >= 0)
        free(list);
    if (getenv("OTR_REGEN")) {
        fprintf(stderr,
                "OTR_REGEN: %d of the %d %s files in %s rewritten; review them (git diff), "
                "then run the test again without OTR_REGEN\n",
                rewritten, n, out_ext, dir);
        t_checks++;
        t_failures++;
    }
    return n;
}
#endif
