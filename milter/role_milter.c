/*
 * Role "milter": a libmilter filter that catches the TLS-RPT reports sent to this site's
 * domains at SMTP time, stores them (de-duplicated) for `opentlsrpt-agent summary`, and
 * optionally counts the TLS of inbound mail. It must never get in the way of ordinary mail:
 * only messages whose Content-Type could hold a report are buffered (at most a bound per
 * message; one that outgrows it and is not a report passes at once), and any internal
 * failure answers CONTINUE with a log line (fail open).
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <libmilter/mfapi.h>

#include "dns.h"
#include "domain.h"
#include "fsutil.h"
#include "inbound_tls.h"
#include "inreport.h"
#include "inreport_dkim.h"
#include "membudget.h"
#include "metrics.h"
#include "msg.h"
#include "mymalloc.h"
#include "report_store.h"
#include "roles.h"
#include "sockets.h"

typedef struct mlt_msg {
    vstring *buf;   /* header + body as the MTA passed them, while it may be a report */
    size_t charged; /* bytes of buf taken from mlt_budget */
    int buffering;
    int overflow;   /* the message outgrew the bound; buf is gone */
    int starved;    /* mlt_budget could not hold more of it; nothing more is buffered */
    int top_report; /* the top-level Content-Type names a report */
    int rcpt_match; /* a recipient is in report_recipients (or there is no list) */
} mlt_msg;

typedef struct mlt_conn {
    mlt_msg msg;
} mlt_conn;

#define MLT_DNS_TIMEOUT 10 /* seconds per DKIM key lookup, while the sender waits */

static const config *mlt_cfg;
static report_store *mlt_store;
static inbound_tls *mlt_tls;
/* One writer at a time: two threads storing the same report share a temp file name. */
static pthread_mutex_t mlt_store_lock = PTHREAD_MUTEX_INITIALIZER;
static msg_rate mlt_rate = MSG_RATE_INIT(20, 60);
/* milter_memory_max: what all connections together may hold of messages and parsed reports;
 * a report that does not fit is answered 4xx (its sender retries), never refused. */
static membudget mlt_budget;

static size_t mlt_max_message(void)
{
    /* Room for a report of max_report_size sent uncompressed and base64-encoded. */
    size_t max = (size_t)mlt_cfg->max_report_size;
    return max + max / 2 + 1024 * 1024;
}

static void mlt_msg_reset(mlt_msg *m)
{
    m->buf = vstring_free(m->buf);
    membudget_give(&mlt_budget, m->charged);
    m->charged = 0;
    m->buffering = 0;
    m->overflow = 0;
    m->starved = 0;
    m->top_report = 0;
    m->rcpt_match = *mlt_cfg->report_recipients == 0;
}

static mlt_conn *mlt_get(SMFICTX *ctx)
{
    return smfi_getpriv(ctx);
}

static void mlt_append(mlt_msg *m, const void *data, size_t len)
{
    if (!m->buffering || m->overflow || m->starved)
        return;
    /* The buffer grows by doubling: what it may hold is taken as it grows. */
    size_t need = m->buf->len + len;
    if (need > m->charged) {
        size_t more = need - m->charged;
        if (more < 65536)
            more = 65536;
        if (membudget_take(&mlt_budget, more) < 0) {
            m->starved = 1; /* the prefix is kept until mlt_starve looks at it */
            return;
        }
        m->charged += more;
    }
    if (vstring_append(m->buf, data, len) < 0)
        m->overflow = 1; /* the buffered prefix is kept until mlt_overflowed looks at it */
}

static sfsistat mlt_connect(SMFICTX *ctx, char *host, struct sockaddr *addr)
{
    (void)host;
    (void)addr;
    mlt_conn *c = mycalloc(1, sizeof(*c));
    mlt_msg_reset(&c->msg);
    if (smfi_setpriv(ctx, c) != MI_SUCCESS) {
        myfree(c);
        msg_warn("milter: cannot keep per-connection state; letting this connection pass");
        return SMFIS_ACCEPT;
    }
    return SMFIS_CONTINUE;
}

/* HELO and DATA are registered only so that every MTA (and miltertest) goes through each
 * phase as usual: libmilter would otherwise negotiate them away. */
static sfsistat mlt_helo(SMFICTX *ctx, char *name)
{
    (void)ctx;
    (void)name;
    return SMFIS_CONTINUE;
}

static sfsistat mlt_data(SMFICTX *ctx)
{
    (void)ctx;
    return SMFIS_CONTINUE;
}

