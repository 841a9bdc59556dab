/* Fuzz target: DKIM verification of received reports. The input is a key record, a NUL
 * byte, then a message; both come from the network in the milter. */
#include <stdint.h>
#include <string.h>

#include "dkim.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *in = (const char *)data;
    const char *nul = memchr(in, 0, size);
    size_t klen = nul ? (size_t)(nul - in) : 0;
    const char *msg = nul ? nul + 1 : in;
    size_t mlen = size - (size_t)(msg - in);
    char why[128], dom[300], sel[64];

    for (size_t i = 0; i < 3; i++) {
        dkim_signature_info(msg, mlen, i, dom, sizeof(dom), sel, sizeof(sel), why, sizeof(why));
        if (dkim_verify(msg, mlen, i, in, klen, why, sizeof(why)) == DKIM_NONE)
            break;
    }
    return 0;
}
