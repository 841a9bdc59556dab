/* Received reports from a hostile sender: control characters never survive parsing (C0
 * and C1: U+009B is a terminal's CSI). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "inreport.h"
#include "t.h"

#define DATES                                                                                      \
    "\"date-range\":{\"start-datetime\":\"2026-11-21T00:00:00Z\",\"end-datetime\":"                \
    "\"2026-11-21T23:59:59Z\"}"

static int has_controls(const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; s && *p; p++)
        if (*p < 0x20 || *p == 0x7f || (p[0] == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f))
            return 1;
    return 0;
}

static void test_controls(void)
{
    const char *json =
        "{\"organization-name\":\"Evil\\u009b2J\\u001b[31m\",\"contact-info\":\"x@evil.example\","
        "\"report-id\":\"r\\u0085\\u007f1\"," DATES ",\"policies\":[{\"policy\":"
        "{\"policy-type\":\"sts\",\"policy-string\":[\"a\\u001eb\"],\"policy-domain\":"
        "\"example.com\"},\"failure-details\":[{\"result-type\":\"validation-failure\","
        "\"additional-information\":\"x\\u001fforged\\u009d0;t\\u0007\","
        "\"failure-reason-code\":\"\\u009b1m\"}]}]}";
    char err[200];
    inreport r;

    inreport_init(&r);
    CHECK_INT(inreport_parse_json(&r, json, strlen(json), err, sizeof(err)), 0);
    CHECK_STR(r.organization, "Evil 2J [31m");
    CHECK_STR(r.report_id, "r  1");
    CHECK_STR(r.policies[0].strings[0], "a b");
    CHECK_STR(r.policies[0].failures[0].additional_info, "x forged 0;t");
    CHECK_STR(r.policies[0].failures[0].reason_code, "1m");
    CHECK(!has_controls(r.organization) && !has_controls(r.report_id) &&
          !has_controls(r.policies[0].failures[0].additional_info));
    inreport_done(&r);
}

int main(void)
{
    test_controls();
    return t_done("inreport_hostile_test");
}
