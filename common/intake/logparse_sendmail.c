/* Sendmail's TLS lines: "STARTTLS=client, relay=..., verify=..." joined with the
 * delivery line of the same process ("QID: to=..., relay=host. [ip], ..., stat=..."). */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "logparse_int.h"

/* ---- sendmail ---- */

typedef struct {
    const char *name;
    int result;
    const char *code;
} lp_verify;

/* verify= values (sendmail's ${verify} macro) and what they mean for the session. */
static const lp_verify lp_verifies[] = {
    {"OK", 0, NULL},
    {"FAIL", 203, "verify-fail"},
    {"NO", 205, "no-certificate"},
    {"NOT", 205, "certificate-not-requested"},
    {"NONE", 201, "starttls-not-performed"},
    {"SOFTWARE", 205, "tls-handshake-failure"},
    {"PROTOCOL", 205, "tls-protocol-error"},
    {"TEMP", 205, "temporary-error"},
    {"TIME", 205, "handshake-timeout"},
    {"CRLFAIL", 203, "crl-verification-failed"},
    {"DANE_FAIL", 304, "dane-verification-failed"},
    {"TRUSTED", 0, NULL},
};

/* The normalized host of "relay=host[.]" at or after p ("" when absent or bad). */
static void lp_sm_relay(const char *p, const char *end, char *host, size_t size)
{
    const char *r = LP_FIND(p, end, "relay=");

    host[0] = 0;
    if (r == NULL)
        return;
    r += 6;
    const char *e = r;
    while (e < end && *e != ',' && *e != ' ')
        e++;
    if (domain_normalize(r, (size_t)(e - r), host, size) < 0)
        host[0] = 0;
}

/* "STARTTLS=client, relay=..., verify=..." (or "STARTTLS=client, error: ...") opens a
 * session of the process. */
static void lp_sm_starttls(logparse *lp, const char *line, size_t len, const char *key, size_t klen,
                           const char *p, const char *end)
{
    lp->st.relevant++;
    time_t when = lp_when(lp, line, len);
    lp_proc *pr = lp_proc_get(lp, key, klen, 1);
    if (pr == NULL)
        return;
    pr->seen = when;
    const char *v = LP_FIND(p, end, "verify=");
    lp_session s;
    memset(&s, 0, sizeof(s));
    s.pos = lp->mark;
    lp_sm_relay(p, end, s.host, sizeof(s.host));
    if (LP_FIND(p, end, "error:")) {
        s.result = 205;
        snprintf(s.reason, sizeof(s.reason), "tls-handshake-failure");
    } else if (v == NULL) {
        lp->st.malformed++;
        return;
    } else {
        v += 7;
        size_t vl = 0;
        while (v + vl < end && v[vl] != ',' && v[vl] != ' ')
            vl++;
        size_t i, n = sizeof(lp_verifies) / sizeof(lp_verifies[0]);
        for (i = 0; i < n; i++)
            if (strlen(lp_verifies[i].name) == vl && memcmp(lp_verifies[i].name, v, vl) == 0)
                break;
        if (i == n) {
            lp->st.malformed++;
            return;
        }
        s.result = lp_verifies[i].result;
        s.dane = s.result == 304;
        if (lp_verifies[i].code)
            snprintf(s.reason, sizeof(s.reason), "%s", lp_verifies[i].code);
    }
    /* A "STARTTLS=client" line of a new connection: anything older was never delivered */
    lp_push(lp, pr, &s);
}

/* The session of this process awaiting its delivery line, latest first, for relay host
 * (any when host is empty); NULL if none. */
static lp_session *lp_sm_open(lp_proc *pr, const char *host)
{
    if (pr == NULL || pr->npend == 0)
        return NULL;
    lp_session *s = &pr->pend[pr->npend - 1];
    return host[0] == 0 || s->host[0] == 0 || strcmp(s->host, host) == 0 ? s : NULL;
}

/* "STARTTLS=client, cert-subject=..., verifymsg=<OpenSSL text>" follows a session's
 * STARTTLS=client line: it says why verify=FAIL (expired, self-signed, ...). */
static void lp_sm_verifymsg(logparse *lp, const char *key, size_t klen, const char *p,
                            const char *end)
{
    const char *vm = LP_FIND(p, end, ", verifymsg=");
    lp_session *s = lp_sm_open(lp_proc_get(lp, key, klen, 0), "");

    lp->st.relevant++;
    if (vm == NULL || s == NULL || s->result != 203 || strcmp(s->reason, "verify-fail") != 0)
        return;
    lp_map_known(s, vm + 12, end);
}

/* "ruleset=tls_server, arg1=<verify>, relay=host, reject=..." (and tls_rcpt): the access
 * map's TLS requirement refused the session. arg1=NONE: the server offered no STARTTLS,
 * and no STARTTLS=client line was logged. "CN x does not match host": VERIFY+CN found
 * another name in a certificate whose chain verified (verify=OK). */
