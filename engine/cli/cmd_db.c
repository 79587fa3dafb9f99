/*
 * cmd_db - postino db init | migrate | status | start | stop | psql | backup | restore.
 *
 * psql, backup and restore run PostgreSQL's own programs (psql, pg_dump -Fc,
 * pg_restore) on the database postino uses, in place of this process: their
 * exit status is the command's.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/cli/cli.h"
#include "engine/store/migrate.h"
#include "engine/store/pg.h"
#include "engine/store/templates.h"
#include "engine/util/alloc.h"
#include "engine/util/embedded.h"
#include "engine/util/log.h"

static const char db_usage[] =
    "usage: postino db init      create the database (private cluster: initdb and start) and apply migrations\n"
    "       postino db migrate   apply pending schema migrations, each in its own transaction\n"
    "       postino db status    the server in use and each migration, applied or pending [--json]\n"
    "       postino db start     start the private cluster in ./var/pg (initdb on first use)\n"
    "       postino db stop      stop the private cluster\n"
    "       postino db psql [--read-only] [-- PSQL-ARGS...]   psql on the database (read-only: no transaction may write)\n"
    "       postino db backup FILE    pg_dump -Fc of the database into FILE\n"
    "       postino db restore FILE   pg_restore of FILE into the database (what it holds is replaced)\n";

static struct db_target *private_target(struct cli *c, const char *verb)
{
    struct db_target *t = cli_target(c);
    if (!t->private_cluster) {
        char *where = pg_conninfo_describe(t->conninfo);
        log_error("cannot %s: a database server is configured (%s); postino only starts and stops its private cluster",
                  verb, where);
        xfree(where);
        return NULL;
    }
    return t;
}

static int db_start(struct cli *c, int argc, char **argv)
{
    char err[1024];
    bool started;
    cli_no_operands(c, argc, argv);
    struct db_target *t = private_target(c, "start");
    if (!t)
        return 1;
    if (cluster_start(&t->cluster, &started, err, sizeof(err)) < 0) {
        log_error("%s", err);
        return 1;
    }
    printf("%s the private PostgreSQL in %s (socket in %s)\n", started ? "started" : "already running:",
           t->cluster.datadir, t->cluster.rundir);
    return 0;
}

static int db_stop(struct cli *c, int argc, char **argv)
{
    char err[1024];
    bool stopped;
    cli_no_operands(c, argc, argv);
    struct db_target *t = private_target(c, "stop");
    if (!t)
        return 1;
    if (cluster_stop(&t->cluster, &stopped, err, sizeof(err)) < 0) {
        log_error("%s", err);
        return 1;
    }
    printf("%s\n", stopped ? "stopped the private PostgreSQL" : "the private PostgreSQL was not running");
    return 0;
}

static PGconn *raw_conn(struct cli *c)
{
    char err[1024];
    PGconn *conn = db_open(cli_target(c), DB_OPEN_RAW, err, sizeof(err));
    if (!conn)
        log_fatal("%s", err);
    c->conn = conn;
    return conn;
}

static int db_migrate(struct cli *c, int argc, char **argv)
{
    char err[1024];
    int applied;
    cli_no_operands(c, argc, argv);
    if (migrate_apply(raw_conn(c), &applied, err, sizeof(err)) < 0) {
        log_error("%s", err);
        return 1;
    }
    if (c->json) {
        json_t *j = json_pack("{s:i}", "applied", applied);
        cli_print_json(j);
        json_decref(j);
    } else {
        printf("applied %d migration%s; the schema is current\n", applied, applied == 1 ? "" : "s");
    }
    return 0;
}

/* install_default_templates - add templates/NAME.html (+ .txt) under NAME unless present */
static int install_default_template(struct cli *c, const char *name)
{
    char path[128];
    struct store_err e;
    bool added;
    snprintf(path, sizeof(path), "templates/%s.html", name);
    const struct embedded_file *html = embedded_find(path);
    snprintf(path, sizeof(path), "templates/%s.txt", name);
    const struct embedded_file *text = embedded_find(path);
    if (!html)
        log_panic("default template %s is not embedded", name);
    if (store_template_install(c->conn, name, (const char *)html->data, text ? (const char *)text->data : NULL,
                               &added, &e) < 0)
        return cli_fail(&e);
    if (added && !c->json)
        printf("installed the default template \"%s\"\n", name);
    return 0;
}

static int db_init(struct cli *c, int argc, char **argv)
{
    int rc = db_migrate(c, argc, argv);
    if (rc == 0)
        rc = install_default_template(c, "newsletter");
    if (rc == 0)
        rc = install_default_template(c, "confirm"); /* the double opt-in confirmation (engine/store/tx.h) */
    if (rc == 0)
        rc = install_default_template(c, "signup"); /* the hosted signup page (api/h_forms.c) */
    return rc;
}