/* The domain of "<local@domain>" as normalized; "" for the null sender or junk. */
static void mlt_addr_domain(const char *addr, char *out, size_t size)
{
    const char *at = strrchr(addr, '@');
    out[0] = 0;
    if (at == NULL)
        return;
    at++;
    size_t n = strcspn(at, ">");
    if (domain_normalize(at, n, out, size) < 0)
        out[0] = 0;
}

/* The milter asks for the macros it reads, at the stage it reads them, so that no MTA macro
 * setting is needed. The queue id "i" is read at end of message (log lines). The TLS macros:
 * the MTA's defaults pass {tls_version} and {cipher} only with HELO, and a client may send
 * MAIL after STARTTLS without a new EHLO (RFC 3207 only says it SHOULD), which left the
 * plaintext EHLO's macros in force and counted the message as plaintext; asked for with
 * MAIL, where messages are counted, they hold the value at that time. Postfix's default MAIL
 * list also has "i" (known there when smtpd_delay_open_until_valid_rcpt = no), kept in ours.
 * For this milter a requested list replaces the one of the MTA's configuration; an MTA that
 * cannot take the request (milter protocol < 6) sends what its configuration lists. */
static sfsistat mlt_negotiate(SMFICTX *ctx, unsigned long actions, unsigned long steps,
                              unsigned long f2, unsigned long f3, unsigned long *want_actions,
                              unsigned long *want_steps, unsigned long *want_f2,
                              unsigned long *want_f3)
{
    (void)f2;
    (void)f3;
    *want_actions = SMFIF_NONE;
    /* As without this callback: every step is sent but unknown commands (no callback). */
    *want_steps = steps & SMFIP_NOUNKNOWN;
    *want_f2 = 0;
    *want_f3 = 0;
    if ((actions & SMFIF_SETSYMLIST) == 0)
        return SMFIS_CONTINUE;
    *want_actions |= SMFIF_SETSYMLIST;
    char eom[] = "i", mail[] = "i {tls_version} {cipher}";
    if ((smfi_setsymlist(ctx, SMFIM_EOM, eom) != MI_SUCCESS ||
         (mlt_tls && smfi_setsymlist(ctx, SMFIM_ENVFROM, mail) != MI_SUCCESS)) &&
        msg_rate_ok(&mlt_rate))
        msg_warn("milter: cannot ask the MTA for the macros it reads");
    return SMFIS_CONTINUE;
}

static sfsistat mlt_envfrom(SMFICTX *ctx, char **argv)
{
    mlt_conn *c = mlt_get(ctx);
    if (c == NULL)
        return SMFIS_CONTINUE;
    mlt_msg_reset(&c->msg);
    counter_add(&metrics->milter.messages, 1);
    if (mlt_tls && argv && argv[0]) {
        char domain[DOMAIN_MAX + 1];
        mlt_addr_domain(argv[0], domain, sizeof(domain));
        inbound_tls_count(mlt_tls, time(NULL), domain, smfi_getsymval(ctx, "{tls_version}"),
                          smfi_getsymval(ctx, "{cipher}"));
    }
    return SMFIS_CONTINUE;
}

/* report_recipients: addresses ("tlsrpt@example.com") or domains ("example.com",
 * "@example.com"), separated by commas or spaces. */
static int mlt_rcpt_listed(const char *rcpt)
{
    char addr[512];
    const char *p = rcpt;
    while (*p == '<' || *p == ' ')
        p++;
    size_t n = strcspn(p, ">");
    if (n >= sizeof(addr))
        return 0;
    memcpy(addr, p, n);
    addr[n] = 0;
    const char *at = strrchr(addr, '@');
    const char *list = mlt_cfg->report_recipients;
    while (*list) {
        list += strspn(list, ", \t");
        size_t len = strcspn(list, ", \t");
        if (len == 0)
            break;
        const char *item = list;
        list += len;
        if (memchr(item, '@', len) && item[0] != '@') {
            if (strlen(addr) == len && strncasecmp(addr, item, len) == 0)
                return 1;
            continue;
        }
        if (item[0] == '@') {
            item++;
            len--;
        }
        if (at && strlen(at + 1) == len && strncasecmp(at + 1, item, len) == 0)
            return 1;
    }
    return 0;
}

