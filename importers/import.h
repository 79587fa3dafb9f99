/*
 * import - one import from file to database: source, parser, validation, loader.
 *
 * import_run     the whole import of a file into the database, in one transaction
 * import_parse   read and check every record of a source, handing clean rows to a sink
 *                and writing rejects (the database-free part, used by the tests)
 * import_summary_json  what happened to every row, as `postino import --json` prints it
 * import_option  set one option of an import as a person gives it (the CLI's --NAME, the
 *                API's query argument NAME): list, format, mode, status, delimiter,
 *                encoding; -1 with WHY ("must be csv or xml, not 'x'"), which the caller
 *                prefixes with the option's name as its users write it
 *
 * Every record ends in exactly one counter: rejected, or (after the merge)
 * a duplicate of an earlier row, new, updated, unchanged, skipped or not
 * found. Rejected records go to the rejects file as CSV with the header
 * "line,reason,row": the record's first line, why, and its original text.
 * A file that cannot be read as a whole (no header, no email column, XML
 * not well-formed or with a DTD, an unclosed quote) fails the import
 * and nothing is written. Failures return -1 with a one-line reason in ERR.
 */
#ifndef POSTINO_IMPORTERS_IMPORT_H
#define POSTINO_IMPORTERS_IMPORT_H

#include <jansson.h>
#include <libpq-fe.h>
#include <stdbool.h>
#include <stdio.h>

#include "importers/loader.h"
#include "importers/source.h"
#include "importers/validate.h"

struct import_opts {
    const char *path;           /* "-": standard input */
    bool format_given;
    enum import_format format;  /* when given; else guessed from the content (and set here) */
    int delimiter;              /* 0: detected */
    const char *encoding;       /* NULL: UTF-8 */
    struct import_map *map;
    const char *rejects_path;   /* NULL: the first rejects are logged instead */
    bool progress;              /* a progress line on stderr */
    struct import_load_opts load;   /* what the store does with the rows */
};

/* Where clean rows go: the loader, or a test's counter. Non-zero from ROW stops the import. */
struct import_sink {
    int (*row)(void *arg, const struct import_row *row, char *err, size_t errlen);
    void *arg;
};

int import_run(PGconn *conn, struct import_opts *o, struct import_counts *c, char *err, size_t errlen);
json_t *import_summary_json(const struct import_opts *o, const char *source, const struct import_counts *c);
int import_parse(struct import_source *src, const struct import_opts *o, enum import_format format,
                 const struct import_lists *lists, const struct import_sink *sink, FILE *rejects,
                 struct import_counts *c, char *err, size_t errlen);

int import_option(struct import_opts *o, const char *name, const char *value, char *why, size_t whylen);

#endif
