#ifndef OTR_TEST_DUMP_H
#define OTR_TEST_DUMP_H
/* Text form of an outcome for data-driven tests: one field per line, bytes escaped. */
#include "outcome.h"
#include "vstring.h"

static void dump_str(vstring *out, const char *s)
{
    if (s == NULL) {
        vstring_append_str(out, "-");
        return;
    }
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '\r')
            vstring_append_str(out, "\\r");
        else if (*p == '\n')
            vstring_append_str(out, "\\n");
        else if (*p == '\\')
            vstring_append_str(out, "\\\\");
        else if (*p < 0x20 || *p >= 0x7f)
            vstring_sprintf_append(out, "\\x%02x", *p);
        else
            vstring_append_char(out, *p);
    }
}

static void dump_outcome(vstring *out, const outcome *o)
{
    vstring_append_str(out, "domain ");
    dump_str(out, o->domain);
    vstring_append_str(out, "\nrecord ");
    dump_str(out, o->record);
    vstring_append_str(out, "\n");
    for (size_t i = 0; i < o->npolicies; i++) {
        const outcome_policy *p = &o->policies[i];
        vstring_sprintf_append(out, "policy %s failed=%d domain=", outcome_policy_name(p->type),
                               p->failed);
        dump_str(out, p->domain);
        vstring_append_str(out, "\n");
        for (size_t j = 0; j < p->nstrings; j++) {
            vstring_append_str(out, "  string ");
            dump_str(out, p->strings[j]);
            vstring_append_str(out, "\n");
        }
        for (size_t j = 0; j < p->nmx_hosts; j++) {
            vstring_append_str(out, "  mx-host ");
            dump_str(out, p->mx_hosts[j]);
            vstring_append_str(out, "\n");
        }
        for (size_t j = 0; j < p->nfailures; j++) {
            static const char *const label[OUTCOME_FAILURE_NSTR] = {
                " s=", " n=", " h=", " r=", " a=", " f="};
            const char *str[OUTCOME_FAILURE_NSTR];
            vstring_sprintf_append(out, "  failure %s", outcome_result_name(p->failures[j].result));
            outcome_failure_strings(&p->failures[j], str);
            for (size_t k = 0; k < OUTCOME_FAILURE_NSTR; k++) {
                vstring_append_str(out, label[k]);
                dump_str(out, str[k]);
            }
            vstring_append_str(out, "\n");
        }
    }
}
#endif