static sfsistat mlt_envrcpt(SMFICTX *ctx, char **argv)
{
    mlt_conn *c = mlt_get(ctx);
    if (c && argv && argv[0] && !c->msg.rcpt_match && mlt_rcpt_listed(argv[0]))
        c->msg.rcpt_match = 1;
    return SMFIS_CONTINUE;
}

/* Only a multipart or a bare report part can be a report; all else passes unbuffered. */
static int mlt_maybe_report(const char *ct)
{
    while (*ct == ' ' || *ct == '\t')
        ct++;
    return strncasecmp(ct, "multipart/", 10) == 0 || strncasecmp(ct, "application/tlsrpt", 18) == 0;
}

static sfsistat mlt_header(SMFICTX *ctx, char *name, char *value)
{
    mlt_conn *c = mlt_get(ctx);
    if (c == NULL)
        return SMFIS_CONTINUE;
    mlt_msg *m = &c->msg;
    if (m->buf == NULL) {
        m->buf = vstring_alloc(mlt_max_message());
        m->buffering = 1;
    }
    if (strcasecmp(name, "Content-Type") == 0 && mlt_maybe_report(value)) {
        m->buffering = 2; /* decided at eoh */
        m->top_report = inreport_type_is_report(value);
    }
    mlt_append(m, name, strlen(name));
    mlt_append(m, ": ", 2);
    mlt_append(m, value, strlen(value));
    mlt_append(m, "\r\n", 2);
    return SMFIS_CONTINUE;
}

/* The queue id goes into log lines: only letters and digits, as every MTA makes them. */
static int mlt_qid_ok(const char *qid)
{
    size_t n = qid ? strlen(qid) : 0;
    if (n == 0 || n > 32)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!((qid[i] >= '0' && qid[i] <= '9') || (qid[i] >= 'A' && qid[i] <= 'Z') ||
              (qid[i] >= 'a' && qid[i] <= 'z')))
            return 0;
    return 1;
}

static const char *mlt_qid(SMFICTX *ctx)
{
    const char *qid = smfi_getsymval(ctx, "i");
    return mlt_qid_ok(qid) ? qid : "-";
}

/* The message outgrew the buffer. Whether it is a report is decided from what is known:
 * its Content-Type and the part headers in the buffered prefix (a report puts its report
 * part first, well within the bound). Ordinary mail that large passes at once, unlooked
 * at; a report is refused at end of message as before. Either way the buffer is freed. */
static sfsistat mlt_overflowed(SMFICTX *ctx, mlt_msg *m)
{
    int report = m->top_report || inreport_message_is_report(m->buf->data, m->buf->len);
    m->buf = vstring_free(m->buf);
    /* The rest of the message may take long to come: the budget is not held for it. */
    membudget_give(&mlt_budget, m->charged);
    m->charged = 0;
    if (report)
        return SMFIS_CONTINUE;
    msg_debug("milter: %s: message larger than %zu bytes is not a report; passed", mlt_qid(ctx),
              mlt_max_message());
    mlt_msg_reset(m);
    return SMFIS_ACCEPT;
}

/* A temporary failure: the sender keeps the message and tries again later. */
static sfsistat mlt_tempfail(SMFICTX *ctx, const char *why)
{
    if (msg_rate_ok(&mlt_rate))
        msg_warn("milter: %s: %s; answered 451 (the sender retries)", mlt_qid(ctx), why);
    counter_add(&metrics->milter.refused[METRICS_REFUSED_DEFERRED], 1);
    (void)smfi_setreply(ctx, "451", "4.3.1",
                        "too many TLS-RPT reports at once, please try again later");
    return SMFIS_TEMPFAIL;
}

/* milter_memory_max cannot hold more of the message: a report is deferred, other mail
 * (decided as mlt_overflowed does) passes at once. Either way the buffer is freed. */
static sfsistat mlt_starve(SMFICTX *ctx, mlt_msg *m)
{
    int report = m->top_report || inreport_message_is_report(m->buf->data, m->buf->len);
    mlt_msg_reset(m);
    if (!report)
        return SMFIS_ACCEPT;
    return mlt_tempfail(ctx, "milter_memory_max reached while receiving a report");
}

static sfsistat mlt_eoh(SMFICTX *ctx)
{
    mlt_conn *c = mlt_get(ctx);
    if (c == NULL)
        return SMFIS_CONTINUE;
    mlt_msg *m = &c->msg;
    if (m->buffering != 2 || !m->rcpt_match) {
        /* Ordinary mail: nothing more to look at, and nothing is kept. */
        mlt_msg_reset(m);
        return SMFIS_ACCEPT;
    }
    mlt_append(m, "\r\n", 2);
    if (m->starved)
        return mlt_starve(ctx, m);
    return m->overflow ? mlt_overflowed(ctx, m) : SMFIS_CONTINUE;
}

