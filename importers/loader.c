/*
 * loader - hand clean rows to the store's import (engine/store/import_load.h).
 *
 * Each row is passed with what the store may use to go faster: whether its
 * address surely differs from every earlier row's. The addresses are
 * remembered as hashes (import_addrset), capped at LOADER_SEEN_MAX so the
 * memory of this process stays flat; past the cap a row is "not sure",
 * which is always safe.
 */
#include <stdio.h>

#include "engine/util/alloc.h"
#include "importers/addrset.h"
#include "importers/loader.h"

#define LOADER_SEEN_MAX (3 << 20)     /* addresses remembered: at most 32 MB of hashes */

struct import_loader {
    struct store_import_load *load;
    struct import_addrset seen; /* the addresses of the rows so far */
};

/* import_mode_name - subscribe, unsubscribe or blocklist. */
const char *import_mode_name(enum import_mode mode)
{
    return mode == IMPORT_SUBSCRIBE ? "subscribe" : mode == IMPORT_UNSUBSCRIBE ? "unsubscribe" : "blocklist";
}

static int loader_fail(const struct store_err *e, char *err, size_t errlen)
{
    snprintf(err, errlen, "%s", e->msg);
    return -1;
}

static void loader_list_add(void *arg, const char *name, long long id)
{
    import_lists_add(arg, name, id);
}

/*
 * import_loader_begin - start an import on CONN as O says; when LISTS is not
 * NULL, fill it with every list. Returns the loader (the caller finishes,
 * aborts and frees it), or NULL with ERR (no such list, database error).
 */
struct import_loader *import_loader_begin(PGconn *conn, const struct import_load_opts *o,
                                          struct import_lists *lists, char *err, size_t errlen)
{
    struct store_err e;
    struct store_import_load *load = store_import_load_begin(conn, o, &e);
    if (!load) {
        loader_fail(&e, err, errlen);
        return NULL;
    }
    if (lists && store_import_load_lists(load, loader_list_add, lists, &e) < 0) {
        store_import_load_free(load);
        loader_fail(&e, err, errlen);
        return NULL;
    }
    struct import_loader *l = xcalloc(1, sizeof(*l));
    l->load = load;
    import_addrset_init(&l->seen, LOADER_SEEN_MAX);
    return l;
}

/* import_loader_add - queue ROW for the database; 0, or -1 with ERR when sending fails. */
int import_loader_add(struct import_loader *l, const struct import_row *row, char *err, size_t errlen)
{
    struct store_err e;
    const struct import_load_row r = {
        .line = row->line,
        .email = row->email,
        .name = row->has_name ? row->name.data : NULL,
        .name_len = row->name.len,
        .attribs = row->attribs.data,
        .attribs_len = row->attribs.len,
        .lists = row->lists,
        .nlists = row->nlists,
    };
    bool surely_new = import_addrset_add(&l->seen, row->email);
    return store_import_load_add(l->load, &r, surely_new, &e) < 0 ? loader_fail(&e, err, errlen) : 0;
}

/*
 * import_loader_finish - merge, fill C's database outcomes and duplicates,
 * and commit (dry run: roll back). 0, or -1 with ERR; on failure nothing is
 * written.
 */
int import_loader_finish(struct import_loader *l, struct import_counts *c, char *err, size_t errlen)
{
    struct store_err e;
    struct import_load_counts n;
    if (store_import_load_finish(l->load, &n, &e) < 0)
        return loader_fail(&e, err, errlen);
    c->staged = n.staged;
    c->added = n.added;
    c->updated = n.updated;
    c->unchanged = n.unchanged;
    c->skipped = n.skipped;
    c->not_found = n.not_found;
    c->duplicates = n.duplicates;
    return 0;
}

/* import_loader_abort - stop the import with WHY and roll everything back. */
void import_loader_abort(struct import_loader *l, const char *why)
{
    store_import_load_abort(l->load, why);
}

/* import_loader_free - release L, rolling back what was not finished; NULL is accepted. */
void import_loader_free(struct import_loader *l)
{
    if (!l)
        return;
    store_import_load_free(l->load);
    import_addrset_free(&l->seen);
    xfree(l);
}
