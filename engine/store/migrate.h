/*
 * migrate - the schema migrations in sql/ (compiled into the binary).
 *
 * migrate_status   each migration with the time it was applied, or pending
 * migrate_pending  how many are not applied yet (-1 on error)
 * migrate_newer    how many applied versions this binary does not know (a newer
 *                  postino migrated the database); when some, ERR says to upgrade
 *                  postino in one line; -1 on error
 * migrate_apply    apply the pending ones in order, each in its own transaction,
 *                  under the advisory lock (senders may run meanwhile); refused
 *                  when the schema is newer than this binary
 *
 * Applied versions are recorded in schema_migrations. Concurrent migrators
 * serialise on an advisory lock. Errors return -1 with one line in ERR naming
 * the migration that failed; that migration is rolled back entirely.
 */
#ifndef POSTINO_STORE_MIGRATE_H
#define POSTINO_STORE_MIGRATE_H

#include <libpq-fe.h>
#include <stddef.h>

struct migration_status {
    char version[128];
    char applied_at[64]; /* "" when pending */
};

int migrate_status(PGconn *conn, struct migration_status **out, size_t *n, char *err, size_t errlen);
int migrate_pending(PGconn *conn, char *err, size_t errlen);
int migrate_newer(PGconn *conn, char *err, size_t errlen);
int migrate_apply(PGconn *conn, int *applied, char *err, size_t errlen);

#endif
