/* Fuzz target: the RDATA decoders of common/mail/dns.c (answers from the network). The first
 * byte picks the type, the rest is the RDATA. */
#include <stdint.h>
#include <string.h>

#include "dns.h"
#include "vstring.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const int types[] = {1, 15, 16, 28, 52};

    if (size < 1)
        return 0;
    int type = types[data[0] % 5];
    vstring *v = vstring_alloc(0);
    if (dns_rdata_text(type, data + 1, size - 1, v) == 0 && type != 16) {
        /* only TXT may carry arbitrary bytes; names and hex are printable */
        for (size_t i = 0; i < vstring_len(v); i++)
            if ((unsigned char)v->data[i] < 0x20 || (unsigned char)v->data[i] >= 0x7f)
                __builtin_trap();
    }
    vstring_free(v);
    return 0;
}
