/* Fuzz target: the mail log parser, both formats, over arbitrary bytes split into lines;
 * every outcome it emits must survive the journal encoding. */
#include <stdint.h>
#include <string.h>

#include "logparse.h"
#include "msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_emit(const outcome *o, void *ctx)
{
    static outcome back;
    static vstring *enc;
    (void)ctx;

    if (enc == NULL) {
        outcome_init(&back);
        enc = vstring_alloc(0);
    }
    vstring_reset(enc);
    outcome_encode(o, enc);
    if (outcome_decode(&back, enc->data, enc->len) != 0 || strcmp(back.domain, o->domain) != 0)
        msg_panic("an outcome from the log does not survive the journal");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* The first byte picks the format, so one corpus covers both. */
    if (size == 0)
        return 0;
    logparse *lp = logparse_new(data[0] & 1 ? LOGPARSE_SENDMAIL : LOGPARSE_POSTFIX,
                                OUTCOME_SRC_IMPORT, fuzz_emit, NULL);
    logparse_set_now(lp, 1795392000);
    const char *buf = (const char *)data + 1;
    size_t used = logparse_buffer(lp, buf, size - 1);
    if (used < size - 1)
        logparse_line(lp, buf + used, size - 1 - used);
    logparse_finish(lp);
    logparse_free(lp);
    return 0;
}
