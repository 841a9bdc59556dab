/* Configuration: defaults, every kind of value, and errors naming file and line. */
#include <stdlib.h>

#include "config.h"
#include "t.h"

static config *parse(const char *text)
{
    return config_parse(text, strlen(text), "test.conf");
}

static void test_defaults(void)
{
    config *c = parse("");
    CHECK(c != NULL);
    CHECK_STR(c->spool_directory, "/var/spool/opentlsrpt");
    CHECK_INT(c->retention_days, 14);
    /* Sockets admit Postfix and no one else. */
    CHECK_INT(c->tlsrpt_socket_mode, 0660);
    CHECK_STR(c->tlsrpt_socket_group, "postfix");
    CHECK_INT(c->policy_socket_mode, 0660);
    CHECK_STR(c->policy_socket_group, "postfix");
    CHECK_INT(c->milter_socket_mode, 0660);
    CHECK_STR(c->milter_socket_group, "postfix");
    CHECK_INT(c->journal_max_size, 1024LL * 1024 * 1024);
    CHECK_INT(c->send_window, 4 * 3600);
    CHECK_INT(c->max_report_size, 10 * 1024 * 1024);
    CHECK_INT(c->https_verify, 1);
    CHECK_STR(c->smtp_relay, "localhost:25");
    config_free(c);
}

static void test_values(void)
{
    config *c = parse("# comment\n\n  spool_directory = /tmp/x y  \r\n"
                      "retention_days=30\nhttps_verify = no\ntlsrpt_socket_mode = 0660\n"
                      "send_window = 90m\ntlsrpt_queue_size = 2M\nlog_format = sendmail\n"
                      "organization_name = Example #1 Mail\ncontact_info =\n");
    CHECK(c != NULL);
    if (c == NULL)
        return;
    CHECK_STR(c->spool_directory, "/tmp/x y");
    CHECK_INT(c->retention_days, 30);
    CHECK_INT(c->https_verify, 0);
    CHECK_INT(c->tlsrpt_socket_mode, 0660);
    CHECK_INT(c->send_window, 5400);
    CHECK_INT(c->tlsrpt_queue_size, 2 * 1024 * 1024);
    CHECK_STR(c->log_format, "sendmail");
    CHECK_STR(c->organization_name, "Example #1 Mail");
    CHECK_STR(c->contact_info, "");
    char buf[64];
    CHECK_INT(config_value_text(c, "send_window", buf, sizeof(buf)), 0);
    CHECK_STR(buf, "5400s");
    CHECK_INT(config_value_text(c, "tlsrpt_socket_mode", buf, sizeof(buf)), 0);
    CHECK_STR(buf, "0660");
    CHECK_INT(config_value_text(c, "no_such_thing", buf, sizeof(buf)), -1);
    config_free(c);
}

static void test_errors(void)
{
    static const char *const bad[] = {
        "no_such_setting = 1\n",    "retention_days = 0\n",
        "retention_days = 3661\n",  "retention_days = -1\n",
        "retention_days = 12abc\n", "retention_days = 99999999999999999999999\n",
        "https_verify = maybe\n",   "tlsrpt_socket_mode = 0999\n",
        "send_window = 5x\n",       "send_window = 21h\n",
        "tlsrpt_queue_size = 10\n", "log_format = exim\n",
        "just some words\n",        "= value\n",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        config *c = parse(bad[i]);
        if (c != NULL)
            fprintf(stderr, "accepted: %s", bad[i]);
        CHECK(c == NULL);
        config_free(c);
    }
    char big[5000];
    memset(big, 'a', sizeof(big) - 1);
    big[sizeof(big) - 1] = 0;
    CHECK(config_parse(big, strlen(big), "big") == NULL);
    CHECK(config_parse("retention_days = 1\0x", 21, "nul") == NULL);
}

static void test_overrides(void)
{
    const char *const ov[] = {"retention_days=7", "user = nobody", NULL};
    config *c = config_load("/nonexistent/opentlsrpt.conf", 0, ov);
    CHECK(c != NULL);
    if (c) {
        CHECK_INT(c->retention_days, 7);
        CHECK_STR(c->user, "nobody");
        CHECK(c->path == NULL);
    }
    config_free(c);
    CHECK(config_load("/nonexistent/opentlsrpt.conf", 1, NULL) == NULL);
    const char *const bad[] = {"retention_days=x", NULL};
    CHECK(config_load("/nonexistent/opentlsrpt.conf", 0, bad) == NULL);
}

int main(void)
{
    test_defaults();
    test_values();
    test_errors();
    test_overrides();
    return t_done("config_test");
}
