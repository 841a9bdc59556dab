/* Fuzz target: the `_mta-sts` TXT record parser and the discard rule over several records
 * (the input split at NUL bytes). */
#include <stdint.h>
#include <string.h>

#include "sts.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char id[STS_ID_MAX + 1], *rr[8];
    size_t rrlen[8], n = 0, start = 0;
    const char *why;

    (void)sts_txt_parse((const char *)data, size, id, sizeof(id));
    for (size_t i = 0; i <= size && n < 8; i++) {
        if (i == size || data[i] == 0) {
            rr[n] = (char *)data + start;
            rrlen[n++] = i - start;
            start = i + 1;
        }
    }
    (void)sts_txt_select(rr, rrlen, n, id, sizeof(id), &why);
    return 0;
}
