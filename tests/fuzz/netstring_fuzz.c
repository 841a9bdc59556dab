/* Fuzz target: the netstring reader, as the policy service runs it over a client's bytes. */
#include <stdint.h>
#include <string.h>

#include "netstring.h"
#include "vstring.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *buf = (const char *)data, *payload;
    size_t off = 0, dlen, used;
    vstring *echo = vstring_alloc(4 * size + 64);

    while (off < size) {
        netstring_status st = netstring_parse(buf + off, size - off, 1024, &payload, &dlen, &used);
        if (st != NETSTRING_OK)
            break;
        if (dlen > 1024 || used > size - off || payload < buf + off ||
            payload + dlen > buf + off + used)
            __builtin_trap();
        netstring_append(echo, payload, dlen);
        off += used;
    }
    vstring_free(echo);
    return 0;
}
