/*
 * The domain check's steps: first where failures would be reported (_smtp._tls), then what
 * a sender learns before it connects (_mta-sts and the policy, fetched by sts_fetch, the
 * policy service's own code), then the MX records, and per MX address the SMTP/TLS probe
 * in the order a session meets its steps, with the certificate and DANE verdicts; last,
 * what a strict MTA-STS sender and a DANE sender would do with all that today.
 */
#include "check.h"

#include <openssl/x509_vfy.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "domain.h"
#include "mailaddr.h"
#include "msg.h"
#include "mymalloc.h"
#include "outcome.h"
#include "sts_fetch.h"
#include "tlsrpt_record.h"

#define CHECK_TLSRPT_PREFIX "v=TLSRPTv1;" /* as agent/discover.c selects records */
#define CHECK_WARN_DAYS     14
#define CHECK_MIN_MAX_AGE   86400L

const char *check_verdict_name(check_verdict v)
{
    return v == CHECK_OK ? "ok" : v == CHECK_WARNING ? "warning" : "error";
}

static char *check_clean(const char *s)
{
    size_t n = strlen(s);
    if (n >= CHECK_FIELD_MAX)
        n = CHECK_FIELD_MAX - 1;
    char *out = mymalloc(n + 1);
    for (size_t i = 0; i < n; i++)
        out[i] = s[i] >= 0x20 && s[i] < 0x7f ? s[i] : '?';
    out[n] = 0;
    return out;
}

void check_add(check_report *rep, const char *name, const char *host, const char *address,
               check_verdict v, const char *evidence, const char *fix)
{
    if (rep->nsteps == rep->cap) {
        rep->cap = rep->cap ? rep->cap * 2 : 32;
        rep->steps = myrealloc(rep->steps, rep->cap * sizeof(*rep->steps));
    }
    check_step *s = &rep->steps[rep->nsteps++];
    s->name = name;
    s->host = host ? check_clean(host) : NULL;
    s->address = address ? check_clean(address) : NULL;
    s->verdict = v;
    s->evidence = check_clean(evidence);
    s->fix = v != CHECK_OK && fix ? check_clean(fix) : NULL;
}

void check_report_free(check_report *rep)
{
    for (size_t i = 0; i < rep->nsteps; i++) {
        myfree(rep->steps[i].host);
        myfree(rep->steps[i].address);
        myfree(rep->steps[i].evidence);
        myfree(rep->steps[i].fix);
    }
    rep->steps = myfree(rep->steps);
    rep->nsteps = rep->cap = 0;
}

int check_status(const check_report *rep)
{
    int worst = 0;
    if (rep->could_not_run)
        return 3;
    for (size_t i = 0; i < rep->nsteps; i++)
        if ((int)rep->steps[i].verdict > worst)
            worst = (int)rep->steps[i].verdict;
    return worst;
}

static void check_sender_type(check_sender *s, const char *type)
{
    for (size_t i = 0; i < s->ntypes; i++)
        if (strcmp(s->types[i], type) == 0)
            return;
    if (s->ntypes < CHECK_TYPES_MAX)
        s->types[s->ntypes++] = type;
}

/* What one MX host meant for each kind of sender. */
typedef struct {
    char name[DOMAIN_MAX + 1];
    int sts_ok;  /* a strict MTA-STS sender could deliver to one of its addresses */
    int dane;    /* 0 no DANE for it, 1 usable TLSA records, -1 bogus/unusable lookup */
    int dane_ok; /* a DANE sender could deliver to one of its addresses */
} check_host;

typedef struct {
    check_report *rep;
    const check_opts *o;
    dns_resolver *dns;
    const char *domain;
    sts_txt_status sts_txt;
    int have_policy;
    sts_fetch_result fr;
    dns_result mx;
    dns_status mxst;
    size_t nhosts;
    check_host hosts[CHECK_ALL_MAX_MX];
} check_ctx;

/* ---- _smtp._tls ---- */

