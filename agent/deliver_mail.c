/* Report delivery by e-mail: the signed message handed to smtp_relay with libESMTP. */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <auth-client.h>
#include <libesmtp.h>

#include "deliver.h"
#include "fsutil.h"
#include "mailmsg.h"
#include "msg.h"
#include "smtps_bridge.h"

#define DELIVER_PASSWORD_MAX 1024
/* smtp_timeout bounds each protocol step (a cron job must not hang on a relay), but the
 * reply to the message itself may wait for the relay's content filters, and giving up
 * there only means sending the same report twice (RFC 5321 4.5.3.2: 10 min by default). */
#define DELIVER_FINAL_TIMEOUT_FACTOR 5

static struct {
    int done, rc;
    char relay[512];
    char password[DELIVER_PASSWORD_MAX + 1];
    SSL_CTX *tls;
    int smtps; /* implicit TLS through smtps_bridge; tls is then not libESMTP's */
} deliver_mail_state;

/* What happened during a session, for the log line of a failure. */
typedef struct {
    const vstring *msg;
    size_t pos;
    char tls_problem[512];
    int authenticated; /* the relay answered 235 to AUTH */
} deliver_session;

/* The last certificate problem of the handshake, for the failure's log line. */
static char deliver_mail_cert_problem[160];

static int deliver_mail_verify(int ok, X509_STORE_CTX *store)
{
    if (!ok)
        snprintf(deliver_mail_cert_problem, sizeof(deliver_mail_cert_problem),
                 "relay certificate not trusted: %s",
                 X509_verify_cert_error_string(X509_STORE_CTX_get_error(store)));
    return ok;
}

/* Verification (trust store, then the smtp_relay name or address) happens during the
 * handshake, so a bad certificate ends the session at once; libESMTP would otherwise
 * only notice after the handshake and then wait for a reply that never comes. */
static int deliver_mail_tls_init(int starttls)
{
    char host[sizeof(deliver_mail_state.relay)];
    SSL_CTX *tls = SSL_CTX_new(TLS_client_method());

    snprintf(host, sizeof(host), "%s", deliver_mail_state.relay);
    host[strcspn(host, ":")] = 0;
    deliver_mail_state.tls = tls;
    /* STARTTLS: TLS 1.2 exactly: libESMTP 1.1 polls the socket while OpenSSL may already
     * hold the relay's reply behind a TLS 1.3 NewSessionTicket, and then waits for the
     * timeout (seen in every other session with Postfix 3.7; tests/report_mail.sh). The
     * smtps bridge reads TLS itself and has no such problem. */
    if (tls == NULL || SSL_CTX_set_min_proto_version(tls, TLS1_2_VERSION) != 1 ||
        (starttls && SSL_CTX_set_max_proto_version(tls, TLS1_2_VERSION) != 1) ||
        SSL_CTX_set_default_verify_paths(tls) != 1)
        return -1;
    X509_VERIFY_PARAM *param = SSL_CTX_get0_param(tls);
    if (X509_VERIFY_PARAM_set1_ip_asc(param, host) != 1 &&
        X509_VERIFY_PARAM_set1_host(param, host, 0) != 1)
        return -1;
    SSL_CTX_set_verify(tls, SSL_VERIFY_PEER, deliver_mail_verify);
    return 0;
}

