#ifndef OTR_SUPERVISOR_H
#define OTR_SUPERVISOR_H
/* The daemon's parent process: one child per enabled role, restarted when it dies. */
#include "config.h"

/* Runs the roles cfg enables until SIGTERM/SIGINT; SIGHUP reloads from the same file with
 * the same overrides. Takes ownership of cfg. Returns the exit status. */
int supervisor_run(config *cfg, const config_args *args);
#endif
