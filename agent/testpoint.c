/* The installed agent: the real clock, and no crash points (see testpoint.h). */
#include "testpoint.h"

time_t testpoint_now(void)
{
    return time(NULL);
}

void testpoint_kill(const char *point)
{
    (void)point;
}
