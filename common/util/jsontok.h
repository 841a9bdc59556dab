#ifndef OTR_JSONTOK_H
#define OTR_JSONTOK_H
/*
 * A strict, allocation-free JSON tokenizer (RFC 8259) for the datagram hot path: the input
 * is split into a flat array of tokens that point into it. json-c's object tree costs a
 * malloc per value, which made it the writer's bottleneck at ~100k datagrams/s.
 */
#include <stddef.h>
#include <stdint.h>

typedef enum {
    JSONTOK_OBJECT = 1,
    JSONTOK_ARRAY,
    JSONTOK_STRING, /* start/end exclude the quotes; escapes are still in place */
    JSONTOK_NUMBER,
    JSONTOK_TRUE,
    JSONTOK_FALSE,
    JSONTOK_NULL,
} jsontok_type;

typedef struct jsontok {
    jsontok_type type;
    uint32_t start, end; /* byte offsets into the input */
    uint32_t size;       /* objects: members; arrays: elements */
    uint32_t next;       /* index of the token after this one and all it contains */
    int escaped;         /* strings: contains a backslash escape */
} jsontok;

/* Tokenizes len bytes (one JSON value, white space around it allowed) into toks (max
 * entries, nesting at most depth). Returns the number of tokens, -1 when the input is not
 * valid JSON or nests deeper, or -2 when it needs more than max tokens. */
int jsontok_parse(const char *in, size_t len, jsontok *toks, size_t max, int depth);
/* As jsontok_parse; on -1, *errpos (may be NULL) is the offset where the input went wrong
 * (len: it ended too soon). */
int jsontok_parse_ex(const char *in, size_t len, jsontok *toks, size_t max, int depth,
                     size_t *errpos);
/* Finds member key of the object at index obj; returns the value's index or -1. When a key
 * repeats, the last one wins (as in json-c). */
int jsontok_member(const char *in, const jsontok *toks, int obj, const char *key);
/* Index of the i-th element of the array at index arr, or -1. */
int jsontok_element(const jsontok *toks, int arr, uint32_t i);
/* Decodes the string token t into out (size > t's raw length); \u escapes become UTF-8
 * (unpaired surrogates become U+FFFD). Returns the decoded length. */
size_t jsontok_string(const char *in, const jsontok *t, char *out);
/* The integer value of a number token; returns 0, or -1 when it is not an integer that fits. */
int jsontok_int(const char *in, const jsontok *t, int64_t *out);
#endif
