#ifndef OTR_CHECK_H
#define OTR_CHECK_H
/*
 * The domain check (`opentlsrpt-agent check DOMAIN`): audits a domain's _smtp._tls record,
 * MTA-STS policy, MX hosts (STARTTLS, certificates) and DANE records the way a sending MTA
 * sees them, with the same DNS and policy fetch code as the sender side. Each step gets a
 * verdict, its evidence and a one-sentence fix; the summary says what a strict MTA-STS
 * sender and a DANE sender would do today. No mail is ever sent.
 */
#include <stddef.h>

#include <openssl/x509.h>

#include "config.h"
#include "dns.h"

typedef enum { CHECK_OK = 0, CHECK_WARNING = 1, CHECK_ERROR = 2 } check_verdict;

#define CHECK_MAX_MX         5  /* MX hosts probed unless --all */
#define CHECK_MAX_ADDRS      2  /* addresses per MX host probed unless --all */
#define CHECK_ALL_MAX_MX     32 /* hard caps even with --all */
#define CHECK_ALL_MAX_ADDRS  8
#define CHECK_FIELD_MAX      1024 /* bytes of one evidence or fix text */
#define CHECK_SMTP_LINE_MAX  512  /* RFC 5321 4.5.3.1.5: a reply line, CRLF included */
#define CHECK_SMTP_REPLY_MAX 8192 /* bytes of one (multi-line) reply */
#define CHECK_SMTP_LINES_MAX 64   /* lines of one reply */
#define CHECK_TLSA_DATA_MAX  4096 /* bytes of TLSA association data (a full certificate) */
#define CHECK_TYPES_MAX      16   /* distinct TLS-RPT result types in a summary */

typedef struct check_step {
    const char *name; /* stable step name, e.g. "mx.starttls" (static) */
    char *host;       /* MX host or NULL */
    char *address;    /* MX address or NULL */
    check_verdict verdict;
    char *evidence; /* printable ASCII */
    char *fix;      /* one sentence, NULL when the verdict is ok */
} check_step;

typedef struct check_sender {
    const char *policy; /* sts: "enforce", "testing", "none", "absent", "unusable";
                         * dane: "usable", "absent" (no signed MX / no TLSA), "bogus" */
    const char *action; /* "deliver" or "defer" */
    const char *why;    /* one line */
    size_t ntypes;
    const char *types[CHECK_TYPES_MAX]; /* TLS-RPT result types it would report (static) */
} check_sender;

typedef struct check_report {
    char domain[256];
    check_step *steps;
    size_t nsteps, cap;
    check_sender sts, dane;
    int could_not_run; /* the check itself failed (resolver, DNS unreachable) */
    char why[256];     /* when could_not_run */
} check_report;

typedef struct check_opts {
    const config *cfg; /* resolver, dnssec_trust_anchor_file, https_ca_file, ... */
    unsigned port;     /* SMTP port, 25 */
    int timeout;       /* seconds per step */
    int all;           /* probe every MX and address (up to the hard caps) */
    const char *helo;  /* EHLO name; NULL: the local host name */
} check_opts;

/* Runs every step for domain (normalized) into rep (free with check_report_free). Returns
 * the exit status: 0 all ok, 1 warnings, 2 errors, 3 the check could not run. */
int check_run(const char *domain, const check_opts *opts, check_report *rep);
void check_report_free(check_report *rep);
/* The exit status of a finished report (as check_run returns). */
int check_status(const check_report *rep);
/* "ok", "warning", "error". */
const char *check_verdict_name(check_verdict v);
/* Appends a step; evidence and fix are copied with bytes outside printable ASCII replaced. */
void check_add(check_report *rep, const char *name, const char *host, const char *address,
               check_verdict v, const char *evidence, const char *fix);

/* ---- SMTP replies (check_smtp.c) ---- */
typedef struct check_smtp_reply {
    int code; /* 3-digit reply code */
    size_t nlines;
    int starttls;                    /* an EHLO keyword line says STARTTLS */
    char first[CHECK_SMTP_LINE_MAX]; /* the first line's text, printable ASCII */
} check_smtp_reply;

/* Parses the len bytes read so far: 1 when they begin with a complete reply (*used: its
 * bytes), 0 when more bytes are needed, -1 when they are not an SMTP reply (why: static). */
int check_smtp_parse(const char *buf, size_t len, check_smtp_reply *r, size_t *used,
                     const char **why);

/* ---- one MX address: connect, EHLO, STARTTLS, handshake; the chain for the checks ---- */
typedef struct check_tls {
    int connected, ehlo_ok, starttls, handshake;
    char banner[CHECK_SMTP_LINE_MAX];
    char version[32], cipher[128];
    char error[CHECK_FIELD_MAX]; /* why the last attempted stage failed */
    STACK_OF(X509) * chain;      /* presented chain, leaf first; owned */
} check_tls;

/* Talks to address:port as host (SNI); fills t (free with check_tls_free). */
void check_tls_probe(const char *host, const char *address, unsigned port, const char *helo,
                     int timeout, check_tls *t);
void check_tls_free(check_tls *t);

/* ---- certificates and TLSA (check_cert.c): pure functions over a presented chain ---- */
/* Verifies chain (leaf first) against ca_file (NULL/"": the system store): 0, or the
 * OpenSSL X509_V_ERR_* code; ignore_time: skip validity periods (DANE-EE). */
int check_cert_verify(STACK_OF(X509) * chain, const char *ca_file, int ignore_time);
/* Whether the leaf certificate is valid for host (SAN DNS names, CN only without SANs). */
int check_cert_name_ok(X509 *leaf, const char *host);
/* Writes the leaf's DNS names, comma-separated, into out. */
void check_cert_names(X509 *leaf, char *out, size_t size);
/* Whole days until the leaf expires (negative once expired). */
long check_cert_days_left(X509 *leaf);

typedef struct check_tlsa {
    int usage, selector, mtype;
    unsigned char data[CHECK_TLSA_DATA_MAX];
    size_t len;
} check_tlsa;

/* Parses "USAGE SELECTOR MTYPE HEX" (dns_tlsa's form): 0, or -1 (also when the data is
 * longer than CHECK_TLSA_DATA_MAX). */
int check_tlsa_parse(const char *rr, check_tlsa *out);
/* Matches chain (leaf first) against records as a DANE sender (RFC 7672) would, for host:
 * 1 when a usable record authenticates the chain (*which: its index), 0 when none does,
 * -1 when no record is usable (only usages 0/1 or unknown parameters). why: the reason. */
int check_tlsa_match(STACK_OF(X509) * chain, const check_tlsa *rec, size_t n, const char *host,
                     size_t *which, char *why, size_t whylen);
#endif
