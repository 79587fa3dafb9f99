/*
 * lists - mailing lists in the store.
 *
 * store_list_create  add a list; STORE_ERR_INVALID when the name is empty, longer than 200
 *                    bytes or holds a control character (mime_name_check: it goes into
 *                    List-Id and subjects), STORE_ERR_EXISTS when it is taken
 * store_list_ls      all lists with subscription counts, as a JSON array
 * store_list_get     one list (by name, or by id when the text is a number)
 * store_list_rm      delete a list and its subscriptions
 * store_list_names   every list's id, name and opt-in, nothing counted: [{id, name, optin}]
 *
 * Results are new jansson references the caller json_decref()s. Each write
 * is one transaction.
 */
#ifndef POSTINO_STORE_LISTS_H
#define POSTINO_STORE_LISTS_H

#include <jansson.h>
#include <libpq-fe.h>

#include "engine/store/store.h"

/* The SQL fragment that finds a list by name or numeric id in $N. */
#define LIST_REF_MATCH(n) \
    "(l.name = $" #n " OR l.id = CASE WHEN $" #n " ~ '^[0-9]{1,18}$' THEN $" #n "::bigint END)"

int store_list_create(PGconn *conn, const char *name, const char *optin, const char *description,
                      json_t **out, struct store_err *e);
int store_list_ls(PGconn *conn, json_t **out, struct store_err *e);
int store_list_get(PGconn *conn, const char *ref, json_t **out, struct store_err *e);
int store_list_rm(PGconn *conn, const char *ref, struct store_err *e);
int store_list_names(PGconn *conn, json_t **out, struct store_err *e);

#endif
