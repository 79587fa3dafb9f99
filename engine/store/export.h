/*
 * export - a list's subscribers written out, row by row, in constant memory.
 *
 * store_export_format_parse  csv or json
 * store_export_open          start an export on a connection of its own: the list (and a
 *                            segment or a filter) checked, the query sent in single-row mode
 * store_export_next          the next rows as text, appended to a buffer
 * store_export_close         end it (the transaction rolled back if unfinished) and free it
 *
 * CSV is what postino import reads back: a header "email,name,KEY..." with
 * every attribute key any exported subscriber has (sorted), then one record
 * per subscriber; an attribute that is a string is written as it is, any
 * other as its JSON text, a missing one empty. Fields holding a comma, a
 * quote, a line break or blanks at either end are quoted (RFC 4180). JSON is
 * one array, one object per line: {id, email, name, status, attribs,
 * created_at, subscription: {status, created_at}}.
 *
 * Both read one snapshot (a REPEATABLE READ transaction), so the header's
 * keys are those of the rows. Memory is one row and one chunk of output,
 * whatever the number of subscribers; the database sorts by id on its side.
 * The connection is the caller's, given over to the export until
 * store_export_close: nothing else may run on it meanwhile.
 */
#ifndef POSTINO_STORE_EXPORT_H
#define POSTINO_STORE_EXPORT_H

#include <libpq-fe.h>

#include "engine/store/store.h"
#include "engine/util/buf.h"

enum export_format { EXPORT_CSV, EXPORT_JSON };

#define EXPORT_KEYS_MAX 1000     /* attribute keys a CSV export has columns for, at most */
#define EXPORT_CHUNK (64 * 1024) /* bytes store_export_next appends, about */

struct export_query {
    const char *list;            /* a name or an id; required */
    const char *segment;         /* NULL, or a saved segment narrowing the list, or */
    const char *filter;          /* NULL, or a filter (not both) */
    enum export_format format;
};

struct export_stream;

/* store_export_format_parse - *OUT for NAME; STORE_ERR_INVALID (field "format") for one not csv or json */
int store_export_format_parse(const char *name, enum export_format *out, struct store_err *e);

/*
 * store_export_open - start exporting Q's subscribers (those subscribed to the
 * list, confirmed or unconfirmed, the segment or filter picks) on CONN.
 * Returns 0 with *OUT, or a store code: STORE_ERR_NOTFOUND (no such list or
 * segment), STORE_ERR_INVALID naming "filter" or "segment" (both given, a
 * filter refused) or "format" (more than EXPORT_KEYS_MAX attribute keys for
 * CSV), STORE_ERR_DB; then nothing is left running on CONN.
 */
int store_export_open(PGconn *conn, const struct export_query *q, struct export_stream **out, struct store_err *e);

/*
 * store_export_next - append the next rows (about EXPORT_CHUNK bytes; the
 * header first) to B. Returns 1 when more may follow, 0 at the end (the
 * closing text appended), or STORE_ERR_DB with E (the export cannot go on).
 */
int store_export_next(struct export_stream *x, struct buf *b, struct store_err *e);

/* store_export_rows - how many subscribers X has written so far */
long long store_export_rows(const struct export_stream *x);

/* store_export_close - finish X (NULL is fine): its transaction ended, its memory freed; the connection stays */
void store_export_close(struct export_stream *x);

#endif
