/*
 * store - shared error reporting for the store modules.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "engine/store/pg.h"
#include "engine/store/store.h"
#include "engine/util/log.h"

/* store_fail - set E to CODE and the formatted message; returns CODE. */
int store_fail(struct store_err *e, enum store_code code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
    va_end(ap);
    e->msg[strcspn(e->msg, "\n")] = 0;
    e->code = code;
    return code;
}

/* store_fail_db - report a database failure while doing WHAT; returns STORE_ERR_DB. */
int store_fail_db(struct store_err *e, PGconn *conn, const PGresult *res, const char *what)
{
    return store_fail(e, STORE_ERR_DB, "%s: database error: %s", what, pg_errmsg(conn, res));
}

/* store_json - the JSON text at (ROW, COL) of RES as a new reference; a bad text is a bug. */
json_t *store_json(const PGresult *res, int row, int col)
{
    json_error_t jerr;
    json_t *j = json_loads(PQgetvalue(res, row, col), JSON_DECODE_ANY, &jerr);
    if (!j)
        log_panic("store: server sent invalid JSON: %s", jerr.text);
    return j;
}

/*
 * store_json_row - finish a lookup whose first column is the row's JSON: *OUT
 * and STORE_OK when RES has a row, STORE_ERR_NOTFOUND with the formatted
 * NOTFOUND_FMT when it has none, a database error naming WHAT when it failed.
 * RES is cleared either way.
 */
int store_json_row(PGconn *conn, PGresult *res, json_t **out, struct store_err *e, const char *what,
                   const char *notfound_fmt, ...)
{
    int rc = STORE_OK;
    if (!pg_ok(res)) {
        rc = store_fail_db(e, conn, res, what);
    } else if (PQntuples(res) == 0) {
        va_list ap;
        va_start(ap, notfound_fmt);
        vsnprintf(e->msg, sizeof(e->msg), notfound_fmt, ap);
        va_end(ap);
        e->code = rc = STORE_ERR_NOTFOUND;
    } else {
        *out = store_json(res, 0, 0);
    }
    PQclear(res);
    return rc;
}
