/* Fuzz target: the domain check's SMTP reply parser, fed a whole server stream and
 * consuming one reply after another as the client does. */
#include <stdint.h>
#include <string.h>

#include "check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *p = (const char *)data;
    check_smtp_reply r;
    const char *why;
    size_t used;

    while (size > 0) {
        if (check_smtp_parse(p, size, &r, &used, &why) != 1)
            break;
        if (used == 0 || used > size || r.code < 200 || r.code > 599 ||
            strlen(r.first) >= sizeof(r.first))
            __builtin_trap();
        p += used;
        size -= used;
    }
    return 0;
}
