/* Fuzz target: the datagram decoder, and the journal encoding of what it accepts. */
#include <stdint.h>
#include <string.h>

#include <json-c/json.h>

#include "dgram.h"
#include "jsontok.h"
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
    /* Differential: what the tokenizer accepts, json-c's strict parser accepts too. */
    static jsontok toks[4096];
    /* (Objects and arrays only: json-c waits for more input after a bare top-level number.) */
    if (jsontok_parse((const char *)data, size, toks, 4096, 8) > 0 &&
        (toks[0].type == JSONTOK_OBJECT || toks[0].type == JSONTOK_ARRAY)) {
        json_tokener *tok = json_tokener_new_ex(16);
        json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
        json_object *obj = json_tokener_parse_ex(tok, (const char *)data, (int)size);
        int ok = obj != NULL && json_tokener_get_error(tok) == json_tokener_success;
        json_object_put(obj);
        json_tokener_free(tok);
        /* json-c stops at a NUL byte inside a string; the tokenizer takes it as data. */
        if (!ok && memchr(data, 0, size) == NULL)
            msg_panic("jsontok accepted what strict json-c rejects");
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
