/* The datagram JSON tokenizer: what RFC 8259 allows, what it forbids, string unescaping,
 * integers, member lookup (last duplicate wins), and the token and depth limits. */
#include "jsontok.h"
#include "t.h"

static jsontok toks[64];

static int parse(const char *s)
{
    return jsontok_parse(s, strlen(s), toks, 64, 4);
}

static void test_valid(void)
{
    static const char *const ok[] = {
        "{}",
        "[]",
        " {\"a\" : [1, -2, 3.5e+2, true, false, null, \"x\"]}\r\n",
        "\"\"",
        "0",
        "-0.0E-7",
        "{\"a\":{\"b\":{\"c\":[]}}}",
        "\"\\u00fc\\n\\\"\\\\\\/\"",
        "\"\xff raw\"",
    };
    static const char *const bad[] = {
        "",           " ",   "{",           "}",         "[1,]",        "{\"a\":1,}", "{\"a\" 1}",
        "{a:1}",      "'x'", "01",          "1.",        ".5",          "1e",         "+1",
        "tru",        "nul", "\"abc",       "\"\\x\"",   "\"\\u12g4\"", "\"a\x01b\"", "[1] 2",
        "{\"a\":1}}", "NaN", "[[[[[1]]]]]", "\"\\u12\"",
    };
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        if (parse(ok[i]) <= 0)
            fprintf(stderr, "rejected: %s\n", ok[i]);
        CHECK(parse(ok[i]) > 0);
    }
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (parse(bad[i]) >= 0)
            fprintf(stderr, "accepted: %s\n", bad[i]);
        CHECK(parse(bad[i]) < 0);
    }
    /* The token limit: 65 values do not fit in 64 tokens. */
    char many[200] = "[";
    for (int i = 0; i < 64; i++)
        strcat(many, i ? ",1" : "1");
    strcat(many, "]");
    CHECK(parse(many) < 0);
}

static void test_access(void)
{
    const char *s = "{\"d\":\"x\",\"p\":[{\"c\":201},{\"c\":-7}],\"d\":\"last\",\"n\":12345678901}";
    char out[64];
    int64_t v;

    CHECK(parse(s) > 0);
    int d = jsontok_member(s, toks, 0, "d");
    CHECK(d > 0);
    out[jsontok_string(s, &toks[d], out)] = 0;
    CHECK_STR(out, "last");
    CHECK_INT(jsontok_member(s, toks, 0, "nope"), -1);
    int p = jsontok_member(s, toks, 0, "p");
    CHECK_INT(toks[p].size, 2);
    int e1 = jsontok_element(toks, p, 1);
    CHECK_INT(jsontok_int(s, &toks[jsontok_member(s, toks, e1, "c")], &v), 0);
    CHECK_INT(v, -7);
    CHECK_INT(jsontok_element(toks, p, 2), -1);
    CHECK_INT(jsontok_int(s, &toks[jsontok_member(s, toks, 0, "n")], &v), 0);
    CHECK_INT(v, 12345678901LL);
    const char *f = "[1.5, 99999999999999999999]";
    CHECK(parse(f) > 0);
    CHECK_INT(jsontok_int(f, &toks[1], &v), -1);
    CHECK_INT(jsontok_int(f, &toks[2], &v), -1);
}

static void test_strings(void)
{
    static const struct {
        const char *json, *want;
    } cases[] = {
        {"\"plain\"", "plain"},
        {"\"a\\r\\nb\\t\\\"\\\\\\/\"", "a\r\nb\t\"\\/"},
        {"\"\\u00fc\\u20ac\"", "\xc3\xbc\xe2\x82\xac"},
        {"\"\\ud83d\\ude00\"", "\xf0\x9f\x98\x80"}, /* surrogate pair */
        {"\"\\ud83d x\"", "\xef\xbf\xbd x"},        /* unpaired: U+FFFD */
        {"\"\\ude00\"", "\xef\xbf\xbd"},
    };
    char out[64];

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        CHECK(parse(cases[i].json) == 1);
        out[jsontok_string(cases[i].json, &toks[0], out)] = 0;
        CHECK_STR(out, cases[i].want);
    }
}

int main(void)
{
    test_valid();
    test_access();
    test_strings();
    return t_done("jsontok_test");
}
