/*
 * loader - clean rows into the store, each marked whether its address is surely new to the import.
 *
 * import_loader_begin   start the import in the store; fill the lists rows may name
 * import_loader_add     hand one clean row to the store
 * import_loader_finish  merge, count every outcome, commit (or roll back: dry run)
 * import_loader_abort   give up: roll back
 * import_loader_free    release the loader (rolling back when not finished)
 * import_mode_name      subscribe, unsubscribe or blocklist
 *
 * The database work is the store's (engine/store/import_load.h, which says
 * what each mode does to each row): one transaction on the caller's
 * connection, so either the whole import lands or nothing does. The loader
 * remembers the addresses seen so far (import_addrset) and tells the store
 * which rows surely repeat no earlier one. Failures return -1 with a
 * one-line reason in ERR.
 */
#ifndef POSTINO_IMPORTERS_LOADER_H
#define POSTINO_IMPORTERS_LOADER_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>

#include "engine/store/import_load.h"
#include "importers/validate.h"

#define IMPORT_FIRST_REJECTS 10      /* rejected records remembered for the summary */
#define IMPORT_REJECT_ROW_MAX 400     /* bytes of such a record's text kept */

/* one of the first rejected records: its line, why, and the start of its text (may hold any byte) */
struct import_reject_note {
    long line;
    char why[320];
    char row[IMPORT_REJECT_ROW_MAX];
    size_t rowlen;
};

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
    struct import_reject_note first[IMPORT_FIRST_REJECTS];   /* the first rejected records */
    size_t nfirst;
};

struct import_loader;

struct import_loader *import_loader_begin(PGconn *conn, const struct import_load_opts *o,
                                          struct import_lists *lists, char *err, size_t errlen);
int import_loader_add(struct import_loader *l, const struct import_row *row, char *err, size_t errlen);
int import_loader_finish(struct import_loader *l, struct import_counts *c, char *err, size_t errlen);
void import_loader_abort(struct import_loader *l, const char *why);
void import_loader_free(struct import_loader *l);
const char *import_mode_name(enum import_mode mode);

#endif