static sfsistat mlt_body(SMFICTX *ctx, unsigned char *data, size_t len)
{
    mlt_conn *c = mlt_get(ctx);
    if (c == NULL || c->msg.overflow)
        return SMFIS_CONTINUE;
    mlt_append(&c->msg, data, len);
    if (c->msg.starved)
        return mlt_starve(ctx, &c->msg);
    return c->msg.overflow ? mlt_overflowed(ctx, &c->msg) : SMFIS_CONTINUE;
}

static sfsistat mlt_malformed(SMFICTX *ctx, const char *why)
{
    if (strcmp(mlt_cfg->milter_action, "reject") != 0)
        return SMFIS_CONTINUE;
    char text[200];
    /* why is one of the parser's fixed texts, never the sender's bytes. */
    snprintf(text, sizeof(text), "malformed TLS-RPT report: %s", why);
    for (char *p = text; *p; p++)
        if (*p == '%' || (unsigned char)*p < 0x20)
            *p = ' ';
    if (smfi_setreply(ctx, "550", "5.6.0", text) != MI_SUCCESS)
        return SMFIS_CONTINUE;
    return SMFIS_REJECT;
}

static sfsistat mlt_eom_report(SMFICTX *ctx, mlt_msg *m)
{
    char err[200] = "";
    const char *qid = mlt_qid(ctx);
    inreport r;
    inreport_meta meta;
    sfsistat ret = SMFIS_CONTINUE;

    if (m->overflow) {
        if (msg_rate_ok(&mlt_rate))
            msg_warn("milter: %s: report message larger than %zu bytes; not stored", qid,
                     mlt_max_message());
        counter_add(&metrics->milter.refused[METRICS_REFUSED_TOO_LARGE], 1);
        return mlt_malformed(ctx, "message too large");
    }
    inreport_init(&r);
    r.budget = &mlt_budget;
    int st = inreport_parse_message(&r, m->buf->data, m->buf->len, (size_t)mlt_cfg->max_report_size,
                                    &meta, err, sizeof(err));
    if (st == INREPORT_NONE) {
        inreport_done(&r);
        return SMFIS_CONTINUE;
    }
    if (st == INREPORT_TEMP) {
        inreport_done(&r);
        return mlt_tempfail(ctx, err);
    }
    if (st == INREPORT_BAD) {
        if (msg_rate_ok(&mlt_rate))
            msg_warn("milter: %s: malformed TLS-RPT report (%s); not stored", qid, err);
        counter_add(&metrics->milter.refused[METRICS_REFUSED_MALFORMED], 1);
        inreport_done(&r);
        return mlt_malformed(ctx, err);
    }
    report_store_info info;
    char dkim[300];
    memset(&info, 0, sizeof(info));
    info.received = time(NULL);
    info.source = "milter";
    /* Only reports get here, a few a day: a resolver each is cheap, and thread-safe. */
    dns_resolver *res = dns_resolver_new(mlt_cfg);
    if (res)
        dns_resolver_set_timeout(res, MLT_DNS_TIMEOUT);
    info.dkim_aligned = inreport_dkim(res, m->buf->data + meta.dkim_offset, meta.dkim_len,
                                      r.submitter, dkim, sizeof(dkim));
    dns_resolver_free(res);
    info.dkim = dkim;
    info.header_domain = meta.report_domain[0] ? meta.report_domain : NULL;
    info.header_submitter = meta.submitter[0] ? meta.submitter : NULL;
    pthread_mutex_lock(&mlt_store_lock);
    int put = report_store_put(mlt_store, &r, &info);
    pthread_mutex_unlock(&mlt_store_lock);
    if (put < 0) {
        msg_error("milter: %s: cannot store the report of %s: %m; letting it pass", qid,
                  r.submitter);
        counter_add(&metrics->milter.refused[METRICS_REFUSED_STORE_ERROR], 1);
    } else {
        counter_add(put ? &metrics->milter.reports_stored : &metrics->milter.reports_duplicate, 1);
        msg_info("milter: %s: %s TLS-RPT report from %s, id %s, %zu policies, dkim=%s%s%s", qid,
                 put ? "stored" : "duplicate", r.submitter, r.report_id, r.npolicies, dkim,
                 info.dkim_aligned == 0 ? ", not aligned with the submitter" : "",
                 meta.forwarded ? ", forwarded" : "");
        if (strcmp(mlt_cfg->milter_action, "discard") == 0)
            ret = SMFIS_DISCARD;
    }
    inreport_done(&r);
    return ret;
}