static void check_rua(check_ctx *c, const tlsrpt_uri *u)
{
    char ev[CHECK_FIELD_MAX];
    dns_result res;
    dns_status st;

    if (u->kind == TLSRPT_URI_MAILTO && !mailaddr_valid(u->target, strlen(u->target))) {
        snprintf(ev, sizeof(ev), "%s: not a usable e-mail address", u->uri);
        check_add(c->rep, "tlsrpt.rua", NULL, NULL, CHECK_ERROR, ev,
                  "Publish a plain address such as mailto:tlsrpt@example.com.");
        return;
    }
    /* Reports by mail go to the domain's MX (or its address); by HTTPS to the host. */
    st = u->kind == TLSRPT_URI_MAILTO ? dns_mx(c->dns, u->host, &res)
                                      : dns_addr(c->dns, u->host, &res);
    if (u->kind == TLSRPT_URI_MAILTO && st != DNS_OK && st != DNS_TEMPFAIL) {
        dns_result_free(&res);
        st = dns_addr(c->dns, u->host, &res);
    }
    if (st == DNS_OK) {
        snprintf(ev, sizeof(ev), "%s: %s %s resolves", u->uri,
                 u->kind == TLSRPT_URI_MAILTO ? "mail domain" : "host", u->host);
        check_add(c->rep, "tlsrpt.rua", NULL, NULL, CHECK_OK, ev, NULL);
    } else {
        snprintf(ev, sizeof(ev), "%s: %s %s does not resolve (%s)", u->uri,
                 u->kind == TLSRPT_URI_MAILTO ? "mail domain" : "host", u->host,
                 dns_status_name(st));
        check_add(c->rep, "tlsrpt.rua", NULL, NULL,
                  st == DNS_TEMPFAIL ? CHECK_WARNING : CHECK_ERROR, ev,
                  "Point rua at a host that exists in DNS, or publish its MX/A records.");
    }
    dns_result_free(&res);
}

/* Whether a record was meant as TLSRPT but lacks the ";" after the version. */
static int check_tlsrpt_near(const dns_result *res)
{
    for (size_t i = 0; i < res->n; i++)
        if (res->rrlen[i] >= 10 && strncasecmp(res->rr[i], "v=TLSRPTv1", 10) == 0)
            return 1;
    return 0;
}

/* Whatever the record's fate: whether a validating sender can trust the answer, a missing
 * record included (an authenticated denial). */
static void check_tlsrpt_dnssec(check_ctx *c, const char *name, const dns_result *res)
{
    char ev[CHECK_FIELD_MAX];
    const char *what = res->status == DNS_OK ? "the answer" : "the absence of a record";

    if (res->status == DNS_TEMPFAIL) {
        snprintf(ev, sizeof(ev), "TXT %s: no answer to validate", name);
        check_add(c->rep, "tlsrpt.dnssec", NULL, NULL, CHECK_WARNING, ev,
                  "Make the domain's name servers answer TXT queries.");
    } else if (res->status == DNS_BOGUS) {
        snprintf(ev, sizeof(ev), "TXT %s: DNSSEC validation failed (%s)", name, res->why);
        check_add(c->rep, "tlsrpt.dnssec", NULL, NULL, CHECK_ERROR, ev,
                  "Re-sign the zone: validating senders see no record.");
    } else {
        snprintf(ev, sizeof(ev), "TXT %s: %s is %s", name, what,
                 res->secure ? "DNSSEC-signed and validated" : "not DNSSEC-signed");
        check_add(c->rep, "tlsrpt.dnssec", NULL, NULL, CHECK_OK, ev, NULL);
    }
}

