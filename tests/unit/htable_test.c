/* htable: entries with their value in the same block, dropping entries by a predicate,
 * lookups by a hash computed beforehand; and jsonw's escapes, the ones json-c writes. */
#include <json-c/json.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "htable.h"
#include "jsonw.h"
#include "mymalloc.h"
#include "t.h"

typedef struct {
    uint64_t count;
    char tag[40];
} counted;

static int keep_even(const htable_entry *e, void *ctx)
{
    ++*(int *)ctx;
    return ((const counted *)e->value)->count % 2 == 0;
}

static void test_sized(void)
{
    htable *t = htable_create(4);
    char key[32];
    int created;

    /* Enough keys to make the table grow several times under the entries. */
    for (int round = 0; round < 3; round++)
        for (int i = 0; i < 5000; i++) {
            int n = snprintf(key, sizeof(key), "key-%d", i);
            htable_entry *e = htable_enter_sized(t, key, (size_t)n, sizeof(counted), &created);
            counted *c = e->value;
            CHECK_INT(created, round == 0);
            if (created) {
                /* Zeroed, and inside the entry's own block, past its key. */
                CHECK_INT(c->count, 0);
                CHECK((char *)c > e->key + e->klen && (char *)c < (char *)e + 256);
                CHECK_INT((uintptr_t)c % 16, 0);
                snprintf(c->tag, sizeof(c->tag), "tag-%d", i);
            }
            c->count += (uint64_t)i;
        }
    CHECK_INT(t->used, 5000);
    htable_entry *e = htable_locate(t, "key-4321", 8);
    CHECK(e != NULL);
    CHECK_INT(((counted *)e->value)->count, 3 * 4321);
    CHECK_STR(((counted *)e->value)->tag, "tag-4321");
    /* A hash computed first finds the same entry. */
    CHECK(htable_enter_hashed(t, "key-4321", 8, htable_key_hash("key-4321", 8), sizeof(counted),
                              &created) == e);
    CHECK_INT(created, 0);
    htable_prefetch(t, htable_key_hash("key-7", 5));
    htable_prefetch_entry(t, htable_key_hash("key-7", 5));

    /* count is 3i: even exactly for even i. */
    int asked = 0;
    htable_drop(t, keep_even, &asked, NULL);
    CHECK_INT(asked, 5000);
    CHECK_INT(t->used, 2500);
    CHECK(htable_locate(t, "key-4321", 8) == NULL);
    CHECK(htable_locate(t, "key-4320", 8) != NULL);
    size_t n = 0;
    htable_entry **v = htable_sorted(t);
    for (; v[n]; n++)
        CHECK_INT(((counted *)v[n]->value)->count % 2, 0);
    CHECK_INT(n, 2500);
    myfree(v);
    htable_free(t, NULL);
}

/* jsonw_strn against json-c's own writer, byte for byte. */
static void test_jsonw(void)
{
    static const struct {
        const char *in;
        size_t len;
        const char *want;
    } cases[] = {
        {"plain", 5, "\"plain\""},
        {"", 0, "\"\""},
        {"a\"b\\c/d", 7, "\"a\\\"b\\\\c/d\""},
        {"\b\t\n\f\r", 5, "\"\\b\\t\\n\\f\\r\""},
        {"\x01\x1f\x7f", 3, "\"\\u0001\\u001f\x7f\""},
        {"caf\xc3\xa9 \xe2\x82\xac", 9, "\"caf\xc3\xa9 \xe2\x82\xac\""},
        {"nul\0after", 9, "\"nul\\u0000after\""},
    };
    vstring *out = vstring_alloc(0);

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        vstring_reset(out);
        jsonw_strn(out, cases[i].in, cases[i].len);
        CHECK_INT(out->len, strlen(cases[i].want));
        CHECK(memcmp(out->data, cases[i].want, out->len) == 0);
        if (memchr(cases[i].in, 0, cases[i].len))
            continue; /* json-c takes C strings */
        json_object *s = json_object_new_string_len(cases[i].in, (int)cases[i].len);
        CHECK_STR(out->data, json_object_to_json_string_ext(s, JSON_C_TO_STRING_NOSLASHESCAPE));
        json_object_put(s);
    }
    vstring_reset(out);
    jsonw_str(out, "x\"y");
    CHECK_STR(out->data, "\"x\\\"y\"");
    vstring_free(out);
}

int main(void)
{
    test_sized();
    test_jsonw();
    return t_done("htable_test");
}