static sfsistat mlt_eom(SMFICTX *ctx)
{
    mlt_conn *c = mlt_get(ctx);
    sfsistat ret = SMFIS_CONTINUE;
    if (c && c->msg.buffering == 2 && (c->msg.buf || c->msg.overflow))
        ret = mlt_eom_report(ctx, &c->msg);
    if (c)
        mlt_msg_reset(&c->msg);
    return ret;
}

static sfsistat mlt_abort(SMFICTX *ctx)
{
    mlt_conn *c = mlt_get(ctx);
    if (c)
        mlt_msg_reset(&c->msg);
    return SMFIS_CONTINUE;
}

static sfsistat mlt_close(SMFICTX *ctx)
{
    mlt_conn *c = mlt_get(ctx);
    if (c) {
        mlt_msg_reset(&c->msg);
        smfi_setpriv(ctx, NULL);
        myfree(c);
    }
    return SMFIS_CONTINUE;
}

static int milter_enabled(const config *cfg)
{
    return *cfg->milter_socket != 0;
}

/* The unix socket path of a libmilter socket spec, or NULL for inet sockets. */
static const char *milter_unix_path(const char *spec)
{
    if (strncmp(spec, "local:", 6) == 0)
        return spec + 6;
    if (strncmp(spec, "unix:", 5) == 0)
        return spec + 5;
    if (spec[0] == '/')
        return spec;
    return NULL;
}

static int milter_prepare(const config *cfg, const config *old, role_ctx *ctx)
{
    (void)old;
    (void)ctx;
    const char *path = milter_unix_path(cfg->milter_socket);
    if (path == NULL)
        return 0;
    /* libmilter binds the socket itself in the child; the directory must already exist. */
    char dir[4096];
    const char *slash = strrchr(path, '/');
    if (slash == NULL || slash == path || (size_t)(slash - path) >= sizeof(dir))
        return 0;
    memcpy(dir, path, (size_t)(slash - path));
    dir[slash - path] = 0;
    if (access(dir, F_OK) == 0)
        return 0;
    if (fsutil_mkdirs(dir, 0755) < 0) {
        msg_error("milter: cannot create %s: %m", dir);
        return -1;
    }
    /* The role binds the socket after dropping to user: the directory must be its own. */
    struct passwd *pw = geteuid() == 0 && *cfg->user ? getpwnam(cfg->user) : NULL;
    gid_t gid;
    if (pw == NULL)
        return 0;
    if (sockets_group(cfg->milter_socket_group, path, &gid) < 0)
        return -1;
    /* The socket is created later by the role, as user, who cannot give it to the MTA's
     * group: the directory's set-group-ID bit does (a socket made in it gets its group),
     * and only user and that group can reach the socket at all. Through a descriptor of
     * the directory itself, never following a symlink planted in its parent. */
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0 || fchown(fd, pw->pw_uid, gid != (gid_t)-1 ? gid : pw->pw_gid) < 0 ||
        fchmod(fd, 0750) < 0) {
        msg_error("milter: cannot give %s to %s: %m", dir, cfg->user);
        if (fd >= 0)
            close(fd);
        return -1;
    }
    /* systemd's RestrictSUIDSGID= (or a missing CAP_FSETID) refuses or drops the bit: the
     * directory can be made beforehand, as the Debian package does for its default. */
    struct stat st;
    if (gid != (gid_t)-1 &&
        (fchmod(fd, 02750) < 0 || fstat(fd, &st) < 0 || !(st.st_mode & S_ISGID)))
        msg_warn("milter: cannot set the set-group-ID bit of %s: the socket will not be "
                 "group %s; create the directory beforehand with \"install -d -o %s -g %s "
                 "-m 2750 %s\"",
                 dir, cfg->milter_socket_group, cfg->user, cfg->milter_socket_group, dir);
    close(fd);
    return 0;
}

/* Resident memory, for the metrics: reports are buffered whole, so it follows them. From
 * /proc, which also counts what an allocator other than glibc's (a sanitizer's) holds. */