int deliver_mail_init(agent_ctx *ctx)
{
    const config *cfg = ctx->cfg;

    if (deliver_mail_state.done)
        return deliver_mail_state.rc;
    deliver_mail_state.done = 1;
    deliver_mail_state.rc = -1;
    /* libESMTP writes to the relay with plain write(): a relay that closes the connection
     * in the middle of DATA must be a failed attempt (EPIPE), not the death of the run. */
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &sa, NULL);
    if (mailmsg_init(cfg, 1) < 0)
        return -1;
    /* libESMTP takes host:port and assumes 587 when the port is missing; ours is 25, or
     * 465 for smtps. */
    const char *relay = *cfg->smtp_relay ? cfg->smtp_relay : "localhost:25";
    int smtps = strcmp(cfg->smtp_tls, "smtps") == 0;
    int n = snprintf(deliver_mail_state.relay, sizeof(deliver_mail_state.relay), "%s%s", relay,
                     strchr(relay, ':') ? ""
                     : smtps            ? ":465"
                                        : ":25");
    if (n < 0 || (size_t)n >= sizeof(deliver_mail_state.relay) || strpbrk(relay, " \t/") != NULL) {
        msg_error("smtp_relay: \"%s\" is not host[:port]", relay);
        return -1;
    }
    if (*cfg->smtp_auth_user) {
        vstring *pw = vstring_alloc(0);
        if (*cfg->smtp_auth_password_file == 0 ||
            fsutil_read_file(cfg->smtp_auth_password_file, pw, DELIVER_PASSWORD_MAX) < 0) {
            msg_error("smtp_auth_password_file: %s: %s",
                      *cfg->smtp_auth_password_file ? cfg->smtp_auth_password_file : "(not set)",
                      *cfg->smtp_auth_password_file ? strerror(errno)
                                                    : "needed with smtp_auth_user");
            vstring_free(pw);
            return -1;
        }
        size_t len = strcspn(pw->data, "\r\n"); /* the first line */
        memcpy(deliver_mail_state.password, pw->data, len);
        deliver_mail_state.password[len] = 0;
        OPENSSL_cleanse(pw->data, pw->cap);
        vstring_free(pw);
        if (strcmp(cfg->smtp_tls, "none") == 0)
            msg_warn("smtp_auth_user with smtp_tls = none: the password crosses the network in "
                     "clear unless smtp_relay is on this host");
    }
    deliver_mail_state.smtps = smtps;
    if (strcmp(cfg->smtp_tls, "none") != 0 && deliver_mail_tls_init(!smtps) < 0) {
        msg_error("cannot set up TLS for smtp_relay");
        return -1;
    }
    deliver_mail_state.rc = 0;
    return 0;
}

/* libESMTP reads the message through this; a NULL len asks to rewind. */
static const char *deliver_mail_read(void **unused, int *len, void *arg)
{
    deliver_session *s = arg;

    (void)unused;
    if (len == NULL) {
        s->pos = 0;
        return NULL;
    }
    size_t left = s->msg->len - s->pos;
    size_t n = left > INT_MAX / 2 ? INT_MAX / 2 : left;
    const char *p = s->msg->data + s->pos;
    s->pos += n;
    *len = (int)n;
    return n ? p : NULL;
}

static void deliver_mail_event(smtp_session_t session, int event, void *arg, ...)
{
    deliver_session *s = arg;
    va_list ap;

    (void)session;
    va_start(ap, arg);
    switch (event) {
    case SMTP_EV_INVALID_PEER_CERTIFICATE: {
        long result = va_arg(ap, long);
        int *ok = va_arg(ap, int *);
        *ok = 0;
        snprintf(s->tls_problem, sizeof(s->tls_problem), "relay certificate not trusted: %s",
                 X509_verify_cert_error_string(result));
        break;
    }
    case SMTP_EV_NO_PEER_CERTIFICATE: {
        int *ok = va_arg(ap, int *);
        *ok = 0;
        snprintf(s->tls_problem, sizeof(s->tls_problem), "relay sent no certificate");
        break;
    }
    case SMTP_EV_WRONG_PEER_CERTIFICATE: {
        /* OpenSSL matched the name (or the IP address, which libESMTP cannot) already. */
        int *ok = va_arg(ap, int *);
        *ok = 1;
        break;
    }
    case SMTP_EV_WEAK_CIPHER: {
        (void)va_arg(ap, int);
        int *ok = va_arg(ap, int *);
        *ok = 0;
        snprintf(s->tls_problem, sizeof(s->tls_problem), "weak TLS cipher");
        break;
    }
    case SMTP_EV_EXTNA_STARTTLS:
        snprintf(s->tls_problem, sizeof(s->tls_problem), "relay does not offer STARTTLS");
        break;
    default:
        break;
    }
    va_end(ap);
}

