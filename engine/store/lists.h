/*
 * lists - mailing lists in the store.
 *
 * store_list_check   the rule for a list's name and opt-in, for creating and changing alike:
 *                    STORE_ERR_INVALID naming the field when the name is empty, longer than
 *                    200 bytes or holds a control character (mime_name_check: it goes into
 *                    List-Id and subjects), or the opt-in is not single or double
 * store_list_create  add a list; STORE_ERR_INVALID as store_list_check, STORE_ERR_EXISTS
 *                    when the name is taken
 * store_list_set     change a list's name, description, opt-in or public flag (whether the
 *                    preference page offers it; any of them); the same
 *                    errors, STORE_ERR_NOTFOUND when there is no such list. Subscriptions
 *                    keep their status when the opt-in changes
 * store_list_ls      all lists with their subscriptions counted by status, as a JSON array
 * store_list_get     one list (by name, or by id when the text is a number), its counts and
 *                    the campaigns that use it ("campaigns": [{id, name, status}])
 * store_list_rm      delete a list and its subscriptions (the subscribers stay);
 *                    STORE_ERR_EXISTS naming the campaigns that use it
 * store_list_names   every list's id, name and opt-in, nothing counted: [{id, name, optin}]
 *
 * Counts come from list_counts (sql/020_list_counts.sql): reading them costs
 * what the number of lists costs, not the number of subscriptions.
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

/* What store_list_set changes: NULL members stay as they are. */
struct list_edit {
    const char *name;
    const char *description;
    const char *optin;
    const char *is_public;      /* "true" or "false": shown on the preference page, open to signup forms */
    const char *welcome;        /* the welcome message's template (name or id); "": none */
    const char *welcome_subject;    /* its subject (a template, text mode) */
};

int store_list_check(const char *name, const char *optin, struct store_err *e);
int store_list_create(PGconn *conn, const char *name, const char *optin, const char *description,
                      json_t **out, struct store_err *e);
int store_list_set(PGconn *conn, const char *ref, const struct list_edit *s, json_t **out, struct store_err *e);
int store_list_ls(PGconn *conn, json_t **out, struct store_err *e);
int store_list_get(PGconn *conn, const char *ref, json_t **out, struct store_err *e);
int store_list_rm(PGconn *conn, const char *ref, struct store_err *e);
int store_list_names(PGconn *conn, json_t **out, struct store_err *e);

#endif
