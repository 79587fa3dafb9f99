/*
 * store - what store operations report when they fail.
 *
 * store_fail      fill an error with a code and a formatted one-line message
 * store_fail_db   the same for a database error (the server's primary message)
 * store_json      parse one JSON text column of a result into a jansson value
 * store_json_row  the JSON of a one-row lookup, or not found, or the database error
 * store_json_made the JSON of a new row, or "already exists", or the database error
 * store_json_all  the one JSON value (an array) of a query without parameters
 * store_deleted   a DELETE's outcome: gone, not found, still in use, or the database error
 * store_settings_set  the values of the settings the store uses, handed once at start
 *                 by the program (the store never reads the configuration)
 *
 * Codes map one-to-one onto what callers show: the CLI exits 1 with the
 * message; the API answers 404 / 409 / 400 / 409 / 409 / 503.
 */
#ifndef POSTINO_STORE_STORE_H
#define POSTINO_STORE_STORE_H

#include <jansson.h>
#include <libpq-fe.h>
#include <stddef.h>

enum store_code {
    STORE_OK = 0,
    STORE_ERR_DB = -1,
    STORE_ERR_NOTFOUND = -2,
    STORE_ERR_EXISTS = -3,
    STORE_ERR_INVALID = -4,
    STORE_ERR_LIMIT = -5,      /* as many as allowed already */
    STORE_ERR_CONFLICT = -6,   /* not in the state it would have to be in (a campaign already started) */
};

/* What the store needs of the settings (copied by store_settings_set; the strings must outlive the store). */
struct store_settings {
    const char *mail_from;        /* the From of confirmation messages; NULL: noreply@ the first DKIM key's domain */
    const char *confirm_subject;  /* their subject (a template) */
    const char *public_url;       /* the base of the confirmation link */
};

extern struct store_settings store_settings;

struct store_err {
    enum store_code code;
    const char *field;     /* STORE_ERR_INVALID: the input field at fault, or NULL */
    char msg[512];
};

int store_fail(struct store_err *e, enum store_code code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int store_fail_field(struct store_err *e, const char *field, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
int store_fail_db(struct store_err *e, PGconn *conn, const PGresult *res, const char *what);
json_t *store_json(const PGresult *res, int row, int col);
int store_json_row(PGconn *conn, PGresult *res, json_t **out, struct store_err *e, const char *what,
                   const char *notfound_fmt, ...) __attribute__((format(printf, 6, 7)));

int store_json_made(PGconn *conn, PGresult *res, json_t **out, struct store_err *e, const char *what,
                    const char *exists_fmt, ...) __attribute__((format(printf, 6, 7)));
int store_json_all(PGconn *conn, const char *sql, json_t **out, struct store_err *e, const char *what);
int store_deleted(PGconn *conn, PGresult *res, struct store_err *e, const char *kind, const char *name,
                  const char *in_use, const char *what);
void store_settings_set(const struct store_settings *s);

#endif