/* Watches the relay's replies for the 235 of a successful AUTH; what we write (the
 * password among it) is not looked at. */
static void deliver_mail_monitor(const char *buf, int len, int writing, void *arg)
{
    deliver_session *s = arg;

    if (writing == SMTP_CB_READING && len >= 4 && memcmp(buf, "235", 3) == 0 &&
        (buf[3] == ' ' || buf[3] == '-'))
        s->authenticated = 1;
}

static int deliver_mail_auth(auth_client_request_t req, char **result, int fields, void *arg)
{
    const config *cfg = arg;

    for (int i = 0; i < fields; i++) {
        if (req[i].flags & AUTH_USER)
            result[i] = cfg->smtp_auth_user;
        else if (req[i].flags & AUTH_PASS)
            result[i] = deliver_mail_state.password;
        else
            return 0;
    }
    return 1;
}

/* 2xx, 4xx or 5xx of a reply, as a delivery status; 0 (no reply) is temporary. */
static deliver_status deliver_mail_class(int code)
{
    return code >= 200 && code < 300 ? DELIVER_OK
           : code >= 500             ? DELIVER_PERMFAIL
                                     : DELIVER_TEMPFAIL;
}

static void deliver_mail_why(char *why, size_t whylen, const char *stage, const smtp_status_t *st)
{
    const char *text = st && st->text ? st->text : "";
    size_t tl = strcspn(text, "\r\n");

    snprintf(why, whylen, "%s: %d %.*s", stage, st ? st->code : 0, (int)(tl > 200 ? 200 : tl),
             text);
}

