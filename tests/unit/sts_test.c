/* MTA-STS parsing (cases as data in tests/data/sts/), the socketmap answers, the on-disk
 * cache and the per-day record of applied policies. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fsutil.h"
#include "golden.h"
#include "mymalloc.h"
#include "sts.h"
#include "sts_applied.h"
#include "sts_cache.h"
#include "t.h"
#include "vstring.h"

static char *read_text(const char *path)
{
    vstring *v = vstring_alloc(0);
    if (fsutil_read_file(path, v, 1 << 20) < 0) {
        fprintf(stderr, "cannot read %s\n", path);
        exit(1);
    }
    char *s = mystrndup(v->data, v->len);
    vstring_free(v);
    return s;
}

static void test_txt(void)
{
    char *text = read_text(TEST_DATA "/sts/txt.cases");
    int n = 0;
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
        char *tab = strchr(line, '\t'), id[STS_ID_MAX + 1] = "";
        if (line[0] == '#' || !tab)
            continue;
        *tab = 0;
        int r = sts_txt_parse(tab + 1, strlen(tab + 1), id, sizeof(id));
        if (strncmp(line, "id:", 3) == 0) {
            CHECK_INT(r, 1);
            CHECK_STR(id, line + 3);
        } else if (strcmp(line, "none") == 0) {
            CHECK_INT(r, 0);
        } else {
            if (r != -1)
                fprintf(stderr, "record \"%s\"\n", tab + 1);
            CHECK_INT(r, -1);
        }
        n++;
    }
    CHECK(n >= 10);
    myfree(text);

    /* The discard rule over a whole RRset. */
    char *one[] = {"v=spf1 -all", "v=STSv1; id=x1", "something"};
    size_t onelen[] = {11, 14, 9};
    char id[STS_ID_MAX + 1];
    const char *why;
    CHECK_INT(sts_txt_select(one, onelen, 3, id, sizeof(id), &why), 1);
    CHECK_STR(id, "x1");
    char *two[] = {"v=STSv1; id=a", "v=STSv1; id=b"};
    size_t twolen[] = {13, 13};
    CHECK_INT(sts_txt_select(two, twolen, 2, id, sizeof(id), &why), -1);
    CHECK_STR(why, "txt-multiple-records");
    CHECK_INT(sts_txt_select(one, onelen, 1, id, sizeof(id), &why), 0);
    char *bad[] = {"v=STSv1; id=a_b"};
    size_t badlen[] = {15};
    CHECK_INT(sts_txt_select(bad, badlen, 1, id, sizeof(id), &why), -1);
    CHECK_STR(why, "txt-invalid");
}

static void test_mx(void)
{
    char *text = read_text(TEST_DATA "/sts/mx.cases");
    char pat[300], host[300];
    int want, n = 0;
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
        if (line[0] == '#' || sscanf(line, "%299s %299s %d", pat, host, &want) != 3)
            continue;
        if (sts_mx_match(pat, host) != want)
            fprintf(stderr, "mx %s vs %s\n", pat, host);
        CHECK_INT(sts_mx_match(pat, host), want);
        n++;
    }
    CHECK(n >= 8);
    myfree(text);
}

static void policy_case(const char *dir, const char *name, vstring *got, void *ctx)
{
    char in[512];
    vstring *body = vstring_alloc(0);
    sts_policy p;
    const char *why;

    (void)ctx;
    snprintf(in, sizeof(in), "%s/%s.in", dir, name);
    CHECK_INT(fsutil_read_file(in, body, 1 << 20), 0);
    if (sts_policy_parse(body->data, body->len, &p, &why) == 0) {
        vstring_sprintf_append(got, "ok %s %ld ", sts_mode_name(p.mode), p.max_age);
        for (size_t i = 0; i < p.nmx; i++)
            vstring_sprintf_append(got, "%s%s", i ? "," : "", p.mx[i]);
        vstring_sprintf_append(got, "%s %zu\n", p.nmx ? "" : "-", p.nlines);
        sts_policy_free(&p);
    } else {
        vstring_sprintf_append(got, "invalid %s\n", why);
        CHECK(p.nmx == 0 && p.mx == NULL);
    }
    vstring_free(body);
}

