/* Failures in plain words: what happened, where, and the likely fix. */
#include <inttypes.h>
#include <string.h>

#include "summary_int.h"

static const struct {
    const char *type;
    const char *what;
    const char *fix;
} summary_explanations[] = {
    {"starttls-not-supported", "did not offer STARTTLS",
     "enable STARTTLS with a valid certificate on {mx} (Postfix: smtpd_tls_security_level = may)"},
    {"certificate-host-mismatch", "served a certificate that does not name the host",
     "install a certificate whose subjectAltName covers {mx}, and list only covered names in "
     "the MX records and the MTA-STS policy"},
    {"certificate-expired", "served an expired certificate",
     "renew the certificate on {mx} and reload the MTA (check that automatic renewal reloads it)"},
    {"certificate-not-trusted", "served a certificate the sender does not trust",
     "install a certificate from a public CA with its full intermediate chain on {mx}"},
    {"validation-failure", "failed TLS validation",
     "look at the failure reason code and the TLS log of {mx}"},
    {"tlsa-invalid", "presented a certificate that matches none of its DANE TLSA records",
     "publish TLSA records matching the key in use on {mx} (publish the next key's record "
     "before a rollover)"},
    {"dnssec-invalid", "has TLSA records whose DNSSEC validation failed",
     "fix the DNSSEC chain of the zone of {mx} (DS record at the parent, unexpired signatures)"},
    {"dane-required", "had no usable DNSSEC-signed TLSA records, which the sender requires",
     "publish DNSSEC-signed TLSA records for {mx}, or stop asking for DANE"},
    {"sts-policy-fetch-error", "could not fetch the MTA-STS policy",
     "make https://mta-sts.{domain}/.well-known/mta-sts.txt answer 200 with the policy "
     "(DNS name, web server and firewall)"},
    {"sts-policy-invalid", "could not parse the MTA-STS policy",
     "fix the policy file at https://mta-sts.{domain}/.well-known/mta-sts.txt (version: STSv1, "
     "mode, mx and max_age lines, served as text/plain)"},
    {"sts-webpki-invalid", "did not accept the HTTPS certificate of the MTA-STS policy host",
     "install a publicly trusted certificate for mta-sts.{domain}"},
};

#define NEXPLAIN (sizeof(summary_explanations) / sizeof(summary_explanations[0]))

const char *summary_explain(const char *result_type, const char **fix)
{
    for (size_t i = 0; i < NEXPLAIN; i++)
        if (strcmp(result_type, summary_explanations[i].type) == 0) {
            if (fix)
                *fix = summary_explanations[i].fix;
            return summary_explanations[i].what;
        }
    if (fix)
        *fix = "look up this failure type and the reason code in the report, and the TLS log "
               "of {mx}";
    return "failed TLS with a failure type this summary does not know";
}

/* Replaces {mx} and {domain} in a template (never a printf format: the values come from
 * reports). */
void summary_fill(vstring *out, const char *tpl, const char *mx, const char *domain)
{
    for (const char *p = tpl; *p; p++) {
        if (strncmp(p, "{mx}", 4) == 0) {
            vstring_append_str(out, mx ? mx : "the MX host");
            p += 3;
        } else if (strncmp(p, "{domain}", 8) == 0) {
            vstring_append_str(out, domain);
            p += 7;
        } else {
            vstring_append_char(out, *p);
        }
    }
}

int summary_sts_type(const char *t)
{
    return strncmp(t, "sts-", 4) == 0;
}

/* "mx2.example.com (198.51.100.25) served an expired certificate to Google: 37 sessions
 * failed on 2026-11-20" into out; the fix into fix. */
void summary_sentence(const sum_fail *f, const char *domain, const char *day, vstring *out,
                      vstring *fix)
{
    const char *tfix;
    const char *what = summary_explain(f->result_type, &tfix);

    if (summary_sts_type(f->result_type)) {
        /* Policy failures are the sender's view: "<reporter> could not fetch ... of <domain>". */
        vstring_append_str(out, f->reporter);
        vstring_append_char(out, ' ');
        vstring_append_str(out, what);
        vstring_append_str(out, " of ");
        vstring_append_str(out, domain);
    } else {
        vstring_append_str(out, f->mx ? f->mx : "an MX host (not named in the report)");
        if (f->ip) {
            vstring_append_str(out, " (");
            vstring_append_str(out, f->ip);
            vstring_append_str(out, ")");
        }
        vstring_append_char(out, ' ');
        vstring_append_str(out, what);
        vstring_append_str(out, " to ");
        vstring_append_str(out, f->reporter);
    }
    vstring_sprintf_append(out, ": %" PRIu64 " session%s failed on %s", f->count,
                           f->count == 1 ? "" : "s", day);
    /* What the reporter adds, so nobody has to open the report for it. */
    const char *labels[] = {"policy ", "reason: ", "from ", "MX said HELO ", ""};
    const char *values[] = {f->policy_type, f->reason, f->sending_ip, f->helo, f->info};
    int open = 0;
    for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
        if (values[i] == NULL)
            continue;
        vstring_append_str(out, open++ ? "; " : " (");
        vstring_append_str(out, labels[i]);
        vstring_append_str(out, values[i]);
    }
    if (open)
        vstring_append_str(out, ")");
    summary_fill(fix, tfix, f->mx, domain);
}
