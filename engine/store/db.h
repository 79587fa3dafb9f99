/*
 * db - which database postino uses, and opening it ready for work.
 *
 * db_target_resolve  --db, then POSTINO_DB, then [db] url (S->url); with none of
 *                    them the private cluster under [db] dir (S->dir), its
 *                    PostgreSQL programs in [db] pg_bindir (S->pg_bindir, NULL: found);
 *                    the password in [db] password_file (S->password_file), read
 *                    here, is presented by every connection (pg_password_set)
 * db_open            connect; for the private cluster start it first and apply
 *                    pending migrations; for a named server refuse to work on
 *                    an out-of-date schema (the operator runs db migrate);
 *                    refuse, on any server, a schema newer than this binary
 *                    knows (the operator upgrades postino)
 * db_target_free     release a target
 * db_ping            is the database answering a query
 *
 * Errors come back as one line naming the server, never its password.
 */
#ifndef POSTINO_STORE_DB_H
#define POSTINO_STORE_DB_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>

#include "engine/store/cluster.h"
#include "engine/store/store.h"

struct db_target {
    char *conninfo;
    bool private_cluster;
    struct cluster cluster;
};

/* the [db] settings, as the program read them */
struct db_settings {
    const char *url, *dir, *pg_bindir, *password_file;
};

enum db_open_mode {
    DB_OPEN_READY,   /* schema must be current (private cluster: migrated on demand) */
    DB_OPEN_RAW,     /* connect only (db migrate, db status) */
};

int db_target_resolve(const char *cli_db, const struct db_settings *s, struct db_target *t, char *err,
                      size_t errlen);
PGconn *db_open(struct db_target *t, enum db_open_mode mode, char *err, size_t errlen);
void db_target_free(struct db_target *t);
int db_ping(PGconn *conn, struct store_err *e);

#endif
