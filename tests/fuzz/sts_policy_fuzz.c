/* Fuzz target: the MTA-STS policy file parser and the mx pattern matcher. */
#include <stdint.h>
#include <string.h>

#include "sts.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    sts_policy p;
    const char *why;

    if (sts_policy_parse((const char *)data, size, &p, &why) == 0) {
        sts_policy q;
        sts_policy_copy(&q, &p);
        for (size_t i = 0; i < p.nmx; i++)
            (void)sts_mx_match(p.mx[i], "mx.example.com");
        (void)sts_policy_mx_ok(&q, "a.b.example.com.");
        sts_policy_free(&q);
        sts_policy_free(&p);
    }
    return 0;
}
