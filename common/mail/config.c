#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "fsutil.h"
#include "msg.h"
#include "mymalloc.h"
#include "vstring.h"

#define CONFIG_MAX_FILE (1024 * 1024)
#define CONFIG_MAX_LINE 4096

enum cfg_kind { K_STR, K_ENUM, K_BOOL, K_INT, K_MODE, K_TIME, K_SIZE };

typedef struct {
    const char *name;
    enum cfg_kind kind;
    const char *def;
    long long lo, hi;
    const char *choices;
    size_t offset;
} cfg_setting;

static const cfg_setting cfg_table[] = {
#define SETTING(name, kind, def, lo, hi, choices)                                                  \
    {#name, K_##kind, def, lo, hi, choices, offsetof(config, name)},
#include "settings.def"
#undef SETTING
};

#define CFG_COUNT (sizeof(cfg_table) / sizeof(cfg_table[0]))

const char *config_default_path(void)
{
    return OTR_CONFIG_FILE;
}

static const cfg_setting *cfg_find(const char *name, size_t len)
{
    for (size_t i = 0; i < CFG_COUNT; i++)
        if (strlen(cfg_table[i].name) == len && memcmp(cfg_table[i].name, name, len) == 0)
            return &cfg_table[i];
    return NULL;
}

static int cfg_choice_ok(const char *choices, const char *value)
{
    size_t vlen = strlen(value);

    for (const char *p = choices; *p;) {
        const char *bar = strchr(p, '|');
        size_t len = bar ? (size_t)(bar - p) : strlen(p);
        if (len == vlen && memcmp(p, value, len) == 0)
            return 1;
        p += len + (bar ? 1 : 0);
    }
    return 0;
}

/* Converts value per the setting's kind; returns NULL, or a reason it is invalid. */
static const char *cfg_convert(const cfg_setting *s, const char *value, long long *num)
{
    char *end;
    long long v, mult = 1;

    switch (s->kind) {
    case K_STR:
        return NULL;
    case K_ENUM:
        return cfg_choice_ok(s->choices, value) ? NULL : "not one of the allowed values";
    case K_BOOL:
        if (!strcmp(value, "yes") || !strcmp(value, "true") || !strcmp(value, "1")) {
            *num = 1;
            return NULL;
        }
        if (!strcmp(value, "no") || !strcmp(value, "false") || !strcmp(value, "0")) {
            *num = 0;
            return NULL;
        }
        return "expected yes or no";
    case K_MODE:
        errno = 0;
        v = strtoll(value, &end, 8);
        if (errno || end == value || *end)
            return "expected an octal mode such as 0660";
        break;
    default:
        errno = 0;
        v = strtoll(value, &end, 10);
        if (errno || end == value || value[0] == '-' || value[0] == '+')
            return "expected a non-negative number";
        if (s->kind == K_TIME && *end) {
            switch (*end++) {
            case 's':
                mult = 1;
                break;
            case 'm':
                mult = 60;
                break;
            case 'h':
                mult = 3600;
                break;
            case 'd':
                mult = 86400;
                break;
            default:
                return "expected a time such as 30s, 5m, 4h or 1d";
            }
        } else if (s->kind == K_SIZE && *end) {
            switch (*end++) {
            case 'k':
            case 'K':
                mult = 1024LL;
                break;
            case 'm':
            case 'M':
                mult = 1024LL * 1024;
                break;
            case 'g':
            case 'G':
                mult = 1024LL * 1024 * 1024;
                break;
            default:
                return "expected a size such as 512k, 10M or 1G";
            }
        }
        if (*end)
            return "trailing characters after the number";
        if (v > LLONG_MAX / mult)
            return "out of range";
        v *= mult;
        break;
    }
    if (v < s->lo || v > s->hi)
        return "out of range";
    *num = v;
    return NULL;
}

/* Sets one setting; on error writes the reason to why and returns -1. */
static int cfg_set(config *cfg, const cfg_setting *s, const char *value, const char **why)
{
    long long num = 0;

    if ((*why = cfg_convert(s, value, &num)) != NULL)
        return -1;
    char *field = (char *)cfg + s->offset;
    if (s->kind == K_STR || s->kind == K_ENUM) {
        char **sp = (char **)(void *)field;
        myfree(*sp);
        *sp = mystrdup(value);
    } else {
        *(long long *)(void *)field = num;
    }
    cfg->is_set[s - cfg_table] = 1;
    return 0;
}

static config *cfg_defaults(void)
{
    config *cfg = mycalloc(1, sizeof(*cfg));
    const char *why;

    cfg->is_set = mycalloc(CFG_COUNT, 1);
    for (size_t i = 0; i < CFG_COUNT; i++)
        if (cfg_set(cfg, &cfg_table[i], cfg_table[i].def, &why) < 0)
            msg_panic("default of %s is invalid: %s", cfg_table[i].name, why);
    memset(cfg->is_set, 0, CFG_COUNT);
    return cfg;
}

static int cfg_isspace(int c)
{
    return c == ' ' || c == '\t' || c == '\r';
}

/* Applies text to cfg; returns 0, or -1 after reporting the first error. */
static int cfg_apply_text(config *cfg, const char *text, size_t len, const char *name)
{
    size_t lineno = 0, pos = 0;
    char value[CONFIG_MAX_LINE + 1];
    const char *why;

    while (pos < len) {
        const char *line = text + pos;
        const char *nl = memchr(line, '\n', len - pos);
        size_t llen = nl ? (size_t)(nl - line) : len - pos;
        pos += llen + (nl ? 1 : 0);
        lineno++;
        if (llen > CONFIG_MAX_LINE) {
            msg_error("%s, line %zu: line longer than %d bytes", name, lineno, CONFIG_MAX_LINE);
            return -1;
        }
        if (memchr(line, 0, llen)) {
            msg_error("%s, line %zu: NUL byte in line", name, lineno);
            return -1;
        }
        size_t b = 0, e = llen;
        while (b < e && cfg_isspace(line[b]))
            b++;
        while (e > b && cfg_isspace(line[e - 1]))
            e--;
        if (b == e || line[b] == '#')
            continue;
        const char *eq = memchr(line + b, '=', e - b);
        if (eq == NULL) {
            msg_error("%s, line %zu: expected \"name = value\"", name, lineno);
            return -1;
        }
        size_t ne = (size_t)(eq - line);
        while (ne > b && cfg_isspace(line[ne - 1]))
            ne--;
        const cfg_setting *s = cfg_find(line + b, ne - b);
        if (s == NULL) {
            msg_error("%s, line %zu: unknown setting \"%.*s\"", name, lineno,
                      (int)(ne - b > 64 ? 64 : ne - b), line + b);
            return -1;
        }
        size_t vb = (size_t)(eq - line) + 1;
        while (vb < e && cfg_isspace(line[vb]))
            vb++;
        memcpy(value, line + vb, e - vb);
        value[e - vb] = 0;
        if (cfg_set(cfg, s, value, &why) < 0) {
            msg_error("%s, line %zu: bad value \"%.64s\" for %s: %s", name, lineno, value, s->name,
                      why);
            return -1;
        }
    }
    return 0;
}

config *config_parse(const char *text, size_t len, const char *name)
{
    config *cfg = cfg_defaults();

    if (cfg_apply_text(cfg, text, len, name) < 0)
        return config_free(cfg);
    return cfg;
}

config *config_load(const char *path, int required, const char *const *overrides)
{
    config *cfg = cfg_defaults();
    vstring *text = vstring_alloc(0);

    if (fsutil_read_file(path, text, CONFIG_MAX_FILE) < 0) {
        if (errno != ENOENT || required) {
            msg_error("cannot read configuration file %s: %m", path);
            vstring_free(text);
            return config_free(cfg);
        }
    } else {
        cfg->path = mystrdup(path);
        if (cfg_apply_text(cfg, text->data, text->len, path) < 0) {
            vstring_free(text);
            return config_free(cfg);
        }
    }
    vstring_free(text);
    for (size_t i = 0; overrides && overrides[i]; i++)
        if (cfg_apply_text(cfg, overrides[i], strlen(overrides[i]), "command line") < 0)
            return config_free(cfg);
    return cfg;
}

void config_args_init(config_args *args)
{
    memset(args, 0, sizeof(*args));
    args->path = config_default_path();
}

int config_args_option(config_args *args, int ch, const char *arg)
{
    switch (ch) {
    case 'c':
        args->path = arg;
        return 1;
    case 'o':
        if (args->noverrides == CONFIG_MAX_OVERRIDES)
            msg_fatal("too many -o options");
        args->overrides[args->noverrides++] = arg;
        args->overrides[args->noverrides] = NULL;
        return 1;
    case 'v':
        args->verbose++;
        return 1;
    default:
        return 0;
    }
}

config *config_args_load(const config_args *args)
{
    return config_load(args->path, args->path != config_default_path(), args->overrides);
}

config *config_free(config *cfg)
{
    if (cfg == NULL)
        return NULL;
    for (size_t i = 0; i < CFG_COUNT; i++)
        if (cfg_table[i].kind == K_STR || cfg_table[i].kind == K_ENUM)
            myfree(*(char **)(void *)((char *)cfg + cfg_table[i].offset));
    myfree(cfg->is_set);
    myfree(cfg->path);
    myfree(cfg);
    return NULL;
}

static void cfg_format(const config *cfg, const cfg_setting *s, char *out, size_t size)
{
    const char *field = (const char *)cfg + s->offset;
    long long v = *(const long long *)(const void *)field;

    switch (s->kind) {
    case K_STR:
    case K_ENUM:
        snprintf(out, size, "%s", *(char *const *)(const void *)field);
        break;
    case K_BOOL:
        snprintf(out, size, "%s", v ? "yes" : "no");
        break;
    case K_MODE:
        snprintf(out, size, "%04llo", v);
        break;
    case K_TIME:
        snprintf(out, size, "%llds", v);
        break;
    default:
        snprintf(out, size, "%lld", v);
        break;
    }
}

int config_value_text(const config *cfg, const char *name, char *out, size_t size)
{
    const cfg_setting *s = cfg_find(name, strlen(name));

    if (s == NULL)
        return -1;
    cfg_format(cfg, s, out, size);
    return 0;
}

void config_print(const config *cfg, FILE *fp, int only_set)
{
    char value[CONFIG_MAX_LINE + 1];

    for (size_t i = 0; i < CFG_COUNT; i++) {
        if (only_set && !cfg->is_set[i])
            continue;
        cfg_format(cfg, &cfg_table[i], value, sizeof(value));
        fprintf(fp, "%s = %s\n", cfg_table[i].name, value);
    }
}
