/*
 * source - the bytes of an import: a file or standard input, in chunks.
 *
 * import_source_open    open FILE ("-" for standard input), read its first chunk
 * import_source_guess   the format the first chunk looks like (csv or xml)
 * import_source_peek    the first chunk, before any is consumed
 * import_source_read    the next chunk, as UTF-8 when the source converts
 * import_source_pos     how many bytes of the input were consumed so far
 * import_source_size    the input's size when it is a regular file, else -1
 * import_source_close   close and release
 *
 * A converting source (for CSV) drops a UTF-8 byte order mark and turns a
 * named encoding (latin1, windows-1252 …, through iconv) into UTF-8. A raw
 * source (for XML, which declares its own encoding) passes the bytes as they
 * are. Failures return -1 or NULL with a one-line reason in ERR.
 */
#ifndef POSTINO_IMPORTERS_SOURCE_H
#define POSTINO_IMPORTERS_SOURCE_H

#include <stdbool.h>
#include <stddef.h>

enum import_format { IMPORT_FORMAT_CSV, IMPORT_FORMAT_XML };

struct import_source;

struct import_source *import_source_open(const char *path, char *err, size_t errlen);
enum import_format import_source_guess(const struct import_source *s);
enum import_format import_format_guess(const char *data, size_t len);
int import_source_convert(struct import_source *s, const char *encoding, char *err, size_t errlen);
const char *import_source_peek(const struct import_source *s, size_t *len);
int import_source_read(struct import_source *s, const char **data, size_t *len, char *err, size_t errlen);
long long import_source_pos(const struct import_source *s);
long long import_source_size(const struct import_source *s);
void import_source_close(struct import_source *s);

#endif
