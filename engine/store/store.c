/*
 * store - shared error reporting for the store modules.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "engine/store/pg.h"
#include "engine/store/store.h"
#include "engine/util/log.h"

/* fill E with CODE and FMT's message, one line */
static void vfail(struct store_err *e, enum store_code code, const char *fmt, va_list ap)
{
    vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
    e->msg[strcspn(e->msg, "\n")] = 0;
    e->code = code;
    e->field = NULL;
}

/* store_fail - set E to CODE and the formatted message; returns CODE. */
int store_fail(struct store_err *e, enum store_code code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfail(e, code, fmt, ap);
    va_end(ap);
    return code;
}

/* store_fail_field - STORE_ERR_INVALID naming the input FIELD at fault (a static string); returns it. */
int store_fail_field(struct store_err *e, const char *field, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfail(e, STORE_ERR_INVALID, fmt, ap);
    va_end(ap);
    e->field = field;
    return STORE_ERR_INVALID;
}

/* store_fail_db - report a database failure while doing WHAT; returns STORE_ERR_DB. */
int store_fail_db(struct store_err *e, PGconn *conn, const PGresult *res, const char *what)
{
    return store_fail(e, STORE_ERR_DB, "%s: database error: %s", what, pg_errmsg(conn, res));
}

/* integers_back - after a parse with every number as a real, make the integral ones in range integers again */
static json_t *integers_back(json_t *j)
{
    size_t i;
    const char *k;
    json_t *v;
    if (json_is_real(j)) {
        double d = json_real_value(j);
        if (d == (double)(json_int_t)d && d > -9.2e18 && d < 9.2e18) {
            json_decref(j);
            return json_integer((json_int_t)d);
        }
    } else if (json_is_object(j)) {
        json_object_foreach(j, k, v) json_object_set_new(j, k, integers_back(json_incref(v)));
    } else if (json_is_array(j)) {
        json_array_foreach(j, i, v) json_array_set_new(j, i, integers_back(json_incref(v)));
    }
    return j;
}

/*
 * store_json - the JSON text at (ROW, COL) of RES as a new reference. A
 * number too large for a 64-bit integer (an attribute stored as 1e30 written
 * out whole) is read as a real instead; any other bad text is a bug.
 */
json_t *store_json(const PGresult *res, int row, int col)
{
    json_error_t jerr;
    const char *text = PQgetvalue(res, row, col);
    json_t *j = json_loads(text, JSON_DECODE_ANY, &jerr);
    if (!j && (j = json_loads(text, JSON_DECODE_ANY | JSON_DECODE_INT_AS_REAL, &jerr)) != NULL)
        j = integers_back(j);
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
        vfail(e, rc = STORE_ERR_NOTFOUND, notfound_fmt, ap);
        va_end(ap);
    } else {
        *out = store_json(res, 0, 0);
    }
    PQclear(res);
    return rc;
}

/*
 * store_json_made - finish an INSERT ... RETURNING whose first column is the
 * new row's JSON: *OUT and STORE_OK, STORE_ERR_EXISTS with the formatted
 * EXISTS_FMT on a unique violation, a database error naming WHAT otherwise.
 * RES is cleared either way.
 */
int store_json_made(PGconn *conn, PGresult *res, json_t **out, struct store_err *e, const char *what,
                    const char *exists_fmt, ...)
{
    int rc = STORE_OK;
    if (pg_ok(res)) {
        *out = store_json(res, 0, 0);
    } else if (strcmp(pg_sqlstate(res), PG_UNIQUE_VIOLATION) == 0) {
        va_list ap;
        va_start(ap, exists_fmt);
        vfail(e, rc = STORE_ERR_EXISTS, exists_fmt, ap);
        va_end(ap);
    } else {
        rc = store_fail_db(e, conn, res, what);
    }
    PQclear(res);
    return rc;
}

/* store_json_all - run SQL (no parameters), whose one value is a JSON array, into *OUT; a database error naming WHAT */
int store_json_all(PGconn *conn, const char *sql, json_t **out, struct store_err *e, const char *what)
{
    PGresult *res = pg_exec(conn, sql, 0, NULL);
    int rc = STORE_OK;
    if (pg_ok(res))
        *out = store_json(res, 0, 0);
    else
        rc = store_fail_db(e, conn, res, what);
    PQclear(res);
    return rc;
}

/*
 * store_deleted - finish a DELETE of the row NAME names: STORE_OK when it
 * went, STORE_ERR_NOTFOUND ("no KIND \"NAME\"") when there was none,
 * STORE_ERR_EXISTS with IN_USE (a format taking NAME) when other rows still
 * point at it, a database error naming WHAT otherwise. RES is cleared.
 */
int store_deleted(PGconn *conn, PGresult *res, struct store_err *e, const char *kind, const char *name,
                  const char *in_use, const char *what)
{
    int rc = STORE_OK;
    if (!pg_ok(res) && strcmp(pg_sqlstate(res), PG_FOREIGN_KEY_VIOLATION) == 0) {
        rc = store_fail(e, STORE_ERR_EXISTS, in_use, name);
    } else if (!pg_ok(res)) {
        rc = store_fail_db(e, conn, res, what);
    } else if (strcmp(PQcmdTuples(res), "0") == 0) {
        rc = store_fail(e, STORE_ERR_NOTFOUND, "no %s \"%s\"", kind, name);
    }
    PQclear(res);
    return rc;
}

/* the values store_settings_set was given; until then none (a program that queues confirmations sets them) */
struct store_settings store_settings;

/* store_settings_set - see store.h. */
void store_settings_set(const struct store_settings *s)
{
    store_settings = *s;
}
