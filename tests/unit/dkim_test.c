/* DKIM: canonicalization examples of RFC 6376 3.4.5, the signed example of RFC 8463 A.3,
 * sign/verify round trips with the committed test keys, and what must be refused. */
#include <stdlib.h>
#include <time.h>

#include "dkim.h"
#include "fsutil.h"
#include "t.h"

static vstring *slurp(const char *name)
{
    char path[1024];
    vstring *v = vstring_alloc(0);

    snprintf(path, sizeof(path), "%s/dkim/%s", TEST_DATA, name);
    if (fsutil_read_file(path, v, 1 << 20) < 0) {
        perror(path);
        exit(1);
    }
    return v;
}

static void test_canon(void)
{
    /* RFC 6376 3.4.5: "A: X\r\nB : Y\t\r\n\tZ  \r\n\r\n C \r\nD \t E\r\n\r\n\r\n" */
    static const struct {
        const char *field, *want;
    } hdr[] = {
        {"A: X", "a:X"},
        {"B : Y\t\r\n\tZ  ", "b:Y Z"},
        {"Subject:   two  words ", "subject:two words"},
        {"X-Empty:", "x-empty:"},
        {"DKIM-Signature: v=1;\r\n\tb=", "dkim-signature:v=1; b="},
    };
    for (size_t i = 0; i < sizeof(hdr) / sizeof(hdr[0]); i++) {
        vstring *v = vstring_alloc(0);
        dkim_canon_header_relaxed(hdr[i].field, strlen(hdr[i].field), v);
        CHECK_STR(v->data, hdr[i].want);
        vstring_free(v);
    }
    static const struct {
        const char *body, *relaxed, *simple;
    } body[] = {
        {" C \r\nD \t E\r\n\r\n\r\n", " C\r\nD E\r\n", " C \r\nD \t E\r\n"},
        {"", "", "\r\n"},
        {"\r\n\r\n", "", "\r\n"},
        {"no newline", "no newline\r\n", "no newline\r\n"},
        {"a\r\n\r\nb\r\n \t \r\n", "a\r\n\r\nb\r\n", "a\r\n\r\nb\r\n \t \r\n"},
    };
    for (size_t i = 0; i < sizeof(body) / sizeof(body[0]); i++) {
        vstring *v = vstring_alloc(0);
        dkim_canon_body_relaxed(body[i].body, strlen(body[i].body), v);
        CHECK_STR(v->data, body[i].relaxed);
        vstring_reset(v);
        dkim_canon_body_simple(body[i].body, strlen(body[i].body), v);
        CHECK_STR(v->data, body[i].simple);
        vstring_free(v);
    }
    /* The body hash of an empty relaxed body is the SHA-256 of nothing. */
    unsigned char h[32];
    dkim_body_hash_relaxed("", 0, h);
    CHECK(h[0] == 0xe3 && h[1] == 0xb0 && h[31] == 0x55);
}

static void test_rfc8463(void)
{
    vstring *m = slurp("rfc8463.eml"), *ed = slurp("rfc8463-brisbane.txt"),
            *rsa = slurp("rfc8463-test.txt");
    char why[256], d[300], s[64];

    CHECK_INT(dkim_signature_info(m->data, m->len, 0, d, sizeof(d), s, sizeof(s), why, sizeof(why)),
              DKIM_PASS);
    CHECK_STR(d, "football.example.com");
    CHECK_STR(s, "brisbane");
    CHECK_INT(dkim_verify(m->data, m->len, 0, ed->data, ed->len, why, sizeof(why)), DKIM_PASS);
    CHECK_INT(dkim_verify(m->data, m->len, 1, rsa->data, rsa->len, why, sizeof(why)), DKIM_PASS);
    CHECK_INT(dkim_verify(m->data, m->len, 2, rsa->data, rsa->len, why, sizeof(why)), DKIM_NONE);
    /* The wrong key type for the algorithm. */
    CHECK_INT(dkim_verify(m->data, m->len, 0, rsa->data, rsa->len, why, sizeof(why)),
              DKIM_PERMERROR);
    /* One altered body byte. */
    char *we = strstr(m->data, "We lost");
    we[0] = 'w';
    CHECK_INT(dkim_verify(m->data, m->len, 0, ed->data, ed->len, why, sizeof(why)), DKIM_FAIL);
    CHECK_STR(why, "body hash mismatch");
    vstring_free(m);
    vstring_free(ed);
    vstring_free(rsa);
}

