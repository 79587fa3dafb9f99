/*
 * conf - the configuration: an INI file (postino.conf) and the environment.
 *
 * conf_load       read the file chosen by --config, POSTINO_CONFIG or ./postino.conf
 * conf_get        a value: POSTINO_SECTION_KEY from the environment first, then the file
 * conf_get_from   a value and where it came from ("environment" or "file"), or NULL
 * conf_path       the file that was read, or NULL
 * conf_reload     read that file again, as a whole (a running service's SIGHUP);
 *                 0, or -1 with ERR and the values read before kept. The strings
 *                 of the reading it replaces stay valid until conf_free.
 * conf_free       forget everything
 * conf_file_set   in the file PATH, make SECTION's KEY read " = VALUE": its line
 *                 replaced, or added at the end of the section (the section at
 *                 the end of the file when it has none); comments, order and the
 *                 file's mode and owner kept; written whole and renamed into place.
 *                 *CHANGED says whether the file changed. 0, or -1 with ERR.
 *
 * conf_load returns 0, or -1 with a one-line reason in ERR (file missing when
 * named explicitly, syntax error with its line number). A missing ./postino.conf
 * is not an error: every key has a default.
 *
 * The modules do not call these: they are handed structs filled from
 * their tables of settings (settings.h) once at start.
 *
 * conf_get, conf_get_from and conf_reload may be called from any thread;
 * conf_load, conf_set and conf_free only before other threads start or after they end.
 */
#ifndef POSTINO_UTIL_CONF_H
#define POSTINO_UTIL_CONF_H

#include <stdbool.h>
#include <stddef.h>

int conf_load(const char *explicit_path, char *err, size_t errlen);
const char *conf_get(const char *section, const char *key, const char *def);
const char *conf_get_from(const char *section, const char *key, const char **from);
const char *conf_path(void);
int conf_reload(char *err, size_t errlen);
void conf_set(const char *section, const char *key, const char *value);
void conf_free(void);
int conf_file_set(const char *path, const char *section, const char *key, const char *value, bool *changed,
                  char *err, size_t errlen);

#endif
