/* Fuzz target: the configuration parser. */
#include <stdint.h>

#include "config.h"
#include "msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int quiet;

    if (!quiet) {
        msg_destinations(0); /* errors are expected; printing them only slows fuzzing */
        quiet = 1;
    }
    config_free(config_parse((const char *)data, size, "fuzz"));
    return 0;
}
