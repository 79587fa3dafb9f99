/*
 * settings - a module's settings as one table, as Postfix's CONFIG_*_TABLE
 * or Redis's createIntConfig: each entry names a section and key, its type,
 * its default, its bounds and the field of the module's struct it fills.
 * The tables are read from the configuration (conf.h: the environment's
 * POSTINO_SECTION_KEY first, then the file) and checked once at start, and
 * the modules are handed the structs, never the configuration.
 *
 * settings_load    fill DEST from TABLE (ended by an entry with no key); 0, or -1
 *                  with ERR naming the first value that is not allowed, e.g.
 *                  "[send] batch = \"0\" (file): not a number from 1 to 100000"
 * settings_defaults  fill DEST with TABLE's defaults alone
 * settings_set     set TABLE's entry KEY in DEST from VALUE given another way (a
 *                  command's option); -1 with ERR ("must be from 1 to 100000") when not allowed
 * settings_source  where an entry's value comes from: "environment", "file" or "default"
 * settings_show    append one line per entry to OUT: "[section] key = value  (source)",
 *                  a secret entry's value shown as ******** when set
 *
 * A text setting with no default and no value is NULL. DEST's text fields
 * point into the configuration (or the table): valid until conf_free.
 */
#ifndef POSTINO_UTIL_SETTINGS_H
#define POSTINO_UTIL_SETTINGS_H

#include <stdbool.h>
#include <stddef.h>

#include "engine/util/buf.h"

enum setting_type {
    SETTING_TEXT,      /* const char * */
    SETTING_LONG,      /* long */
    SETTING_UNSIGNED,  /* unsigned */
    SETTING_SIZE,      /* size_t */
};

struct setting {
    const char *section, *key;
    enum setting_type type;
    size_t offset;         /* of the field in the module's struct */
    const char *text;      /* a text setting's default; NULL: none */
    long def, min, max;    /* a number's default and bounds */
    bool secret;           /* never shown */
    const char *doc;       /* what it is, in a few words */
};

#define SETTING_TEXT_ENTRY(sec, k, type_, field, dflt, what) \
    { sec, k, SETTING_TEXT, offsetof(type_, field), dflt, 0, 0, 0, false, what }
#define SETTING_NUMBER_ENTRY(sec, k, kind, type_, field, dflt, lo, hi, what) \
    { sec, k, kind, offsetof(type_, field), NULL, dflt, lo, hi, false, what }

int settings_load(const struct setting *table, void *dest, char *err, size_t errlen);
void settings_defaults(const struct setting *table, void *dest);
int settings_set(const struct setting *table, const char *key, const char *value, void *dest, char *err,
                 size_t errlen);
const char *settings_source(const struct setting *s);
void settings_show(const struct setting *table, const void *values, struct buf *out);

#endif
