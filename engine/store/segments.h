/*
 * segments - saved filters over subscribers (engine/mail/segment.h), and how
 * many subscribers a filter picks.
 *
 * store_segment_add    save a filter by name (compiled first: a bad filter is
 *                      STORE_ERR_INVALID on the field "filter", its line and column)
 * store_segment_ls     every segment, by name
 * store_segment_get    one segment (by name, or by id when the text is a number)
 * store_segment_set    change a segment's name, filter or description
 * store_segment_rm     remove a segment no campaign uses
 * store_segment_count  how many subscribers a segment or a filter picks, alone
 *                      or within lists as a campaign's audience
 * store_filter_check   compile a filter for FIELD: the condition and values to keep
 * store_segment_cond   the condition of a saved segment or of a filter, for a query of one's own
 *
 * A segment's JSON: {id, name, description, filter, created_at, updated_at};
 * the compiled form stays in the store. Each write is one statement.
 */
#ifndef POSTINO_STORE_SEGMENTS_H
#define POSTINO_STORE_SEGMENTS_H

#include <jansson.h>
#include <libpq-fe.h>

#include "engine/mail/segment.h"
#include "engine/store/store.h"

/* The SQL fragment that finds a segment g by name or numeric id in $N. */
#define SEGMENT_REF_MATCH(n) \
    "(g.name = $" #n " OR g.id = CASE WHEN $" #n " ~ '^[0-9]{1,18}$' THEN $" #n "::bigint END)"

/* the most lists a count narrows to */
#define SEGMENT_COUNT_LISTS_MAX 100

int store_segment_add(PGconn *conn, const char *name, const char *filter, const char *description, json_t **out,
                      struct store_err *e);
int store_segment_ls(PGconn *conn, json_t **out, struct store_err *e);
int store_segment_get(PGconn *conn, const char *ref, json_t **out, struct store_err *e);

/* store_segment_set - NAME, FILTER, DESCRIPTION: each NULL to keep it. */
int store_segment_set(PGconn *conn, const char *ref, const char *name, const char *filter, const char *description,
                      json_t **out, struct store_err *e);
int store_segment_rm(PGconn *conn, const char *ref, struct store_err *e);

/*
 * store_segment_count - *OUT is {"count": N}: the subscribers SEGMENT (a
 * reference) or FILTER (a text; not both) picks; with NLISTS list
 * references, only those a campaign to those lists would mail (enabled,
 * subscription confirmed, or unconfirmed on a single opt-in list), each once
 * (with neither segment nor filter: all of those).
 */
int store_segment_count(PGconn *conn, const char *segment, const char *filter, const char *const *lists,
                        size_t nlists, json_t **out, struct store_err *e);

/* store_filter_check - compile FILTER into *OUT (segment_sql_free it); STORE_ERR_INVALID on FIELD otherwise */
int store_filter_check(const char *filter, const char *field, struct segment_sql *out, struct store_err *e);

/*
 * store_segment_cond - the SQL condition over subscribers s that SEGMENT (a
 * reference) or FILTER (a text, compiled now) is, in *COND, and its values
 * as a text[] literal in *VALUES, read by the condition as $2 (SEGMENT_VALUES):
 * a query using it passes *VALUES as its parameter $2. Both the caller's to
 * free. FILTER wins when both are given. STORE_ERR_NOTFOUND for no such
 * segment, STORE_ERR_INVALID (field "filter") for a filter refused.
 */
int store_segment_cond(PGconn *conn, const char *segment, const char *filter, char **cond, char **values,
                       struct store_err *e);

#endif
