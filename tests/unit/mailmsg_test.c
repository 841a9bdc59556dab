/* The report message: address checks, mailto: parsing, and the message's structure. */
#include <stdlib.h>

#include "dkim.h"
#include "fsutil.h"
#include "mailmsg.h"
#include "msg.h"
#include "t.h"

static void test_addr(void)
{
    static const struct {
        const char *addr;
        int ok;
    } cases[] = {
        {"tlsrpt@example.com", 1},
        {"tls-rpt+x_y@mail.Example.NET", 1},
        {"a.b.c@xn--bcher-kva.example", 1},
        {"a..b@example.com", 0},
        {".a@example.com", 0},
        {"a.@example.com", 0},
        {"\"quoted\"@example.com", 1},
        {"\"two words\"@example.com", 0},
        {"a b@example.com", 0},
        {"a@example.com\r\nBcc: x@y.example", 0},
        {"a@[127.0.0.1]", 0},
        {"a@example.com\n", 0},
        {"a@bücher.example", 0},
        {"a@-bad.example", 0},
        {"@example.com", 0},
        {"a@", 0},
        {"noat", 0},
        {"a,b@example.com", 0},
        {"a<b>@example.com", 0},
        {"12345678901234567890123456789012345678901234567890123456789012345@example.com", 0},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int got = mailmsg_addr_valid(cases[i].addr);
        if (got != cases[i].ok)
            fprintf(stderr, "addr %zu: %s\n", i, cases[i].addr);
        CHECK_INT(got, cases[i].ok);
    }
}

static void test_mailto(void)
{
    static const struct {
        const char *uri, *want; /* want NULL: refused */
    } cases[] = {
        {"mailto:tlsrpt@example.com", "tlsrpt@example.com"},
        {"MAILTO:tlsrpt@example.com", "tlsrpt@example.com"},
        {"mailto:tls%2Brpt@example.com", "tls+rpt@example.com"},
        {"mailto:tlsrpt@example.com?subject=x", "tlsrpt@example.com"},
        {"mailto:a@example.com,b@example.com", NULL},
        {"mailto:a%0D%0ABcc:%20x@example.com", NULL},
        {"mailto:a%00@example.com", NULL},
        {"mailto:a%2@example.com", NULL},
        {"mailto:", NULL},
        {"https://example.com/", NULL},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char out[MAILMSG_ADDR_MAX + 1];
        int rc = mailmsg_mailto_addr(cases[i].uri, out, sizeof(out));
        CHECK_INT(rc, cases[i].want ? 0 : -1);
        if (rc == 0 && cases[i].want)
            CHECK_STR(out, cases[i].want);
    }
}

/* The value of header name in msg (unfolded), or "" when absent. */
static const char *header(const char *msg, const char *name, char *out, size_t size)
{
    size_t nl = strlen(name), n = 0;
    const char *end = strstr(msg, "\r\n\r\n");

    out[0] = 0;
    for (const char *p = msg; p && p < end; p = strstr(p, "\r\n") ? strstr(p, "\r\n") + 2 : NULL) {
        if (strncmp(p, name, nl) != 0 || p[nl] != ':')
            continue;
        for (p += nl + 1; *p == ' '; p++)
            ;
        while (p < end && n + 1 < size) {
            if (p[0] == '\r' && p[1] == '\n' && (p[2] == ' ' || p[2] == '\t')) {
                p += 2;
                continue;
            }
            if (p[0] == '\r')
                break;
            out[n++] = *p++;
        }
        out[n] = 0;
        break;
    }
    return out;
}