static void check_tlsrpt(check_ctx *c)
{
    char name[DOMAIN_MAX + 16], ev[CHECK_FIELD_MAX], why[256];
    dns_result res;
    const char *found = NULL;
    size_t foundlen = 0, n = 0;

    snprintf(name, sizeof(name), "_smtp._tls.%s", c->domain);
    dns_status st = dns_txt(c->dns, name, &res);
    for (size_t i = 0; st == DNS_OK && i < res.n; i++)
        if (res.rrlen[i] >= sizeof(CHECK_TLSRPT_PREFIX) - 1 &&
            memcmp(res.rr[i], CHECK_TLSRPT_PREFIX, sizeof(CHECK_TLSRPT_PREFIX) - 1) == 0) {
            found = res.rr[i];
            foundlen = res.rrlen[i];
            n++;
        }
    if (st == DNS_TEMPFAIL || st == DNS_BOGUS) {
        snprintf(ev, sizeof(ev), "TXT %s: %s (%s)", name, dns_status_name(st), res.why);
        check_add(c->rep, "tlsrpt.record", NULL, NULL, CHECK_ERROR, ev,
                  st == DNS_BOGUS ? "Re-sign the zone: validating senders see no record."
                                  : "Make the domain's name servers answer TXT queries.");
    } else if (n == 0 && st == DNS_OK && check_tlsrpt_near(&res)) {
        snprintf(ev, sizeof(ev),
                 "TXT %s: a record begins with v=TLSRPTv1 but not with "
                 "\"v=TLSRPTv1;\": senders ignore it",
                 name);
        check_add(c->rep, "tlsrpt.record", NULL, NULL, CHECK_ERROR, ev,
                  "Write the record as \"v=TLSRPTv1; rua=...\" with the semicolon.");
    } else if (n == 0) {
        snprintf(ev, sizeof(ev), "TXT %s: no record beginning with v=TLSRPTv1; (%s)", name,
                 dns_status_name(st));
        check_add(c->rep, "tlsrpt.record", NULL, NULL, CHECK_WARNING, ev,
                  "Publish \"v=TLSRPTv1; rua=mailto:tlsrpt@<your domain>\" to receive reports.");
    } else if (n > 1) {
        snprintf(ev, sizeof(ev), "TXT %s: %zu records begin with v=TLSRPTv1;", name, n);
        check_add(c->rep, "tlsrpt.record", NULL, NULL, CHECK_ERROR, ev,
                  "Keep exactly one TLSRPT record: senders ignore them all otherwise.");
    } else {
        tlsrpt_record rec;
        if (tlsrpt_record_parse(found, foundlen, &rec, why, sizeof(why)) < 0) {
            snprintf(ev, sizeof(ev), "TXT %s: invalid: %s", name, why);
            check_add(c->rep, "tlsrpt.record", NULL, NULL, CHECK_ERROR, ev,
                      "Fix the record's syntax (RFC 8460 section 3).");
        } else {
            snprintf(ev, sizeof(ev), "%.*s", (int)(foundlen < 900 ? foundlen : 900), found);
            check_add(c->rep, "tlsrpt.record", NULL, NULL, rec.n ? CHECK_OK : CHECK_ERROR, ev,
                      "Give at least one mailto: or https: URI in rua=.");
            for (size_t i = 0; i < rec.n; i++)
                check_rua(c, &rec.uris[i]);
            for (size_t i = 0; i < rec.nnotes; i++)
                check_add(c->rep, "tlsrpt.rua", NULL, NULL, CHECK_WARNING, rec.notes[i],
                          "Use only mailto: and https: URIs, percent-encoding ',', '!' and ';'.");
        }
        tlsrpt_record_free(&rec);
    }
    check_tlsrpt_dnssec(c, name, &res);
    dns_result_free(&res);
}

/* The host of MX record i ("PREF HOST"), or NULL for a null MX (RFC 7505). */
static const char *check_mx_host(const dns_result *mx, size_t i)
{
    const char *host = strchr(mx->rr[i], ' ');

    host = host ? host + 1 : "";
    return *host == 0 || strcmp(host, ".") == 0 ? NULL : host;
}

/* ---- MTA-STS ---- */

