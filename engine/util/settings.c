/*
 * settings - tables of settings read and checked once (see settings.h).
 */
#include <stdio.h>
#include <string.h>

#include "engine/util/conf.h"
#include "engine/util/settings.h"
#include "engine/util/str.h"

/* settings_source - see settings.h. */
const char *settings_source(const struct setting *s)
{
    const char *from;
    return conf_get_from(s->section, s->key, &from) ? from : "default";
}

/* set S's field in BASE to V (NULL: its default); -1 with ERR when V is not allowed (FROM says where it came from) */
static int set_one(const struct setting *s, char *base, const char *v, const char *from, char *err, size_t errlen)
{
    long n = s->def;
    if (s->type == SETTING_TEXT) {
        *(const char **)(base + s->offset) = v ? v : s->text;
        return 0;
    }
    if (v && str_parse_long(v, s->min, s->max, &n) < 0) {
        snprintf(err, errlen, "configuration: [%s] %s = \"%.64s\" (%s): not a number from %ld to %ld", s->section,
                 s->key, v, from, s->min, s->max);
        return -1;
    }
    if (s->type == SETTING_LONG)
        *(long *)(base + s->offset) = n;
    else if (s->type == SETTING_UNSIGNED)
        *(unsigned *)(base + s->offset) = (unsigned)n;
    else
        *(size_t *)(base + s->offset) = (size_t)n;
    return 0;
}

/* settings_load - see settings.h. */
int settings_load(const struct setting *table, void *dest, char *err, size_t errlen)
{
    for (const struct setting *s = table; s->key; s++) {
        const char *from, *v = conf_get_from(s->section, s->key, &from);
        if (set_one(s, dest, v, from, err, errlen) < 0)
            return -1;
    }
    return 0;
}

/* settings_set - see settings.h. */
int settings_set(const struct setting *table, const char *key, const char *value, void *dest, char *err,
                 size_t errlen)
{
    long n;
    for (const struct setting *s = table; s->key; s++) {
        if (strcmp(s->key, key) != 0)
            continue;
        if (s->type != SETTING_TEXT && str_parse_long(value, s->min, s->max, &n) < 0) {
            snprintf(err, errlen, "must be from %ld to %ld", s->min, s->max);
            return -1;
        }
        return set_one(s, dest, value, "option", err, errlen);
    }
    snprintf(err, errlen, "no setting %s", key);
    return -1;
}

/* settings_defaults - see settings.h. */
void settings_defaults(const struct setting *table, void *dest)
{
    for (const struct setting *s = table; s->key; s++)
        set_one(s, dest, NULL, NULL, NULL, 0);
}

/* settings_show - see settings.h. */
void settings_show(const struct setting *table, const void *values, struct buf *out)
{
    const char *base = values;
    for (const struct setting *s = table; s->key; s++) {
        buf_appendf(out, "[%s] %s = ", s->section, s->key);
        if (s->type == SETTING_TEXT) {
            const char *v = *(const char *const *)(base + s->offset);
            buf_appends(out, !v ? "(none)" : s->secret ? "********" : v);
        } else if (s->type == SETTING_LONG) {
            buf_appendf(out, "%ld", *(const long *)(base + s->offset));
        } else if (s->type == SETTING_UNSIGNED) {
            buf_appendf(out, "%u", *(const unsigned *)(base + s->offset));
        } else {
            buf_appendf(out, "%zu", *(const size_t *)(base + s->offset));
        }
        buf_appendf(out, "  (%s)  %s\n", settings_source(s), s->doc);
    }
}