static int db_status(struct cli *c, int argc, char **argv)
{
    char err[1024];
    struct migration_status *m;
    size_t n;
    cli_no_operands(c, argc, argv);
    PGconn *conn = raw_conn(c);
    if (migrate_status(conn, &m, &n, err, sizeof(err)) < 0) {
        log_error("%s", err);
        return 1;
    }
    char *where = pg_conninfo_describe(c->target.conninfo);
    int pending = 0;
    for (size_t i = 0; i < n; i++)
        pending += !m[i].applied_at[0];
    if (c->json) {
        json_t *arr = json_array();
        for (size_t i = 0; i < n; i++)
            json_array_append_new(arr, json_pack("{s:s,s:s,s:o}", "version", m[i].version, "state",
                                                 m[i].applied_at[0] ? "applied" : "pending", "applied_at",
                                                 m[i].applied_at[0] ? json_string(m[i].applied_at) : json_null()));
        json_t *j = json_pack("{s:s,s:b,s:i,s:i,s:o}", "server", where, "private", c->target.private_cluster,
                              "server_version", PQserverVersion(conn), "pending", pending, "migrations", arr);
        cli_print_json(j);
        json_decref(j);
    } else {
        printf("server:     %s%s\n", where, c->target.private_cluster ? " (private cluster)" : "");
        printf("version:    PostgreSQL %d.%d\n", PQserverVersion(conn) / 10000, PQserverVersion(conn) % 10000);
        printf("migrations: %zu applied, %d pending\n", n - (size_t)pending, pending);
        for (size_t i = 0; i < n; i++)
            printf("  %-32s %s\n", m[i].version, m[i].applied_at[0] ? m[i].applied_at : "pending");
    }
    xfree(where);
    xfree(m);
    return 0;
}

/* pg_program - PostgreSQL's program NAME: the private cluster's, else the one in PATH (Debian's wrapper) */
static char *pg_program(struct cli *c, const char *name)
{
    return c->target.private_cluster ? xasprintf("%s/%s", c->target.cluster.bindir, name) : xstrdup(name);
}

/* exec_pg - run ARGV[0] (a PostgreSQL program) in place of postino; returns only when it cannot */
static int exec_pg(struct cli *c, char **argv)
{
    fflush(stdout);
    if (c->conn)
        PQfinish(c->conn);   /* the target (its conninfo, in ARGV) stays */
    c->conn = NULL;
    /* [db] password_file's password: in the environment, never in ARGV (ps shows that to everyone) */
    if (pg_password() && setenv("PGPASSWORD", pg_password(), 1) < 0)
        log_fatal("cannot hand the database password to %s: %s", argv[0], strerror(errno));
    execvp(argv[0], argv);
    log_error("cannot run %s: %s", argv[0], strerror(errno));
    return 1;
}

/* the database reached (the private cluster started) and its conninfo; fatal when it cannot be */
static const char *db_reached(struct cli *c)
{
    raw_conn(c);
    return c->target.conninfo;
}

static int db_psql(struct cli *c, int argc, char **argv)
{
    static const struct option opts[] = {
        { "read-only", no_argument, NULL, 'r' }, { "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 },
    };
    bool read_only = false;
    int opt;
    while ((opt = cli_parse(c, argc, argv, "h", opts)) != -1)
        if (opt == 'r')
            read_only = true;
    const char *conninfo = db_reached(c);
    if (read_only) {
        const char *old = getenv("PGOPTIONS");
        char *v = xasprintf("%s%s-c default_transaction_read_only=on", old ? old : "", old && *old ? " " : "");
        setenv("PGOPTIONS", v, 1);
        xfree(v);
    }
    char **args = xcalloc((size_t)(argc - optind) + 4, sizeof(*args));
    int n = 0;
    args[n++] = pg_program(c, "psql");
    args[n++] = "--dbname";
    args[n++] = (char *)conninfo;
    for (int i = optind; i < argc; i++)
        args[n++] = argv[i];
    args[n] = NULL;
    return exec_pg(c, args);
}

static const struct option help_opts[] = { { "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 } };

static int db_backup(struct cli *c, int argc, char **argv)
{
    while (cli_parse(c, argc, argv, "h", help_opts) != -1)
        ;
    const char *file = cli_operand(c, argc, argv, "file");
    const char *conninfo = db_reached(c);
    char *args[] = { pg_program(c, "pg_dump"), "--format=custom", "--no-owner", "--file", (char *)file, "--dbname",
                     (char *)conninfo, NULL };
    return exec_pg(c, args);
}

static int db_restore(struct cli *c, int argc, char **argv)
{
    while (cli_parse(c, argc, argv, "h", help_opts) != -1)
        ;
    const char *file = cli_operand(c, argc, argv, "file");
    if (access(file, R_OK) < 0)
        log_fatal("cannot read %s: %s", file, strerror(errno));
    const char *conninfo = db_reached(c);
    /* what the dump holds replaces what is there, in one transaction: an error leaves the database as it was */
    char *args[] = { pg_program(c, "pg_restore"), "--clean", "--if-exists", "--no-owner", "--single-transaction",
                     "--exit-on-error", "--dbname", (char *)conninfo, (char *)file, NULL };
    return exec_pg(c, args);
}

static const struct cli_command db_commands[] = {
    { "init", db_init, NULL },       { "migrate", db_migrate, NULL }, { "status", db_status, NULL },
    { "start", db_start, NULL },     { "stop", db_stop, NULL },       { "psql", db_psql, NULL },
    { "backup", db_backup, NULL },   { "restore", db_restore, NULL }, { NULL, NULL, NULL },
};

/* cmd_db - postino db SUBCOMMAND. */
int cmd_db(struct cli *c, int argc, char **argv)
{
    c->usage = db_usage;
    return cli_dispatch(c, db_commands, "db", argc, argv);
}
