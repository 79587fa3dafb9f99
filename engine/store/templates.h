/*
 * templates - stored message templates.
 *
 * store_template_add       add a template (name unique); STORE_ERR_EXISTS when taken
 * store_template_ls        all templates (no bodies) as a JSON array
 * store_template_get       one template with its bodies (by name, or id when numeric)
 * store_template_install   add a template unless one of that name exists (db init)
 * store_template_save      add a template with a default subject, or replace one
 * store_template_rm        remove a template no campaign uses
 *
 * Bodies are checked (UTF-8, template syntax) by the caller before they get here.
 */
#ifndef POSTINO_STORE_TEMPLATES_H
#define POSTINO_STORE_TEMPLATES_H

#include <jansson.h>
#include <libpq-fe.h>
#include <stdbool.h>

#include "engine/store/store.h"

int store_template_add(PGconn *conn, const char *name, const char *html, const char *text, json_t **out,
                       struct store_err *e);
int store_template_ls(PGconn *conn, json_t **out, struct store_err *e);
int store_template_get(PGconn *conn, const char *ref, json_t **out, struct store_err *e);
struct template_new {
    const char *name;
    const char *subject;   /* NULL: none */
    const char *html;
    const char *text;      /* NULL: derived from the HTML */
};

int store_template_save(PGconn *conn, const char *ref, const struct template_new *t, json_t **out,
                        struct store_err *e);
int store_template_rm(PGconn *conn, const char *ref, struct store_err *e);
int store_template_install(PGconn *conn, const char *name, const char *html, const char *text, bool *added,
                           struct store_err *e);

#endif