static void check_sts(check_ctx *c)
{
    char id[STS_ID_MAX + 1] = "", ev[CHECK_FIELD_MAX];
    const char *why = "";

    c->sts_txt = sts_fetch_txt(c->dns, c->domain, id, sizeof(id), &why);
    switch (c->sts_txt) {
    case STS_TXT_FOUND:
        snprintf(ev, sizeof(ev), "TXT _mta-sts.%s: v=STSv1, id=%s (1-32 letters and digits)",
                 c->domain, id);
        check_add(c->rep, "sts.txt", NULL, NULL, CHECK_OK, ev, NULL);
        break;
    case STS_TXT_NONE:
        snprintf(ev, sizeof(ev), "TXT _mta-sts.%s: no v=STSv1 record%s%s", c->domain,
                 *why ? ": " : "", why);
        check_add(c->rep, "sts.txt", NULL, NULL, CHECK_WARNING, ev,
                  "Publish an MTA-STS policy so senders without DANE can authenticate your MX.");
        return;
    case STS_TXT_TEMPFAIL:
        snprintf(ev, sizeof(ev), "TXT _mta-sts.%s: lookup failed (%s)", c->domain, why);
        check_add(c->rep, "sts.txt", NULL, NULL, CHECK_ERROR, ev,
                  "Make the domain's name servers answer TXT queries.");
        return;
    case STS_TXT_INVALID:
        snprintf(ev, sizeof(ev), "TXT _mta-sts.%s: ignored by senders (%s)", c->domain, why);
        check_add(c->rep, "sts.txt", NULL, NULL, CHECK_ERROR, ev,
                  "Publish exactly one \"v=STSv1; id=<1-32 letters and digits>\" record.");
        return;
    }

    const config *cfg = c->o->cfg;
    sts_fetch_opts fo = {c->o->timeout, cfg->https_ca_file, c->dns, (int)cfg->https_allow_private,
                         NULL};
    sts_fetch_global_init();
    if (sts_fetch_policy(c->domain, &fo, &c->fr) != 0) {
        snprintf(ev, sizeof(ev), "https://mta-sts.%s/.well-known/mta-sts.txt: %s %s: %s", c->domain,
                 outcome_result_name(c->fr.result), c->fr.reason, c->fr.detail);
        check_add(c->rep, "sts.policy", NULL, NULL, CHECK_ERROR, ev,
                  c->fr.result == 303   ? "Serve mta-sts.<domain> with a certificate valid for "
                                          "that name from a public CA."
                  : c->fr.result == 302 ? "Fix the policy file: version, mode, mx and max_age "
                                          "lines, served as text/plain."
                                        : "Serve the policy over HTTPS with status 200 and no "
                                          "redirect.");
        return;
    }
    c->have_policy = 1;
    const sts_policy *p = &c->fr.policy;
    snprintf(ev, sizeof(ev), "fetched: mode %s, %zu mx pattern(s), max_age %ld",
             sts_mode_name(p->mode), p->nmx, p->max_age);
    check_add(c->rep, "sts.policy", NULL, NULL, CHECK_OK, ev, NULL);

    snprintf(ev, sizeof(ev), "mode: %s", sts_mode_name(p->mode));
    if (p->mode == STS_MODE_ENFORCE)
        check_add(c->rep, "sts.mode", NULL, NULL, CHECK_OK, ev, NULL);
    else
        check_add(c->rep, "sts.mode", NULL, NULL, CHECK_WARNING, ev,
                  p->mode == STS_MODE_TESTING
                      ? "Switch to mode: enforce once the reports show no failures."
                      : "mode: none withdraws the policy; publish enforce or testing to use it.");

    /* The parser caps max_age; the published number is in the policy's own line. */
    long long raw = p->max_age;
    for (size_t i = 0; i < p->nlines; i++)
        if (strncmp(p->lines[i], "max_age:", 8) == 0) {
            raw = strtoll(p->lines[i] + 8, NULL, 10);
            break;
        }
    snprintf(ev, sizeof(ev), "max_age: %lld s (%lld days)", raw, raw / 86400);
    if (raw > STS_MAX_AGE_MAX)
        check_add(c->rep, "sts.max_age", NULL, NULL, CHECK_WARNING, ev,
                  "Use at most 31557600: senders cap larger values there.");
    else if (raw < CHECK_MIN_MAX_AGE)
        check_add(c->rep, "sts.max_age", NULL, NULL, CHECK_WARNING, ev,
                  "Use a max_age of one week or more (e.g. 604800) so policies survive outages.");
    else
        check_add(c->rep, "sts.max_age", NULL, NULL, CHECK_OK, ev, NULL);
}

/* Every MX record, not only the probed hosts: a sender may pick any of them, and matching a
 * name needs no connection. */
static void check_sts_coverage(check_ctx *c)
{
    char ev[CHECK_FIELD_MAX];
    size_t missing = 0, used = 0, total = 0;

    if (!c->have_policy || c->fr.policy.mode == STS_MODE_NONE || c->mxst != DNS_OK)
        return;
    ev[0] = 0;
    for (size_t i = 0; i < c->mx.n; i++) {
        const char *host = check_mx_host(&c->mx, i);
        if (host == NULL)
            continue;
        total++;
        if (!sts_policy_mx_ok(&c->fr.policy, host)) {
            int k = snprintf(ev + used, sizeof(ev) - used, "%s%s", missing ? ", " : "", host);
            if (k > 0 && (size_t)k < sizeof(ev) - used)
                used += (size_t)k;
            missing++;
        }
    }
    if (total == 0)
        return;
    if (missing == 0) {
        snprintf(ev, sizeof(ev), "all %zu MX host(s) match an mx pattern of the policy", total);
        check_add(c->rep, "sts.mx_coverage", NULL, NULL, CHECK_OK, ev, NULL);
        return;
    }
    char msg[CHECK_FIELD_MAX];
    snprintf(msg, sizeof(msg), "%zu of %zu MX host(s) not matched by any mx pattern: %s", missing,
             total, ev);
    check_add(c->rep, "sts.mx_coverage", NULL, NULL,
              c->fr.policy.mode == STS_MODE_ENFORCE ? CHECK_ERROR : CHECK_WARNING, msg,
              "Add an mx: line for each MX host (or a *.suffix pattern covering it).");
}

/* ---- MX ---- */

