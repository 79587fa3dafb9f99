/*
 * cluster - postino's private PostgreSQL cluster under a var directory.
 *
 * cluster_init     describe the cluster in VARDIR (made absolute), run with the programs
 *                  in PG_BINDIR (NULL: the newest /usr/lib/postgresql/N/bin)
 * cluster_start    initdb once, then pg_ctl start; create the postino database
 * cluster_stop     pg_ctl stop (fast)
 * cluster_running  is the postmaster up
 * cluster_conninfo the conninfo reaching it (unix socket only)
 *
 * Layout: VARDIR/pg/data (PGDATA), VARDIR/pg/run (the socket), VARDIR/pg/log.
 * The server listens on no TCP port. initdb refuses to run as root, so when
 * postino runs as root the programs run as the "postgres" system user and
 * VARDIR/pg belongs to it. Failures return -1 with a one-line reason in ERR.
 */
#ifndef POSTINO_STORE_CLUSTER_H
#define POSTINO_STORE_CLUSTER_H

#include <stdbool.h>
#include <stddef.h>

struct cluster {
    char vardir[512];
    char pgdir[600];
    char datadir[640];
    char rundir[640];
    char logfile[700];
    char bindir[256];
};

int cluster_init(struct cluster *c, const char *vardir, const char *pg_bindir, char *err, size_t errlen);
int cluster_start(struct cluster *c, bool *started, char *err, size_t errlen);
int cluster_stop(struct cluster *c, bool *stopped, char *err, size_t errlen);
bool cluster_running(struct cluster *c);
char *cluster_conninfo(const struct cluster *c, const char *dbname);

#endif