static const char report_msg[] =
    "From: tlsrpt-noreply@sender.example\r\n"
    "To: tlsrpt@rcpt.example\r\n"
    "Subject: Report Domain: rcpt.example Submitter: sender.example\r\n"
    " Report-ID: <20261121.rcpt.example@sender.example>\r\n"
    "Date: Sun, 22 Nov 2026 00:00:00 +0000\r\n"
    "Message-ID: <20261121.rcpt.example@sender.example>\r\n"
    "MIME-Version: 1.0\r\n"
    "Content-Type: text/plain\r\n"
    "TLS-Report-Domain: rcpt.example\r\n"
    "TLS-Report-Submitter: sender.example\r\n"
    "\r\n"
    "body  with   spaces \r\n\r\n\r\n";

static void test_roundtrip(const char *keyfile, const char *alg)
{
    char path[1024], why[256];
    vstring *sig = vstring_alloc(0), *rec = vstring_alloc(0), *all = vstring_alloc(0);

    snprintf(path, sizeof(path), "%s/dkim/%s", TEST_DATA, keyfile);
    dkim_key *k = dkim_key_load(path, why, sizeof(why));
    CHECK(k != NULL);
    if (k == NULL) {
        fprintf(stderr, "%s\n", why);
        return;
    }
    CHECK_STR(dkim_key_algorithm(k), alg);
    dkim_key_record(k, rec);
    CHECK(strstr(rec->data, "s=tlsrpt; p=") != NULL);
    CHECK_INT(dkim_sign(k, "Sender.Example.", "sel-1", report_msg, sizeof(report_msg) - 1,
                        1795000000, sig, why, sizeof(why)),
              0);
    CHECK(strncmp(sig->data, "DKIM-Signature: v=1; a=", 23) == 0);
    CHECK(strstr(sig->data, "c=relaxed/relaxed; d=sender.example; s=sel-1;") != NULL);
    CHECK(strstr(sig->data, "h=From:To:Subject:Date:Message-ID:MIME-Version:Content-Type:"
                            "TLS-Report-Domain:TLS-Report-Submitter;") != NULL);
    CHECK(strstr(sig->data, " l=") == NULL);
    for (char *p = sig->data; (p = strstr(p, "\r\n")) != NULL; p += 2)
        CHECK(p[2] == 0 || p[2] == '\t'); /* folded, one field */
    vstring_append(all, sig->data, sig->len);
    vstring_append(all, report_msg, sizeof(report_msg) - 1);
    CHECK_INT(dkim_verify(all->data, all->len, 0, rec->data, rec->len, why, sizeof(why)),
              DKIM_PASS);
    /* Relaxed canonicalization survives refolding and trailing blank lines... */
    vstring *re = vstring_alloc(0);
    vstring_append(re, sig->data, sig->len);
    vstring_append_str(re, "From:   tlsrpt-noreply@sender.example\r\n");
    vstring_append_str(re, strstr(report_msg, "To:"));
    vstring_append_str(re, "\r\n");
    CHECK_INT(dkim_verify(re->data, re->len, 0, rec->data, rec->len, why, sizeof(why)), DKIM_PASS);
    /* ... and bare LF line ends (a message read from a Unix file). */
    vstring_reset(re);
    for (size_t i = 0; i < all->len; i++)
        if (all->data[i] != '\r')
            vstring_append_char(re, all->data[i]);
    CHECK_INT(dkim_verify(re->data, re->len, 0, rec->data, rec->len, why, sizeof(why)), DKIM_PASS);
    /* A changed signed header fails; an added second TLS-Report-Domain above does not
     * change what was signed (bottom-up selection) but a changed one does. */
    vstring_reset(re);
    vstring_append(re, all->data, all->len);
    char *p = strstr(re->data, "TLS-Report-Domain: rcpt.example");
    memcpy(p + 19, "rcpt.exampl3", 12);
    CHECK_INT(dkim_verify(re->data, re->len, 0, rec->data, rec->len, why, sizeof(why)), DKIM_FAIL);
    /* i= must lie within d= (checked before any cryptography: permerror, not fail). */
    static const struct {
        const char *i;
        dkim_result want;
    } ids[] = {
        {"i=@sender.example;", DKIM_FAIL},     {"i=tlsrpt@mail.Sender.example;", DKIM_FAIL},
        {"i=@evil.example;", DKIM_PERMERROR},  {"i=@notsender.example;", DKIM_PERMERROR},
        {"i=sender.example;", DKIM_PERMERROR},
    };
    for (size_t n = 0; n < sizeof(ids) / sizeof(ids[0]); n++) {
        vstring_reset(re);
        vstring_append(re, all->data, all->len);
        char *v1 = strstr(re->data, " v=1;");
        vstring *ins = vstring_alloc(0);
        vstring_append(ins, re->data, (size_t)(v1 - re->data) + 5);
        vstring_append_char(ins, ' ');
        vstring_append_str(ins, ids[n].i);
        vstring_append_str(ins, v1 + 5);
        CHECK_INT(dkim_verify(ins->data, ins->len, 0, rec->data, rec->len, why, sizeof(why)),
                  ids[n].want);
        vstring_free(ins);
    }
    /* A revoked key, and a key record that excludes this use. */
    CHECK_INT(dkim_verify(all->data, all->len, 0, "v=DKIM1; p=", 11, why, sizeof(why)),
              DKIM_PERMERROR);
    vstring *svc = vstring_alloc(0);
    vstring_append_str(svc, rec->data);
    char *s = strstr(svc->data, "s=tlsrpt");
    memcpy(s, "s=xmpp  ", 8);
    CHECK_INT(dkim_verify(all->data, all->len, 0, svc->data, svc->len, why, sizeof(why)),
              DKIM_PERMERROR);
    vstring_free(svc);
    vstring_free(re);
    dkim_key_free(k);
    vstring_free(sig);
    vstring_free(rec);
    vstring_free(all);
}

