/*
 * import_load - an import's clean rows into the store: COPY into a staging table, one set-based merge.
 *
 * store_import_load_begin   open the import's transaction, resolve and lock the list, make the
 *                           TEMP staging table; the handle the other calls take
 * store_import_load_lists   every list's id and name, one callback each (rows may name lists);
 *                           before the first add
 * store_import_load_add     queue one clean row (buffered, sent by COPY in chunks of about 1 MB)
 * store_import_load_finish  end the COPY, merge, count every outcome, commit (dry run: roll back)
 * store_import_load_abort   give up: end the COPY with an error and roll back
 * store_import_load_free    release the handle, rolling back what was not finished
 *
 * Every subscription change is recorded as via import (sql/022_consent.sql).
 *
 * An import lands whole or not at all. Everything from begin to finish is one
 * transaction on the caller's connection (which it must not use otherwise
 * meanwhile): nothing is committed before finish succeeds, and every failure
 * of begin or finish, an abort, and a free without a successful finish roll
 * the whole of it back. A dry run does all the work, counts it and rolls back.
 *
 * Rows come clean (importers/validate.h: a normalised address, a JSON object
 * of attributes); the store checks nothing of them, and every value reaches
 * the server escaped in COPY's text format, never as SQL. Rows repeated in
 * the file (same address, any case) are merged here, keeping the first by
 * line. The caller says of each row whether its address surely differs from
 * every earlier row's (SURELY_NEW; "not sure" is always safe, "sure" must
 * never be wrong): into an empty subscribers table (subscribe mode), locked
 * against other writers until the import ends, such rows are copied straight
 * into subscribers, and an import with no row "not sure" needs no sort to
 * keep the first of each address.
 *
 * Outcomes:
 *   subscribe    added: created and subscribed; updated: existing and subscribed
 *                now, or (overwrite) name replaced / attribs merged key by key;
 *                unchanged: already subscribed, nothing to change; skipped:
 *                blocklisted, or unsubscribed from the list (never resubscribed),
 *                or an address erased earlier that stays suppressed (privacy.h)
 *   unsubscribe  updated: subscription marked unsubscribed; unchanged: not on
 *                the list or already unsubscribed; not_found: no such subscriber
 *   blocklist    added: created blocklisted; updated: blocklisted now (and
 *                unsubscribed everywhere); unchanged: already blocklisted
 *   every mode   duplicates: rows repeating an earlier row's address
 *
 * Failures return a negative store_code with a one-line reason in E:
 * STORE_ERR_NOTFOUND for a list that does not exist, STORE_ERR_DB otherwise.
 */
#ifndef POSTINO_STORE_IMPORT_LOAD_H
#define POSTINO_STORE_IMPORT_LOAD_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>

#include "engine/store/store.h"

enum import_mode { IMPORT_SUBSCRIBE, IMPORT_UNSUBSCRIBE, IMPORT_BLOCKLIST };

struct import_load_opts {
    enum import_mode mode;
    const char *list;       /* name or id; NULL only in blocklist mode */
    const char *status;     /* confirmed | unconfirmed; NULL: by the list's opt-in */
    bool overwrite;         /* existing subscribers: replace the name, merge the attributes */
    bool dry_run;           /* count everything, write nothing */
    const char *actor;      /* who imports, for the consent records: "user:EMAIL", "token:ID",
                               "cli:LOGIN"; NULL: "" */
};

struct import_load_row {
    long line;              /* the record's first line in the file */
    const char *email;      /* normalised */
    const char *name;       /* NULL: none given */
    size_t name_len;
    const char *attribs;    /* a JSON object */
    size_t attribs_len;
    const long long *lists; /* further lists to subscribe to, by id */
    size_t nlists;
};

/* What the merge did: staged = added + updated + unchanged + skipped + not_found + duplicates. */
struct import_load_counts {
    long long staged;       /* rows sent, repeats included */
    long long added;
    long long updated;
    long long unchanged;
    long long skipped;
    long long not_found;
    long long duplicates;
};

typedef void (*import_load_list_cb)(void *arg, const char *name, long long id);

struct store_import_load;

struct store_import_load *store_import_load_begin(PGconn *conn, const struct import_load_opts *o,
                                                  struct store_err *e);
int store_import_load_lists(struct store_import_load *l, import_load_list_cb cb, void *arg, struct store_err *e);
int store_import_load_add(struct store_import_load *l, const struct import_load_row *row, bool surely_new,
                          struct store_err *e);
int store_import_load_finish(struct store_import_load *l, struct import_load_counts *c, struct store_err *e);
void store_import_load_abort(struct store_import_load *l, const char *why);
void store_import_load_free(struct store_import_load *l);

#endif
