/* Fuzz target: received reports, as a whole message (the MIME walker, base64/QP, gzip with
 * its cap, the liberal JSON parser) and as a bare payload; what parses must normalize, within
 * INREPORT_STORED_MAX of its JSON, and parse again to the same report. Run with
 * -rss_limit_mb/-malloc_limit_mb 256 (run-fuzzers): amplification is a finding. */
#include <stdint.h>
#include <string.h>

#include "domain.h"
#include "inreport.h"
#include "msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void inreport_fuzz_check(const inreport *r)
{
    static inreport back;
    static int init;
    char err[200];

    if (!init) {
        inreport_init(&back);
        init = 1;
    }
    vstring *text = vstring_alloc(0);
    inreport_json_text(r, text);
    if (text->len > INREPORT_STORED_MAX(r->json_len))
        msg_panic("normalized report of %zu bytes from %zu bytes of JSON", text->len, r->json_len);
    if (inreport_parse_json(&back, text->data, text->len, err, sizeof(err)) != 0)
        msg_panic("normalized report does not parse: %s", err);
    if (back.npolicies != r->npolicies || strcmp(back.report_id, r->report_id) != 0 ||
        back.start != r->start || back.end != r->end)
        msg_panic("normalized report changed");
    vstring_free(text);
    /* Policy domains are what the summary shows with their U-labels: the decoder sees
     * whatever A-labels a sender wrote. */
    for (size_t i = 0; i < r->npolicies; i++) {
        char u[4 * DOMAIN_MAX + 1];
        if (r->policies[i].domain && domain_to_unicode(r->policies[i].domain, u, sizeof(u)) > 0 &&
            strlen(u) == 0)
            msg_panic("empty U-label form of %s", r->policies[i].domain);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static inreport r;
    static int init;
    inreport_meta meta;
    char err[200];

    if (!init) {
        inreport_init(&r);
        init = 1;
    }
    /* A small cap keeps each run fast and exercises the bomb path. */
    if (inreport_parse_message(&r, (const char *)data, size, 1 << 20, &meta, err, sizeof(err)) ==
        INREPORT_OK)
        inreport_fuzz_check(&r);
    if (inreport_parse_payload(&r, data, size, 1 << 20, err, sizeof(err)) == 0)
        inreport_fuzz_check(&r);
    return 0;
}
