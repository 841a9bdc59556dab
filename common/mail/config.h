#ifndef OTR_CONFIG_H
#define OTR_CONFIG_H
/* The configuration file shared by both programs; settings are declared in settings.def. */
#include <stddef.h>
#include <stdio.h>

#define CFG_FIELD_STR  char *
#define CFG_FIELD_ENUM char *
#define CFG_FIELD_BOOL long long
#define CFG_FIELD_INT  long long
#define CFG_FIELD_MODE long long
#define CFG_FIELD_TIME long long
#define CFG_FIELD_SIZE long long

typedef struct config {
#define SETTING(name, kind, def, lo, hi, choices) CFG_FIELD_##kind name;
#include "settings.def"
#undef SETTING
    char *path;            /* the file read, or NULL for embedded defaults */
    unsigned char *is_set; /* per setting: given in the file or an override */
} config;

#define CONFIG_MAX_OVERRIDES 64

/* What a command line says about the settings and logging, the same in both programs:
 * -c FILE, -o name=value (in order, NULL-terminated) and how many -v were given. */
typedef struct config_args {
    const char *path;
    const char *overrides[CONFIG_MAX_OVERRIDES + 1];
    size_t noverrides;
    int verbose;
} config_args;

/* Default configuration file: $sysconfdir/opentlsrpt/opentlsrpt.conf. */
const char *config_default_path(void);
/* Sets args to the default file, no overrides, not verbose. */
void config_args_init(config_args *args);
/* Takes option ch with its argument when it is -c, -o or -v and returns 1; 0 for any
 * other option. More than CONFIG_MAX_OVERRIDES -o options are fatal. */
int config_args_option(config_args *args, int ch, const char *arg);
/* config_load of the file and overrides of args; the file is required when -c named it. */
config *config_args_load(const config_args *args);
/* Reads path over the embedded defaults, then applies overrides ("name=value", may be NULL).
 * A missing file is an error only when required. On error prints one message naming the
 * file and line via msg_error and returns NULL. The caller frees the result with config_free. */
config *config_load(const char *path, int required, const char *const *overrides);
/* Parses text (a whole file's content) as if read from name; for tests and the fuzzer. */
config *config_parse(const char *text, size_t len, const char *name);
config *config_free(config *cfg);
/* Prints "name = value" for every setting (only those set, with only_set). */
void config_print(const config *cfg, FILE *fp, int only_set);
/* Returns the setting's value as configuration text in out; -1 for an unknown name. */
int config_value_text(const config *cfg, const char *name, char *out, size_t size);
#endif
