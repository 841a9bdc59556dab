/* Fuzz target: the TLSRPT record parser and the e-mail address check it uses. */
#include <stdint.h>
#include <string.h>

#include "mailaddr.h"
#include "tlsrpt_record.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    tlsrpt_record rec;
    char why[256];

    if (tlsrpt_record_parse((const char *)data, size, &rec, why, sizeof(why)) == 0) {
        /* what the parser kept must satisfy what delivery relies on */
        for (size_t i = 0; i < rec.n; i++) {
            if (rec.uris[i].kind == TLSRPT_URI_MAILTO &&
                !mailaddr_valid(rec.uris[i].target, strlen(rec.uris[i].target)))
                __builtin_trap();
            if (strpbrk(rec.uris[i].uri, " \t\r\n,;") != NULL)
                __builtin_trap();
        }
    }
    tlsrpt_record_free(&rec);
    (void)mailaddr_valid((const char *)data, size);
    return 0;
}