static void test_policy(void)
{
    CHECK(golden_run(TEST_DATA "/sts/policy", ".in", ".want", policy_case, NULL) >= 15);

    /* The 64 KiB cap. */
    size_t big = STS_POLICY_MAX + 1;
    char *buf = mymalloc(big);
    memset(buf, '\n', big);
    sts_policy p;
    const char *why;
    CHECK_INT(sts_policy_parse(buf, big, &p, &why), -1);
    CHECK_STR(why, "policy-too-large");
    myfree(buf);
}

static void make_entry(sts_cache_entry *e, const char *text, time_t now)
{
    const char *why;
    memset(e, 0, sizeof(*e));
    CHECK_INT(sts_policy_parse(text, strlen(text), &e->policy, &why), 0);
    e->have_policy = 1;
    snprintf(e->id, sizeof(e->id), "id1");
    e->fetched = now;
    e->expires = now + e->policy.max_age;
}

static void test_answer_and_cache(const char *dir)
{
    time_t now = 1700000000;
    sts_cache_entry e, back;
    vstring *a = vstring_alloc(0);

    make_entry(&e,
               "version: STSv1\nmode: enforce\nmx: mx1.example.com\nmx: *.example.com\n"
               "max_age: 3600\nx: {evil}\n",
               now);
    sts_cache_answer(&e, "example.com", now, 0, "", "may", a);
    CHECK_STR(a->data, "OK secure match=mx1.example.com:.example.com servername=hostname");
    sts_cache_answer(&e, "example.com", now, 1, "", "may", a);
    CHECK_STR(a->data, "OK secure match=mx1.example.com:.example.com servername=hostname "
                       "policy_type=sts policy_domain=example.com "
                       "mx_host_pattern=mx1.example.com mx_host_pattern=*.example.com "
                       "{ policy_string = version: STSv1 } { policy_string = mode: enforce } "
                       "{ policy_string = mx: mx1.example.com } "
                       "{ policy_string = mx: *.example.com } { policy_string = max_age: 3600 }");
    /* DANE first: with validated TLSA records at every MX, a site at dane keeps DANE. */
    e.dane = 1;
    sts_cache_answer(&e, "example.com", now, 1, "", "dane", a);
    CHECK_STR(a->data, "NOTFOUND ");
    sts_cache_answer(&e, "example.com", now, 1, "", "dane-only", a);
    CHECK_STR(a->data, "NOTFOUND ");
    sts_cache_answer(&e, "example.com", now, 0, "", "may", a); /* a site without DANE */
    CHECK_STR(a->data, "OK secure match=mx1.example.com:.example.com servername=hostname");
    e.dane = 0;
    sts_cache_answer(&e, "example.com", now, 1, "", "dane", a);
    CHECK(strncmp(a->data, "OK secure match=", 16) == 0);
    sts_cache_answer(&e, "example.com", now + 3600, 0, "", "may", a);
    CHECK_STR(a->data, "NOTFOUND "); /* expired */
    sts_cache_answer(NULL, "example.com", now, 0, "", "may", a);
    CHECK_STR(a->data, "NOTFOUND ");

    /* Round trip through the disk, with a failure remembered. */
    e.failed_at = now + 5;
    snprintf(e.failed_id, sizeof(e.failed_id), "id2");
    e.failed_result = 301;
    snprintf(e.failed_reason, sizeof(e.failed_reason), "http-404");
    CHECK_INT(sts_cache_save(dir, "example.com", &e), 0);
    CHECK_INT(sts_cache_load(dir, "example.com", &back), 1);
    CHECK_STR(back.id, "id1");
    CHECK_INT(back.expires, now + 3600);
    CHECK_INT(back.policy.nlines, 6);
    CHECK_INT(back.failed_result, 301);
    CHECK_STR(back.failed_reason, "http-404");
    CHECK_STR(back.failed_id, "id2");
    sts_cache_entry_free(&back);
    CHECK_INT(sts_cache_load(dir, "other.example", &back), 0);
    /* A failed refresh keeps the usable cached policy: no policy_failure. */
    sts_cache_answer(&e, "example.com", now + 5, 1, "", "may", a);
    CHECK(strstr(a->data, "OK secure match=") == a->data && !strstr(a->data, "policy_failure"));
    sts_cache_entry_free(&e);

    /* A failed fetch and no usable policy: NOTFOUND without attributes; with them, the
     * testing level (may when unset) and the failure, for Postfix's own report. */
    static const struct {
        int result;
        const char *testing, *want;
    } fails[] = {
        {301, "",
         "OK may policy_type=sts policy_domain=example.com "
         "policy_failure=sts-policy-fetch-error"},
        {302, "encrypt",
         "OK encrypt policy_type=sts policy_domain=example.com "
         "policy_failure=sts-policy-invalid"},
        {303, "",
         "OK may policy_type=sts policy_domain=example.com "
         "policy_failure=sts-webpki-invalid"},
    };
    for (size_t i = 0; i < sizeof(fails) / sizeof(fails[0]); i++) {
        memset(&e, 0, sizeof(e));
        e.failed_at = now;
        e.failed_result = fails[i].result;
        sts_cache_answer(&e, "example.com", now, 0, fails[i].testing, "may", a);
        CHECK_STR(a->data, "NOTFOUND ");
        sts_cache_answer(&e, "example.com", now, 1, fails[i].testing, "may", a);
        CHECK_STR(a->data, fails[i].want);
        sts_cache_forget_failure(&e);
        sts_cache_answer(&e, "example.com", now, 1, fails[i].testing, "may", a);
        CHECK_STR(a->data, "NOTFOUND ");
    }
    /* An expired policy whose refresh failed is no policy either. */
    make_entry(&e, "version: STSv1\nmode: enforce\nmx: mx.example.com\nmax_age: 60\n", now);
    e.failed_at = now + 30;
    e.failed_result = 301;
    sts_cache_answer(&e, "example.com", now + 60, 1, "", "may", a);
    CHECK_STR(a->data, "OK may policy_type=sts policy_domain=example.com "
                       "policy_failure=sts-policy-fetch-error");
    sts_cache_entry_free(&e);

    make_entry(&e, "version: STSv1\nmode: testing\nmx: mx.example.org\nmax_age: 60\n", now);
    sts_cache_answer(&e, "example.org", now, 0, "", "may", a);
    CHECK_STR(a->data, "NOTFOUND ");
    sts_cache_answer(&e, "example.org", now, 0, "may", "may", a);
    CHECK_STR(a->data, "OK may");
    /* With the attributes a testing policy is reported as sts, at the site's own level
     * (a site at encrypt or dane keeps it); at "none" Postfix would drop them. */
    static const char *testing_attrs =
        " policy_type=sts policy_domain=example.org mx_host_pattern=mx.example.org "
        "{ policy_string = version: STSv1 } { policy_string = mode: testing } "
        "{ policy_string = mx: mx.example.org } { policy_string = max_age: 60 }";
    static const char *levels[] = {"may", "encrypt", "dane"};
    for (size_t i = 0; i < sizeof(levels) / sizeof(levels[0]); i++) {
        char want[512];
        snprintf(want, sizeof(want), "OK %s%s", levels[i], testing_attrs);
        sts_cache_answer(&e, "example.org", now, 1, "", levels[i], a);
        CHECK_STR(a->data, want);
    }
    sts_cache_answer(&e, "example.org", now, 1, "", "none", a);
    CHECK_STR(a->data, "NOTFOUND ");
    /* A failed fetch keeps the site's level too. */
    sts_cache_entry_free(&e);
    memset(&e, 0, sizeof(e));
    e.failed_at = now;
    e.failed_result = 301;
    sts_cache_answer(&e, "example.org", now, 1, "", "dane", a);
    CHECK_STR(a->data, "OK dane policy_type=sts policy_domain=example.org "
                       "policy_failure=sts-policy-fetch-error");
    sts_cache_answer(&e, "example.org", now, 1, "", "none", a);
    CHECK_STR(a->data, "NOTFOUND ");
    sts_cache_entry_free(&e);
    make_entry(&e, "version: STSv1\nmode: none\nmax_age: 60\n", now);
    sts_cache_answer(&e, "example.org", now, 1, "may", "may", a);
    CHECK_STR(a->data, "NOTFOUND ");
    sts_cache_entry_free(&e);
    vstring_free(a);

    /* A corrupt file is refused. */
    char path[600];
    snprintf(path, sizeof(path), "%s/sts/cache/corrupt.example", dir);
    CHECK_INT(fsutil_write_atomic(path, "OTRSTS1\nid x\n\nmode: bogus\n", 26, 0600), 0);
    CHECK_INT(sts_cache_load(dir, "corrupt.example", &back), -1);
}