/* The MX lookup comes first (the policy's coverage needs it); its step is reported later. */
static void check_mx_lookup(check_ctx *c)
{
    size_t max = c->o->all ? CHECK_ALL_MAX_MX : CHECK_MAX_MX;

    c->mxst = dns_mx(c->dns, c->domain, &c->mx);
    if (c->mxst == DNS_TEMPFAIL) {
        c->rep->could_not_run = 1;
        snprintf(c->rep->why, sizeof(c->rep->why), "MX lookup of %s failed: %.100s", c->domain,
                 c->mx.why);
        return;
    }
    for (size_t i = 0; c->mxst == DNS_OK && i < c->mx.n && c->nhosts < max; i++) {
        const char *host = check_mx_host(&c->mx, i);
        if (host != NULL)
            snprintf(c->hosts[c->nhosts++].name, sizeof(c->hosts[0].name), "%s", host);
    }
}

static void check_mx_records(check_ctx *c)
{
    char ev[CHECK_FIELD_MAX], msg[CHECK_FIELD_MAX];
    size_t used = 0;

    if (c->mxst != DNS_OK) {
        snprintf(ev, sizeof(ev), "MX %s: %s%s%s", c->domain, dns_status_name(c->mxst),
                 c->mxst == DNS_BOGUS ? ": " : "", c->mxst == DNS_BOGUS ? c->mx.why : "");
        check_add(c->rep, "mx.records", NULL, NULL, CHECK_ERROR, ev,
                  c->mxst == DNS_BOGUS ? "Re-sign the zone: validating senders cannot find "
                                         "your MX."
                                       : "Publish MX records: MTA-STS and DANE apply only to "
                                         "MX hosts.");
        return;
    }
    ev[0] = 0;
    for (size_t i = 0; i < c->mx.n; i++) {
        int k = snprintf(ev + used, sizeof(ev) - used, "%s%s", i ? ", " : "", c->mx.rr[i]);
        if (k > 0 && (size_t)k < sizeof(ev) - used)
            used += (size_t)k;
    }
    snprintf(msg, sizeof(msg), "%s%s; %s", ev,
             c->mx.n > c->nhosts ? " (probing the first ones)" : "",
             c->mx.secure ? "DNSSEC-signed and validated" : "not DNSSEC-signed");
    if (c->nhosts == 0)
        check_add(c->rep, "mx.records", NULL, NULL, CHECK_ERROR, msg,
                  "A null MX accepts no mail; publish real MX hosts if the domain receives mail.");
    else
        check_add(c->rep, "mx.records", NULL, NULL, CHECK_OK, msg, NULL);
}

static const char *check_verify_type(int err)
{
    switch (err) {
    case X509_V_ERR_CERT_HAS_EXPIRED:
    case X509_V_ERR_CERT_NOT_YET_VALID:
        return "certificate-expired";
    default:
        return "certificate-not-trusted";
    }
}

/* DANE for one address: the TLSA lookup result was done once per host (tlsa, ntlsa). */
static void check_dane(check_ctx *c, check_host *h, const char *addr, const check_tls *t,
                       const check_tlsa *tlsa, size_t ntlsa, int *ok)
{
    char ev[CHECK_FIELD_MAX], why[300];
    size_t which = 0;

    *ok = 0;
    if (!t->starttls) {
        snprintf(ev, sizeof(ev), "TLSA records published but STARTTLS is not offered");
        check_add(c->rep, "mx.dane", h->name, addr, CHECK_ERROR, ev,
                  "Offer STARTTLS: DANE senders never deliver in clear text to this host.");
        check_sender_type(&c->rep->dane, "starttls-not-supported");
        return;
    }
    if (!t->handshake || t->chain == NULL) {
        snprintf(ev, sizeof(ev), "no TLS session to match the TLSA records against");
        check_add(c->rep, "mx.dane", h->name, addr, CHECK_ERROR, ev,
                  "Fix the TLS handshake first.");
        check_sender_type(&c->rep->dane, "validation-failure");
        return;
    }
    int m = check_tlsa_match(t->chain, tlsa, ntlsa, h->name, &which, why, sizeof(why));
    if (m > 0) {
        check_add(c->rep, "mx.dane", h->name, addr, CHECK_OK, why, NULL);
        *ok = 1;
    } else if (m < 0) {
        check_add(c->rep, "mx.dane", h->name, addr, CHECK_WARNING, why,
                  "Publish a DANE-EE record, e.g. \"3 1 1 <sha256 of the public key>\".");
        check_sender_type(&c->rep->dane, "tlsa-invalid");
        *ok = 1; /* RFC 7672 2.2: unusable records mean unauthenticated but mandatory TLS */
    } else {
        check_add(c->rep, "mx.dane", h->name, addr, CHECK_ERROR, why,
                  "Publish TLSA records for the certificate the server presents (roll keys "
                  "with both old and new records published).");
        check_sender_type(&c->rep->dane, "tlsa-invalid");
    }
}

