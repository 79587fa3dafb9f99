/*
 * loader - clean rows into PostgreSQL: COPY into a staging table, one set-based merge.
 *
 * import_loader_begin   resolve the list, open the transaction, make the TEMP staging table
 * import_loader_add     stream one clean row (buffered, sent by COPY in large chunks)
 * import_loader_finish  end the COPY, merge, count every outcome, commit (or roll back: dry run)
 * import_loader_abort   give up: end the COPY with an error and roll back
 * import_loader_free    release the loader (rolling back when not finished)
 *
 * Everything happens in one transaction on the caller's connection: either
 * the whole import lands or nothing does. Rows repeated in the file (same
 * address, any case) are merged in SQL, keeping the first by line. Into an
 * empty subscribers table (subscribe mode) new rows are copied straight into
 * it, and the table is locked against other writers until the import ends.
 * Outcomes:
 *   subscribe    new: created and subscribed; updated: existing and subscribed
 *                now, or (--overwrite) name replaced / attribs merged key by key;
 *                unchanged: already subscribed, nothing to change; skipped:
 *                blocklisted, or unsubscribed from the list (never resubscribed)
 *   unsubscribe  updated: subscription marked unsubscribed; unchanged: not on
 *                the list or already unsubscribed; not_found: no such subscriber
 *   blocklist    new: created blocklisted; updated: blocklisted now (and
 *                unsubscribed everywhere); unchanged: already blocklisted
 * Failures return -1 with a one-line reason in ERR.
 */
#ifndef POSTINO_IMPORTERS_LOADER_H
#define POSTINO_IMPORTERS_LOADER_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>

#include "importers/validate.h"

enum import_mode { IMPORT_SUBSCRIBE, IMPORT_UNSUBSCRIBE, IMPORT_BLOCKLIST };

struct import_counts {
    long long read;         /* records in the file (header and blank lines not counted) */
    long long added;        /* new subscribers */
    long long updated;      /* existing subscribers changed */
    long long unchanged;    /* existing, nothing to do (subscribe: already subscribed) */
    long long skipped;      /* left alone: blocklisted or unsubscribed */
    long long not_found;    /* unsubscribe mode: no such subscriber */
    long long duplicates;   /* repeats of an address earlier in the file */
    long long rejected;     /* bad records */
    long long staged;       /* clean records loaded, repeats included */
    double seconds;
};

struct import_loader_opts {
    enum import_mode mode;
    const char *list;       /* name or id; NULL only in blocklist mode */
    const char *status;     /* confirmed | unconfirmed; NULL: by the list's opt-in */
    bool overwrite;
    bool dry_run;
    bool want_lists;        /* load every list's name for import_row_from_xml */
};

struct import_loader;

struct import_loader *import_loader_begin(PGconn *conn, const struct import_loader_opts *o,
                                          struct import_lists *lists, char *err, size_t errlen);
int import_loader_add(struct import_loader *l, const struct import_row *row, char *err, size_t errlen);
int import_loader_finish(struct import_loader *l, struct import_counts *c, char *err, size_t errlen);
void import_loader_abort(struct import_loader *l, const char *why);
void import_loader_free(struct import_loader *l);
const char *import_mode_name(enum import_mode mode);

#endif