deliver_status deliver_mail(agent_ctx *ctx, const mailmsg_report *r, const char *addr, char *why,
                            size_t whylen)
{
    const config *cfg = ctx->cfg;
    char from[MAILMSG_ADDR_MAX + 64];

    if (deliver_mail_init(ctx) < 0) {
        snprintf(why, whylen, "mail delivery is not configured correctly");
        return DELIVER_TEMPFAIL;
    }
    if (!mailmsg_addr_valid(addr)) {
        snprintf(why, whylen, "not a plain address (local@domain.example)");
        msg_warn("%s: report for %s: refusing rua address: %s", r->day, r->domain, why);
        return DELIVER_PERMFAIL;
    }
    vstring *m = vstring_alloc(0);
    if (mailmsg_build(cfg, r, addr, time(NULL), m, why, whylen) < 0) {
        msg_warn("%s: report for %s to %s: %s", r->day, r->domain, addr, why);
        vstring_free(m);
        return DELIVER_PERMFAIL;
    }
    mailmsg_from(cfg, r->submitter, from, sizeof(from));

    long step_ms = (long)cfg->smtp_timeout * 1000;
    long final_ms = step_ms * DELIVER_FINAL_TIMEOUT_FACTOR;
    deliver_session s = {m, 0, "", 0};
    deliver_mail_cert_problem[0] = 0;
    deliver_status st = DELIVER_TEMPFAIL;
    auth_context_t auth = NULL;
    smtp_session_t session = smtp_create_session();
    smtp_message_t message = session ? smtp_add_message(session) : NULL;
    smtp_recipient_t rcpt = NULL;
    smtps_bridge *bridge = NULL;
    char server[sizeof(deliver_mail_state.relay)], bridged[512] = "";
    snprintf(server, sizeof(server), "%s", deliver_mail_state.relay);
    if (deliver_mail_state.smtps) {
        char host[sizeof(server)];
        snprintf(host, sizeof(host), "%s", deliver_mail_state.relay);
        char *colon = strchr(host, ':');
        *colon = 0;
        bridge = smtps_bridge_start(host, colon + 1, deliver_mail_state.tls, (int)final_ms, server,
                                    sizeof(server), why, whylen);
        if (bridge == NULL)
            goto done;
    }
    if (message == NULL || smtp_set_server(session, server) == 0 ||
        smtp_set_reverse_path(message, from) == 0 ||
        (rcpt = smtp_add_recipient(message, addr)) == NULL ||
        smtp_set_messagecb(message, deliver_mail_read, &s) == 0 ||
        smtp_set_eventcb(session, deliver_mail_event, &s) == 0) {
        snprintf(why, whylen, "cannot set up the SMTP session");
        goto done;
    }
    for (int t = Timeout_GREETING; t <= Timeout_DATA2; t++)
        smtp_set_timeout(session, t | Timeout_OVERRIDE_RFC2822_MINIMUM,
                         t == Timeout_DATA2 ? final_ms : step_ms);
    if (deliver_mail_state.tls && !deliver_mail_state.smtps) {
        smtp_starttls_set_ctx(session, deliver_mail_state.tls);
        smtp_starttls_enable(session, Starttls_REQUIRED);
    } else {
        smtp_starttls_enable(session, Starttls_DISABLED);
    }
    if (*cfg->smtp_auth_user) {
        auth_client_init();
        auth = auth_create_context();
        auth_set_mechanism_flags(auth, AUTH_PLUGIN_PLAIN, 0);
        auth_set_interact_cb(auth, deliver_mail_auth, (void *)cfg);
        smtp_auth_set_context(session, auth);
        smtp_set_monitorcb(session, deliver_mail_monitor, &s, 0);
    }
    int started = smtp_start_session(session);
    if (bridge) {
        smtps_bridge_finish(bridge, bridged, sizeof(bridged));
        bridge = NULL;
        if (bridged[0])
            snprintf(s.tls_problem, sizeof(s.tls_problem), "%s", bridged);
    }
    if (!started) {
        char buf[128];
        snprintf(why, whylen, "%s: %s", deliver_mail_state.relay,
                 s.tls_problem[0]               ? s.tls_problem
                 : deliver_mail_cert_problem[0] ? deliver_mail_cert_problem
                                                : smtp_strerror(smtp_errno(), buf, sizeof(buf)));
        goto done;
    }
    const smtp_status_t *mail = smtp_reverse_path_status(message);
    const smtp_status_t *rc = smtp_recipient_status(rcpt);
    const smtp_status_t *data = smtp_message_transfer_status(message);
    if (mail && mail->code && deliver_mail_class(mail->code) != DELIVER_OK) {
        st = deliver_mail_class(mail->code);
        deliver_mail_why(why, whylen, "MAIL FROM", mail);
    } else if (rc && rc->code && deliver_mail_class(rc->code) != DELIVER_OK) {
        st = deliver_mail_class(rc->code);
        deliver_mail_why(why, whylen, "RCPT TO", rc);
    } else if (data && data->code) {
        st = deliver_mail_class(data->code);
        deliver_mail_why(why, whylen, st == DELIVER_OK ? "accepted" : "DATA", data);
    } else {
        snprintf(why, whylen, "%s: %s", deliver_mail_state.relay,
                 s.tls_problem[0]               ? s.tls_problem
                 : deliver_mail_cert_problem[0] ? deliver_mail_cert_problem
                                                : "session ended without a reply");
    }
    /* A relay that wants AUTH refuses the sender or recipients; when our AUTH failed,
     * that is our configuration (or the relay), not the destination: try again later. */
    if (st != DELIVER_OK && *cfg->smtp_auth_user && !s.authenticated) {
        char inner[256];
        snprintf(inner, sizeof(inner), "%s", why);
        snprintf(why, whylen, "SMTP AUTH as %s failed (%s)", cfg->smtp_auth_user, inner);
        st = DELIVER_TEMPFAIL;
    }
done:
    if (bridge)
        smtps_bridge_finish(bridge, bridged, sizeof(bridged));
    if (session)
        smtp_destroy_session(session);
    if (auth)
        auth_destroy_context(auth);
    vstring_free(m);
    return st;
}