static void check_address(check_ctx *c, check_host *h, const char *addr, int dane,
                          const check_tlsa *tlsa, size_t ntlsa)
{
    char ev[CHECK_FIELD_MAX], names[600];
    check_tls t;
    const char *helo = c->o->helo;
    int sts_ok = 0, dane_ok = 0;
    int sts_on = c->have_policy && c->fr.policy.mode != STS_MODE_NONE;

    check_tls_probe(h->name, addr, c->o->port, helo, c->o->timeout, &t);
    if (!t.connected) {
        check_add(c->rep, "mx.connect", h->name, addr, CHECK_ERROR, t.error,
                  "Make the MX accept connections on the SMTP port from the Internet.");
        goto dane;
    }
    snprintf(ev, sizeof(ev), "connected to port %u", c->o->port);
    check_add(c->rep, "mx.connect", h->name, addr, CHECK_OK, ev, NULL);
    if (!t.ehlo_ok && !t.starttls) {
        check_add(c->rep, "mx.ehlo", h->name, addr, CHECK_ERROR, t.error,
                  "Make the server greet with 220 and accept EHLO.");
        goto dane;
    }
    snprintf(ev, sizeof(ev), "banner \"%s\"; EHLO accepted", t.banner);
    check_add(c->rep, "mx.ehlo", h->name, addr, CHECK_OK, ev, NULL);
    if (!t.starttls) {
        check_add(c->rep, "mx.starttls", h->name, addr, CHECK_ERROR, t.error,
                  "Enable STARTTLS (Postfix: smtpd_tls_security_level = may, with a "
                  "certificate).");
        check_sender_type(&c->rep->sts, "starttls-not-supported");
        goto dane;
    }
    check_add(c->rep, "mx.starttls", h->name, addr, CHECK_OK, "STARTTLS offered and accepted",
              NULL);
    if (!t.handshake) {
        check_add(c->rep, "mx.tls", h->name, addr, CHECK_ERROR, t.error,
                  "Fix the server's TLS setup (certificate, key, protocol versions).");
        check_sender_type(&c->rep->sts, "validation-failure");
        goto dane;
    }
    snprintf(ev, sizeof(ev), "%s, cipher %s%s%.600s", t.version, t.cipher, t.ehlo_ok ? "" : "; ",
             t.ehlo_ok ? "" : t.error);
    check_add(c->rep, "mx.tls", h->name, addr, t.ehlo_ok ? CHECK_OK : CHECK_ERROR, ev,
              "Make the server accept EHLO again inside TLS.");
    if (t.chain == NULL || sk_X509_num(t.chain) == 0) {
        check_add(c->rep, "mx.chain", h->name, addr, CHECK_ERROR, "no certificate presented",
                  "Configure a certificate.");
        goto dane;
    }
    X509 *leaf = sk_X509_value(t.chain, 0);
    int verr = check_cert_verify(t.chain, c->o->cfg->https_ca_file, 0);
    int name_ok = check_cert_name_ok(leaf, h->name);
    long days = check_cert_days_left(leaf);
    check_cert_names(leaf, names, sizeof(names));

    if (verr == 0) {
        snprintf(ev, sizeof(ev), "chain of %d certificate(s) verifies against %s",
                 sk_X509_num(t.chain),
                 *c->o->cfg->https_ca_file ? c->o->cfg->https_ca_file : "the system CA store");
        check_add(c->rep, "mx.chain", h->name, addr, CHECK_OK, ev, NULL);
    } else {
        snprintf(ev, sizeof(ev), "does not verify: %s (%d)", X509_verify_cert_error_string(verr),
                 verr);
        check_add(c->rep, "mx.chain", h->name, addr,
                  sts_on && c->fr.policy.mode == STS_MODE_ENFORCE ? CHECK_ERROR : CHECK_WARNING, ev,
                  verr == X509_V_ERR_CERT_HAS_EXPIRED
                      ? "Renew the certificate."
                      : "Use a certificate from a public CA and send the intermediate "
                        "certificates too.");
    }
    snprintf(ev, sizeof(ev), "certificate names: %s", names);
    check_add(c->rep, "mx.name", h->name, addr, name_ok ? CHECK_OK : CHECK_ERROR, ev,
              "Get a certificate whose subjectAltName includes the MX host name.");
    if (sts_on) {
        int covered = sts_policy_mx_ok(&c->fr.policy, h->name);
        snprintf(ev, sizeof(ev), "%s %s the policy's mx patterns; the certificate %s valid for it",
                 h->name, covered ? "matches" : "does not match", name_ok ? "is" : "is not");
        check_add(c->rep, "mx.sts_name", h->name, addr,
                  covered && name_ok                      ? CHECK_OK
                  : c->fr.policy.mode == STS_MODE_ENFORCE ? CHECK_ERROR
                                                          : CHECK_WARNING,
                  ev,
                  covered ? "Get a certificate valid for the MX host name."
                          : "Add the MX host to the policy's mx lines.");
        sts_ok = covered && name_ok && verr == 0 && t.ehlo_ok;
        if (verr)
            check_sender_type(&c->rep->sts, check_verify_type(verr));
        if (!covered || !name_ok)
            check_sender_type(&c->rep->sts, "certificate-host-mismatch");
    }
    snprintf(ev, sizeof(ev), "%ld days until the certificate expires", days);
    check_add(c->rep, "mx.expiry", h->name, addr,
              days < 0                 ? CHECK_ERROR
              : days < CHECK_WARN_DAYS ? CHECK_WARNING
                                       : CHECK_OK,
              ev, days < 0 ? "Renew the certificate now." : "Renew the certificate soon.");
dane:
    if (dane > 0)
        check_dane(c, h, addr, &t, tlsa, ntlsa, &dane_ok);
    if (sts_ok)
        h->sts_ok = 1;
    if (dane_ok)
        h->dane_ok = 1;
    check_tls_free(&t);
}

