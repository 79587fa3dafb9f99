/*
 * embedded - files compiled into the binary (sql/ migrations, templates/).
 *
 * embedded_files is a table ended by a NULL name, sorted by path; each data
 * array is NUL-terminated (not counted in len) so text can be used as a string.
 * embedded_find - the file at PATH, or NULL.
 */
#ifndef POSTINO_UTIL_EMBEDDED_H
#define POSTINO_UTIL_EMBEDDED_H

#include <stddef.h>

struct embedded_file {
    const char *path;
    const unsigned char *data;
    size_t len;
};

extern const struct embedded_file embedded_files[];

const struct embedded_file *embedded_find(const char *path);

#endif