static void test_applied(const char *dir)
{
    time_t day1 = 1700000000, day2 = day1 + 86400;
    const char *s1[] = {"version: STSv1", "mode: enforce", "note: 100% \tsure"};
    const char *m1[] = {"*.example.com"};
    const char *s2[] = {"version: STSv1", "mode: testing"};
    sts_applied a;

    CHECK_INT(sts_applied_get(dir, "2023-11-14", "example.com", &a), 0);
    CHECK_INT(sts_applied_record(dir, day1, "example.com", s1, 3, m1, 1), 0);
    CHECK_INT(sts_applied_record(dir, day1, "example.com", s1, 3, m1, 1), 0); /* no write */
    CHECK_INT(sts_applied_record(dir, day1, "example.org", s2, 2, m1, 0), 0);
    CHECK_INT(sts_applied_get(dir, "2023-11-14", "example.com", &a), 1);
    CHECK_INT(a.nstrings, 3);
    CHECK_INT(a.nmx, 1);
    CHECK_STR(a.strings[2], "note: 100% \tsure");
    CHECK_STR(a.mx[0], "*.example.com");
    sts_applied_free(&a);
    /* The policy changed during the day: the latest wins. */
    CHECK_INT(sts_applied_record(dir, day1 + 60, "example.com", s2, 2, NULL, 0), 0);
    CHECK_INT(sts_applied_get(dir, "2023-11-14", "example.com", &a), 1);
    CHECK_INT(a.nstrings, 2);
    CHECK_STR(a.strings[1], "mode: testing");
    sts_applied_free(&a);
    CHECK_INT(sts_applied_get(dir, "2023-11-15", "example.com", &a), 0);
    CHECK_INT(sts_applied_record(dir, day2, "example.com", s1, 3, m1, 1), 0);
    CHECK_INT(sts_applied_get(dir, "2023-11-15", "example.com", &a), 1);
    sts_applied_free(&a);
    CHECK_INT(sts_applied_get(dir, "not-a-day", "example.com", &a), -1);

    /* Two lines, one of them torn: the file has the first one only. */
    char path[600];
    vstring *v = vstring_alloc(0);
    snprintf(path, sizeof(path), "%s/sts/applied/2023-11-14.txt", dir);
    CHECK_INT(fsutil_read_file(path, v, 1 << 20), 0);
    CHECK_INT(v->len > 0 && v->data[v->len - 1] == '\n', 1);
    vstring_free(v);
    const char *torn = "example.net 1 0 version:%20STSv1\nexample.net 2 0 mode";
    snprintf(path, sizeof(path), "%s/sts/applied/2023-11-16.txt", dir);
    CHECK_INT(fsutil_write_atomic(path, torn, strlen(torn), 0600), 0);
    CHECK_INT(sts_applied_get(dir, "2023-11-16", "example.net", &a), 1);
    CHECK_INT(a.nstrings, 1);
    CHECK_STR(a.strings[0], "version: STSv1");
    sts_applied_free(&a);
}

int main(void)
{
    char dir[] = "/tmp/sts_test.XXXXXX";
    if (!mkdtemp(dir))
        return 1;
    test_txt();
    test_mx();
    test_policy();
    test_answer_and_cache(dir);
    test_applied(dir);
    t_rmtree(dir);
    return t_done("sts_test");
}
