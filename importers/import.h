/*
 * import - one import from file to database: source, parser, validation, loader.
 *
 * import_run     the whole import of a file into the database, in one transaction
 * import_parse   read and check every record of a source, handing clean rows to a sink
 *                and writing rejects (the database-free part, used by the tests)
 * import_summary_json  what happened to every row, as `postino import --json` prints it,
 *                with the first rejected records (line, reason, row)
 * import_option  set one option of an import as a person gives it (the CLI's --NAME, the
 *                API's query argument NAME): list (again: one more list), format, mode,
 *                status, delimiter, encoding; -1 with WHY ("must be csv or xml, not 'x'"),
 *                which the caller prefixes with the option's name as its users write it
 * import_opts_check  the options together: a list unless blocklisting, several lists
 *                only to subscribe to; -1 with WHY
 * import_preview what importing a file would read: the format, delimiter and encoding
 *                found, what each column becomes, the first rows checked (preview.c)
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

#define IMPORT_LISTS_MAX 20     /* lists one import subscribes to, at most */

/* How far an import is, for a progress bar: PHASE is "reading", "merging" or "done". */
struct import_progress {
    long long rows;             /* records read so far */
    long long rejected;
    long long bytes_read;       /* of the input */
    long long bytes_total;      /* -1: not known (standard input) */
    const char *phase;
};

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
    const char *more_lists[IMPORT_LISTS_MAX - 1];   /* further lists (names or ids) every row joins */
    size_t nmore;
    /* called at most every quarter second while reading, and at each phase; may be NULL */
    void (*on_progress)(void *arg, const struct import_progress *p);
    void *progress_arg;
    /* set by import_run: the ids of MORE_LISTS */
    long long more_ids[IMPORT_LISTS_MAX - 1];
    size_t nmore_ids;
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
int import_opts_check(const struct import_opts *o, char *why, size_t whylen);

json_t *import_preview(struct import_opts *o, const struct import_lists *lists, size_t max_rows, bool partial,
                       char *err, size_t errlen);

/* shared by import.c and preview.c */
int import__csv_delimiter(struct import_source *src, const struct import_opts *o, char *err, size_t errlen);
struct xml_reader *import__xml_open(struct import_source *src, const struct import_opts *o, void **pull,
                                    char *err, size_t errlen);
bool import__xml_failed(void *pull);
json_t *import__text_json(const char *s, size_t len, size_t max);

#endif
