/* Fuzz target: rua mailto: URIs (from DNS) turned into the addresses put in headers. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mailmsg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *uri = malloc(size + 1), out[MAILMSG_ADDR_MAX + 1];

    memcpy(uri, data, size);
    uri[size] = 0;
    if (mailmsg_mailto_addr(uri, out, sizeof(out)) == 0) {
        /* Whatever is accepted is one plain address: nothing that could end a header. */
        if (!mailmsg_addr_valid(out) || strpbrk(out, "\r\n,<> ") != NULL)
            abort();
    }
    mailmsg_addr_valid(uri);
    free(uri);
    return 0;
}
