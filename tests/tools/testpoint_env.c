/* The test copy of the agent: the clock and the crash points set from the environment
 * (see agent/testpoint.h). Never linked into an installed program. */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "testpoint.h"

time_t testpoint_now(void)
{
    /* OTR_TEST_NOW=EPOCH: the timing tests run a day's 24 hours in seconds. */
    const char *env = getenv("OTR_TEST_NOW");
    char *end;

    if (env && *env) {
        long long t = strtoll(env, &end, 10);
        if (*end == 0 && t > 0)
            return (time_t)t;
    }
    return time(NULL);
}

void testpoint_kill(const char *point)
{
    const char *env = getenv("OTR_TEST_KILL_AT");

    if (env && strcmp(env, point) == 0)
        kill(getpid(), SIGKILL);
}
