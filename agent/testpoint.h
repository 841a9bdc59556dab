#ifndef OTR_TESTPOINT_H
#define OTR_TESTPOINT_H
/*
 * The agent's clock and its crash points. The installed agent links agent/testpoint.c:
 * the real clock, and crash points that do nothing. The test copy of the agent
 * (tests/tools/opentlsrpt-agent-test, never installed) links tests/tools/testpoint_env.c
 * instead, which lets the tests set the clock (OTR_TEST_NOW) and kill the agent at a named
 * point (OTR_TEST_KILL_AT).
 */
#include <time.h>

/* The current time. */
time_t testpoint_now(void);
/* A point where the kill tests may stop the agent (SIGKILL) to prove what a crash there
 * costs: "before-send", "after-accept", "after-state", "after-failure". */
void testpoint_kill(const char *point);
#endif
