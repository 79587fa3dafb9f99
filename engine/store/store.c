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