static void lp_sm_ruleset(logparse *lp, const char *line, size_t len, const char *key, size_t klen,
                          const char *p, const char *end)
{
    const char *rej = LP_FIND(p, end, ", reject=");
    char host[DOMAIN_MAX + 1];

    lp->st.relevant++;
    if (rej == NULL)
        return;
    lp_sm_relay(p, rej, host, sizeof(host));
    time_t when = lp_when(lp, line, len);
    if (LP_PREFIX(p, end, "ruleset=tls_server, arg1=NONE,")) {
        lp_proc *pr = lp_proc_get(lp, key, klen, 1);
        if (pr == NULL)
            return;
        pr->seen = when;
        lp_session s;
        memset(&s, 0, sizeof(s));
        s.pos = lp->mark;
        snprintf(s.host, sizeof(s.host), "%s", host);
        s.result = 201;
        snprintf(s.reason, sizeof(s.reason), "starttls-not-offered");
        lp_push(lp, pr, &s);
        return;
    }
    lp_session *s = lp_sm_open(lp_proc_get(lp, key, klen, 0), host);
    if (s && s->result == 0 && LP_FIND(rej, end, " does not match ")) {
        s->result = 202;
        snprintf(s->reason, sizeof(s->reason), "X509_V_ERR_HOSTNAME_MISMATCH");
    }
}

void lp_sendmail(logparse *lp, const char *line, size_t len, const char *key, size_t klen,
                 const char *m, const char *end)
{
    size_t qlen = lp_qid(m, end);
    const char *p = qlen ? m + qlen + 2 : m;

    if (LP_PREFIX(p, end, "STARTTLS=client, ")) {
        const char *a = p + sizeof("STARTTLS=client, ") - 1;
        if (LP_PREFIX(a, end, "relay=") || LP_PREFIX(a, end, "error:"))
            lp_sm_starttls(lp, line, len, key, klen, p, end);
        else if (LP_PREFIX(a, end, "cert-subject="))
            lp_sm_verifymsg(lp, key, klen, a, end);
        return;
    }
    if (LP_PREFIX(p, end, "ruleset=tls_server, ") || LP_PREFIX(p, end, "ruleset=tls_rcpt, ")) {
        lp_sm_ruleset(lp, line, len, key, klen, p, end);
        return;
    }
    if (qlen == 0)
        return;
    if (LP_PREFIX(p, end, "from=") && LP_FIND(p, end, "msgid=<")) {
        const char *mid = LP_FIND(p, end, "msgid=<") + 6;
        if (LP_FIND(mid, end, ".otr-")) {
            lp->st.relevant++;
            if (lp_own_msgid(mid, end))
                lp_own_add(lp, m, qlen, lp_when(lp, line, len));
        }
        return;
    }
    if (!LP_PREFIX(p, end, "to="))
        return;
    lp_proc *pr = lp_proc_get(lp, key, klen, 0);
    if (pr == NULL || pr->npend == 0)
        return;
    lp->st.relevant++;
    time_t when = lp_when(lp, line, len);
    char domain[DOMAIN_MAX + 1], host[DOMAIN_MAX + 1] = "", ip[LP_MAX_IP] = "";
    if (lp_rcpt_domain(p + 3, end, domain) < 0) {
        lp->st.malformed++;
        return;
    }
    /* relay=host. [ip] (or relay=[ip] when the name is unknown) */
    const char *r = LP_FIND(p, end, ", relay=");
    if (r) {
        r += 8;
        const char *e = r;
        while (e < end && *e != ' ' && *e != ',')
            e++;
        if (e > r && *r != '[')
            domain_normalize(r, (size_t)(e - r), host, sizeof(host));
        const char *lb = (e < end && *e == ' ' && e + 1 < end && e[1] == '[')
                             ? e + 1
                             : (r < end && *r == '[' ? r : NULL);
        if (lb) {
            const char *rb = memchr(lb, ']', (size_t)(end - lb));
            if (rb && rb - lb - 1 > 0 && rb - lb - 1 < LP_MAX_IP)
                lp_copy(ip, sizeof(ip), lb + 1, (size_t)(rb - lb - 1));
            for (char *q = ip; *q; q++)
                if (!isxdigit((unsigned char)*q) && *q != '.' && *q != ':')
                    ip[0] = 0;
        }
    }
    int own = htable_locate(lp->own, m, qlen) != NULL;
    pr->seen = when;
    for (size_t i = 0; i < pr->npend; i++) {
        lp_session *s = &pr->pend[i];
        if (s->host[0] == 0)
            snprintf(s->host, sizeof(s->host), "%s", host);
        if (s->ip[0] == 0 && (host[0] == 0 || strcmp(s->host, host) == 0))
            snprintf(s->ip, sizeof(s->ip), "%s", ip);
        if (own)
            lp->st.own_reports++;
        else
            lp_emit(lp, s, domain, when);
    }
    pr->npend = 0;
}