/* TLSA records of host when its MX and address records validate: dane 1 with records,
 * 0 (no DANE for this host), -1 when a validating sender would defer. */
static int check_host_tlsa(check_ctx *c, check_host *h, int addr_secure, check_tlsa *tlsa,
                           size_t *ntlsa)
{
    char name[DOMAIN_MAX + 32], ev[CHECK_FIELD_MAX];
    dns_result res;

    *ntlsa = 0;
    if (!c->mx.secure || !addr_secure)
        return 0;
    snprintf(name, sizeof(name), "_%u._tcp.%s", c->o->port, h->name);
    dns_status st = dns_tlsa(c->dns, name, &res);
    int dane = 0;
    if (st == DNS_OK && res.secure) {
        for (size_t i = 0; i < res.n && *ntlsa < DNS_MAX_RECORDS; i++)
            if (check_tlsa_parse(res.rr[i], &tlsa[*ntlsa]) == 0)
                (*ntlsa)++;
        snprintf(ev, sizeof(ev), "TLSA %s: %zu record(s), validated", name, res.n);
        check_add(c->rep, "mx.tlsa", h->name, NULL, CHECK_OK, ev, NULL);
        dane = 1;
    } else if (st == DNS_OK) {
        snprintf(ev, sizeof(ev), "TLSA %s: records exist but are not DNSSEC-signed", name);
        check_add(c->rep, "mx.tlsa", h->name, NULL, CHECK_WARNING, ev,
                  "Sign the zone holding the TLSA records, or remove them.");
    } else if (st == DNS_BOGUS || st == DNS_TEMPFAIL) {
        snprintf(ev, sizeof(ev), "TLSA %s: %s (%s)", name, dns_status_name(st), res.why);
        check_add(c->rep, "mx.tlsa", h->name, NULL, CHECK_ERROR, ev,
                  "Fix the zone's signatures: DANE senders defer mail to this host.");
        check_sender_type(&c->rep->dane, "dnssec-invalid");
        dane = -1;
    } else {
        snprintf(ev, sizeof(ev),
                 "TLSA %s: none (validated denial); DANE senders use "
                 "opportunistic TLS",
                 name);
        check_add(c->rep, "mx.tlsa", h->name, NULL, CHECK_WARNING, ev,
                  "Publish a TLSA record (e.g. 3 1 1) to protect mail from DANE senders.");
    }
    dns_result_free(&res);
    return dane;
}