static void test_build(void)
{
    char conftext[1024], why[256], h[1024];
    static const char json[] = "{\"report-id\":\"x\"}";
    mailmsg_report r = {"2026-11-21",
                        "rcpt.example",
                        "20261121.rcpt.example.otr-1@sender.example",
                        "sender.example",
                        json,
                        sizeof(json) - 1,
                        7,
                        3};

    snprintf(
        conftext, sizeof(conftext),
        "dkim_domain = sender.example\ndkim_selector = s1\ndkim_key_file = %s/dkim/ed25519.pem\n",
        TEST_DATA);
    config *cfg = config_parse(conftext, strlen(conftext), "test");
    CHECK_INT(mailmsg_init(cfg, 1), 0);
    CHECK(mailmsg_signing());
    vstring *m = vstring_alloc(0);
    CHECK_INT(mailmsg_build(cfg, &r, "tlsrpt@rcpt.example", 1795392000, m, why, sizeof(why)), 0);
    CHECK(strncmp(m->data, "DKIM-Signature: v=1; a=ed25519-sha256;", 38) == 0);
    CHECK_STR(header(m->data, "From", h, sizeof(h)), "tlsrpt-noreply@sender.example");
    CHECK_STR(header(m->data, "To", h, sizeof(h)), "tlsrpt@rcpt.example");
    CHECK_STR(header(m->data, "Subject", h, sizeof(h)),
              "Report Domain: rcpt.example Submitter: sender.example Report-ID: "
              "<20261121.rcpt.example.otr-1@sender.example>");
    CHECK_STR(header(m->data, "Date", h, sizeof(h)), "Mon, 23 Nov 2026 00:00:00 +0000");
    CHECK_STR(header(m->data, "Message-ID", h, sizeof(h)),
              "<20261121.rcpt.example.otr-1@sender.example>");
    CHECK_STR(header(m->data, "TLS-Report-Domain", h, sizeof(h)), "rcpt.example");
    CHECK_STR(header(m->data, "TLS-Report-Submitter", h, sizeof(h)), "sender.example");
    CHECK_STR(header(m->data, "TLS-Required", h, sizeof(h)), "No");
    CHECK_STR(header(m->data, "MIME-Version", h, sizeof(h)), "1.0");
    CHECK(strncmp(header(m->data, "Content-Type", h, sizeof(h)),
                  "multipart/report; report-type=\"tlsrpt\";\tboundary=", 48) == 0);
    CHECK(strstr(m->data, "Content-Type: application/tlsrpt+gzip;") != NULL);
    CHECK(strstr(m->data, "filename=\"sender.example!rcpt.example!1795219200!1795305599!") != NULL);
    CHECK(strstr(m->data, "Successful TLS sessions: 7\r\n") != NULL);
    CHECK(strstr(m->data, "Failed TLS sessions:     3\r\n") != NULL);
    /* CRLF everywhere, lines short. */
    size_t col = 0;
    for (size_t i = 0; i < m->len; i++) {
        if (m->data[i] == '\n')
            CHECK(i > 0 && m->data[i - 1] == '\r');
        col = m->data[i] == '\n' ? 0 : col + 1;
        CHECK(col <= 998);
    }
    /* It verifies with our own verifier and the published record. */
    char path[1024];
    snprintf(path, sizeof(path), "%s/dkim/ed25519.pem", TEST_DATA);
    dkim_key *k = dkim_key_load(path, why, sizeof(why));
    vstring *rec = vstring_alloc(0);
    dkim_key_record(k, rec);
    CHECK_INT(dkim_verify(m->data, m->len, 0, rec->data, rec->len, why, sizeof(why)), DKIM_PASS);
    dkim_key_free(k);
    vstring_free(rec);
    /* The same report built again is the same message apart from Date and signature. */
    vstring *m2 = vstring_alloc(0);
    CHECK_INT(mailmsg_build(cfg, &r, "tlsrpt@rcpt.example", 1795392000, m2, why, sizeof(why)), 0);
    CHECK(strcmp(strstr(m->data, "\r\nFrom:"), strstr(m2->data, "\r\nFrom:")) == 0);
    /* Names that must not reach a header. */
    mailmsg_report bad = r;
    bad.domain = "rcpt.example\r\nBcc: x@y.example";
    CHECK_INT(mailmsg_build(cfg, &bad, "tlsrpt@rcpt.example", 0, m, why, sizeof(why)), -1);
    bad = r;
    bad.report_id = "a b@c";
    CHECK_INT(mailmsg_build(cfg, &bad, "tlsrpt@rcpt.example", 0, m, why, sizeof(why)), -1);
    CHECK_INT(mailmsg_build(cfg, &r, "x@y.example>\r\nBcc: z@w.example", 0, m, why, sizeof(why)),
              -1);
    /* Undisclosed recipients (the https: copy in file mode). */
    CHECK_INT(mailmsg_build(cfg, &r, NULL, 0, m, why, sizeof(why)), 0);
    CHECK_STR(header(m->data, "To", h, sizeof(h)), "undisclosed-recipients:;");
    vstring_free(m);
    vstring_free(m2);
    mailmsg_done();
    config_free(cfg);

    /* A bad key or half a DKIM configuration stops the start. */
    static const char *const bad_conf[] = {
        "dkim_domain = a.example\ndkim_selector = s\ndkim_key_file = /nonexistent\n",
        "dkim_domain = a.example\n",
        "report_from = not an address\n",
    };
    for (size_t i = 0; i < 3; i++) {
        config *c = config_parse(bad_conf[i], strlen(bad_conf[i]), "test");
        CHECK_INT(mailmsg_init(c, 1), -1);
        mailmsg_done();
        config_free(c);
    }
    snprintf(conftext, sizeof(conftext),
             "dkim_domain = a.example\ndkim_selector = s\ndkim_key_file = %s/dkim/rsa1024.pem\n",
             TEST_DATA);
    config *c = config_parse(conftext, strlen(conftext), "test");
    CHECK_INT(mailmsg_init(c, 1), -1);
    mailmsg_done();
    config_free(c);
}

int main(void)
{
    msg_open("mailmsg_test", MSG_TO_STDERR);
    test_addr();
    test_mailto();
    test_build();
    return t_done("mailmsg_test");
}