static void milter_memory(void)
{
    char buf[128];
    unsigned long long size, resident;

    if (fsutil_read_small("/proc/self/statm", buf, sizeof(buf)) > 0 &&
        sscanf(buf, "%llu %llu", &size, &resident) == 2)
        counter_set(&metrics->milter.memory_bytes,
                    resident * (unsigned long long)sysconf(_SC_PAGESIZE));
}

static void *milter_watch(void *arg)
{
    (void)arg;
    time_t last = time(NULL);
    while (!role_stop) {
        milter_memory();
        sleep(1);
        time_t now = time(NULL);
        if (mlt_tls && now - last >= 60) {
            inbound_tls_flush(mlt_tls, now);
            last = now;
        }
    }
    smfi_stop();
    return NULL;
}

static int milter_run(const config *cfg, role_ctx *ctx)
{
    (void)ctx;
    struct smfiDesc desc;
    char conn[4096];
    pthread_t watch;

    mlt_cfg = cfg;
    role_fleet_share(cfg);
    membudget_init(&mlt_budget, (size_t)cfg->milter_memory_max);
    /* The largest report: its message (base64), the decoded part, the inflated text, the
     * parser's tokens and arena (see inreport.h). */
    size_t one = mlt_max_message() + 2 * (size_t)cfg->max_report_size + 32 * 1024 * 1024;
    if ((size_t)cfg->milter_memory_max < one)
        msg_warn("milter: milter_memory_max (%lld) is less than a report of max_report_size "
                 "may need (%zu): such reports will be deferred (4xx) every time",
                 (long long)cfg->milter_memory_max, one);
    mlt_store = report_store_open(cfg->spool_directory, (size_t)cfg->max_report_size);
    if (mlt_store == NULL)
        msg_fatal("milter: cannot use %s/%s: %m", cfg->spool_directory, REPORT_STORE_DIR);
    if (cfg->record_inbound_tls)
        mlt_tls = inbound_tls_open(cfg->spool_directory);
    memset(&desc, 0, sizeof(desc));
    desc.xxfi_name = "opentlsrpt";
    desc.xxfi_version = SMFI_VERSION;
    desc.xxfi_flags = SMFIF_NONE;
    desc.xxfi_connect = mlt_connect;
    desc.xxfi_helo = mlt_helo;
    desc.xxfi_envfrom = mlt_envfrom;
    desc.xxfi_envrcpt = mlt_envrcpt;
    desc.xxfi_data = mlt_data;
    desc.xxfi_header = mlt_header;
    desc.xxfi_eoh = mlt_eoh;
    desc.xxfi_body = mlt_body;
    desc.xxfi_eom = mlt_eom;
    desc.xxfi_abort = mlt_abort;
    desc.xxfi_close = mlt_close;
    desc.xxfi_negotiate = mlt_negotiate;
    snprintf(conn, sizeof(conn), "%s", cfg->milter_socket);
    if (strncmp(conn, "unix:", 5) == 0 || conn[0] == '/') {
        /* libmilter spells a unix socket local:/path (unix: is its old alias). */
        const char *path = milter_unix_path(cfg->milter_socket);
        snprintf(conn, sizeof(conn), "local:%s", path);
    }
    if (smfi_setconn(conn) != MI_SUCCESS || smfi_register(desc) != MI_SUCCESS)
        msg_fatal("milter: cannot set up libmilter for %s", cfg->milter_socket);
    /* milter_socket_mode is the mode libmilter's bind() gives the socket. */
    mode_t old = umask(~(mode_t)cfg->milter_socket_mode & 0777);
    int opened = smfi_opensocket(1);
    umask(old);
    if (opened != MI_SUCCESS)
        msg_fatal("milter: cannot listen on %s", cfg->milter_socket);
    msg_info("milter: listening on %s (action %s)", cfg->milter_socket, cfg->milter_action);
    if (pthread_create(&watch, NULL, milter_watch, NULL) != 0)
        msg_fatal("milter: cannot start the watch thread");
    int status = smfi_main();
    role_stop = 1;
    pthread_join(watch, NULL);
    if (mlt_tls)
        mlt_tls = inbound_tls_close(mlt_tls);
    mlt_store = report_store_close(mlt_store);
    const char *path = milter_unix_path(cfg->milter_socket);
    if (path)
        unlink(path);
    msg_info("milter: stopped");
    return status == MI_SUCCESS ? 0 : 1;
}

const role_ops role_milter = {
    .name = "milter",
    .enabled = milter_enabled,
    .prepare = milter_prepare,
    .run = milter_run,
};