static void check_hosts(check_ctx *c)
{
    size_t maxaddr = c->o->all ? CHECK_ALL_MAX_ADDRS : CHECK_MAX_ADDRS;
    check_tlsa *tlsa = mycalloc(DNS_MAX_RECORDS, sizeof(*tlsa));
    char ev[CHECK_FIELD_MAX];

    for (size_t i = 0; i < c->nhosts; i++) {
        check_host *h = &c->hosts[i];
        dns_result res;
        dns_status st = dns_addr(c->dns, h->name, &res);
        if (st != DNS_OK || res.n == 0) {
            snprintf(ev, sizeof(ev), "no address: %s", dns_status_name(st));
            check_add(c->rep, "mx.address", h->name, NULL, CHECK_ERROR, ev,
                      "Publish A or AAAA records for the MX host.");
            dns_result_free(&res);
            continue;
        }
        size_t used = 0;
        ev[0] = 0;
        for (size_t k = 0; k < res.n; k++) {
            int n = snprintf(ev + used, sizeof(ev) - used, "%s%s", k ? ", " : "", res.rr[k]);
            if (n > 0 && (size_t)n < sizeof(ev) - used)
                used += (size_t)n;
        }
        check_add(c->rep, "mx.address", h->name, NULL, CHECK_OK, ev, NULL);
        size_t ntlsa = 0;
        h->dane = check_host_tlsa(c, h, res.secure, tlsa, &ntlsa);
        for (size_t k = 0; k < res.n && k < maxaddr; k++)
            check_address(c, h, res.rr[k], h->dane, tlsa, ntlsa);
        dns_result_free(&res);
    }
    myfree(tlsa);
}

/* ---- the summary ---- */

static void check_summary(check_ctx *c)
{
    check_sender *s = &c->rep->sts, *d = &c->rep->dane;
    size_t sts_good = 0, dane_hosts = 0, dane_good = 0;

    for (size_t i = 0; i < c->nhosts; i++) {
        sts_good += c->hosts[i].sts_ok;
        if (c->hosts[i].dane != 0)
            dane_hosts++;
        /* A host without TLSA records gets opportunistic TLS from a DANE sender. */
        dane_good += c->hosts[i].dane == 0 || c->hosts[i].dane_ok;
    }
    s->action = "deliver";
    if (c->sts_txt != STS_TXT_FOUND) {
        s->policy = "absent";
        s->why = "no MTA-STS policy: opportunistic TLS, nothing to report but no-policy-found";
        s->ntypes = 0;
    } else if (!c->have_policy) {
        s->policy = "unusable";
        s->why = "the policy cannot be fetched: senders without a cached copy deliver as "
                 "without a policy and report it";
        s->ntypes = 0;
        check_sender_type(s, outcome_result_name(c->fr.result));
    } else if (c->fr.policy.mode == STS_MODE_NONE) {
        s->policy = "none";
        s->why = "mode none: the policy is withdrawn";
        s->ntypes = 0;
    } else if (c->fr.policy.mode == STS_MODE_TESTING) {
        s->policy = "testing";
        s->why = "testing mode: delivers whatever happens and reports the failures";
    } else {
        s->policy = "enforce";
        if (sts_good) {
            s->why = "at least one MX host passes every MTA-STS check";
        } else {
            s->action = "defer";
            s->why = "no MX host passes the MTA-STS checks: mail waits in senders' queues";
        }
    }
    d->action = "deliver";
    if (!c->mx.secure || c->nhosts == 0) {
        d->policy = "absent";
        d->why = "the MX records are not DNSSEC-signed: DANE does not apply";
        d->ntypes = 0;
    } else if (dane_hosts == 0) {
        d->policy = "absent";
        d->why = "no MX host has validated TLSA records: opportunistic TLS";
        d->ntypes = 0;
    } else {
        d->policy = "usable";
        if (dane_good) {
            d->why = "at least one MX host can be delivered to as DANE requires";
        } else {
            d->action = "defer";
            d->why = "no MX host passes DANE authentication: mail waits in senders' queues";
        }
    }
}

int check_run(const char *domain, const check_opts *opts, check_report *rep)
{
    check_ctx *c = mycalloc(1, sizeof(*c));

    memset(rep, 0, sizeof(*rep));
    snprintf(rep->domain, sizeof(rep->domain), "%s", domain);
    c->rep = rep;
    c->o = opts;
    c->domain = domain;
    c->dns = dns_resolver_new(opts->cfg);
    if (c->dns == NULL) {
        rep->could_not_run = 1;
        snprintf(rep->why, sizeof(rep->why),
                 "no resolver (see the resolver and "
                 "dnssec_trust_anchor_file settings)");
        myfree(c);
        return 3;
    }
    dns_resolver_set_timeout(c->dns, opts->timeout);
    check_mx_lookup(c);
    if (!rep->could_not_run) {
        check_tlsrpt(c);
        check_sts(c);
        check_sts_coverage(c);
        check_mx_records(c);
        check_hosts(c);
        check_summary(c);
    }
    dns_result_free(&c->mx);
    if (c->have_policy || c->sts_txt == STS_TXT_FOUND)
        sts_fetch_result_free(&c->fr);
    dns_resolver_free(c->dns);
    myfree(c);
    return check_status(rep);
}
