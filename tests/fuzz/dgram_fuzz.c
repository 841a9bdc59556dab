/* Fuzz target: the datagram decoder, and the journal encoding of what it accepts. */
#include <stdint.h>
#include <string.h>

#include "dgram.h"
#include "msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static dgram_decoder *d;
    static outcome o, back;
    static vstring *enc;

    if (d == NULL) {
        d = dgram_decoder_new();
        outcome_init(&o);
        outcome_init(&back);
        enc = vstring_alloc(0);
    }
    if (dgram_decode(d, data, size, &o, NULL) != DGRAM_OK)
        return 0;
    /* What the decoder accepts must survive the journal encoding unchanged. */
    vstring_reset(enc);
    outcome_encode(&o, enc);
    if (outcome_decode(&back, enc->data, enc->len) != 0)
        msg_panic("accepted datagram does not decode from the journal");
    if (strcmp(back.domain, o.domain) != 0 || back.npolicies != o.npolicies)
        msg_panic("journal round trip changed the outcome");
    /* Arbitrary bytes as a journal payload must never crash the decoder either. */
    outcome_decode(&back, data, size);
    return 0;
}
