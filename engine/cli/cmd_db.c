/*
 * cmd_db - postino db init | migrate | status | start | stop.
 */
#include <stdio.h>
#include <string.h>

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
    "       postino db stop      stop the private cluster\n";

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

static const struct cli_command db_commands[] = {
    { "init", db_init, NULL },       { "migrate", db_migrate, NULL }, { "status", db_status, NULL },
    { "start", db_start, NULL },     { "stop", db_stop, NULL },       { NULL, NULL, NULL },
};

/* cmd_db - postino db SUBCOMMAND. */
int cmd_db(struct cli *c, int argc, char **argv)
{
    c->usage = db_usage;
    return cli_dispatch(c, db_commands, "db", argc, argv);
}