static void test_refusals(void)
{
    char path[1024], why[256];
    static const char *const bad[] = {"rsa1024.pem", "p256.pem", "no-such-key.pem"};

    for (size_t i = 0; i < 3; i++) {
        snprintf(path, sizeof(path), "%s/dkim/%s", TEST_DATA, bad[i]);
        why[0] = 0;
        CHECK(dkim_key_load(path, why, sizeof(why)) == NULL);
        CHECK(why[0] != 0);
    }
    CHECK(dkim_key_parse("garbage", 7, why, sizeof(why)) == NULL);

    snprintf(path, sizeof(path), "%s/dkim/ed25519.pem", TEST_DATA);
    dkim_key *k = dkim_key_load(path, why, sizeof(why));
    vstring *v = vstring_alloc(0);
    CHECK_INT(
        dkim_sign(k, "not a domain", "s", "From: a@b.example\r\n\r\n", 21, 0, v, why, sizeof(why)),
        -1);
    CHECK_INT(dkim_sign(k, "ok.example", "bad/selector", "From: a@b.example\r\n\r\n", 21, 0, v, why,
                        sizeof(why)),
              -1);
    /* l= is refused when verifying, whatever the rest says. */
    static const char lmsg[] = "DKIM-Signature: v=1; a=ed25519-sha256; d=a.example; s=s; "
                               "h=from; l=0; bh=AAAA; b=AAAA\r\nFrom: x@a.example\r\n\r\n";
    CHECK_INT(dkim_verify(lmsg, sizeof(lmsg) - 1, 0, "p=AAAA", 6, why, sizeof(why)),
              DKIM_PERMERROR);
    CHECK_INT(dkim_verify("From: a\r\n\r\n", 11, 0, "p=AAAA", 6, why, sizeof(why)), DKIM_NONE);
    vstring_free(v);
    dkim_key_free(k);
}

int main(void)
{
    test_canon();
    test_rfc8463();
    test_roundtrip("rsa2048.pem", "rsa-sha256");
    test_roundtrip("ed25519.pem", "ed25519-sha256");
    test_refusals();
    return t_done("dkim_test");
}
