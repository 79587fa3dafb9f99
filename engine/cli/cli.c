/*
 * cli - shared plumbing of the postino commands.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <pwd.h>
#include <string.h>
#include <unistd.h>

#include "engine/cli/cli.h"
#include "engine/store/consent.h"
#include "engine/util/log.h"

/* cli_target - resolve the database target once; fatal when it cannot be. */
struct db_target *cli_target(struct cli *c)
{
    char err[1024];
    if (!c->target_ready) {
        if (db_target_resolve(c->db, &cli_settings.db, &c->target, err, sizeof(err)) < 0)
            log_fatal("%s", err);
        c->target_ready = true;
    }
    return &c->target;
}

/* cli_db - the ready database connection; exits 1 with one line when there is none. */
PGconn *cli_db(struct cli *c)
{
    char err[1024];
    if (!c->conn) {
        c->conn = db_open(cli_target(c), DB_OPEN_READY, err, sizeof(err));
        if (!c->conn)
            log_fatal("%s", err);
    }
    return c->conn;
}

/* cli_actor - who runs the command, as consent records name it: "cli:LOGIN". */
void cli_actor(char *out, size_t len)
{
    const struct passwd *pw = getpwuid(geteuid());
    const char *login = pw ? pw->pw_name : getenv("USER");
    snprintf(out, len, "cli:%s", login ? login : "");
}

/*
 * cli_db_consent - cli_db's connection, on which every later change of a
 * subscription is recorded as the command line's (via cli, cli_actor).
 */
PGconn *cli_db_consent(struct cli *c)
{
    char actor[300];
    PGconn *conn = cli_db(c);
    cli_actor(actor, sizeof(actor));
    if (store_consent_session(conn, "cli", actor, "", "", "") < 0)
        log_fatal("cannot reach the database");
    return conn;
}

/* cli_close - close the connection and forget the target. */
void cli_close(struct cli *c)
{
    if (c->conn)
        PQfinish(c->conn);
    c->conn = NULL;
    if (c->target_ready)
        db_target_free(&c->target);
    c->target_ready = false;
}

/* cli_usage - "postino: error: MESSAGE" and the usage of the command; exit 2. */
void cli_usage(struct cli *c, const char *fmt, ...)
{
    va_list ap;
    fputs("postino: error: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    if (c->usage)
        fprintf(stderr, "%s", c->usage);
    exit(EXIT_USAGE);
}

/*
 * cli_parse - the next option of ARGV (getopt_long), with --help printing
 * the usage and exiting 0 and an unknown or incomplete option exiting 2.
 * Returns -1 at the end; optind is then the first operand.
 */
int cli_parse(struct cli *c, int argc, char **argv, const char *shortopts, const struct option *longopts)
{
    char fmt[64];
    opterr = 0;
    snprintf(fmt, sizeof(fmt), ":%s", shortopts);
    int opt = getopt_long(argc, argv, fmt, longopts, NULL);
    if (opt == 'h') {
        fputs(c->usage, stdout);
        exit(0);
    }
    if (opt == '?')
        cli_usage(c, "unknown option %s", argv[optind - 1]);
    if (opt == ':')
        cli_usage(c, "option %s needs a value", argv[optind - 1]);
    return opt;
}

/* cli_print_json - J on stdout, indented, with a newline. */
void cli_print_json(json_t *j)
{
    json_dumpf(j, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY | JSON_REAL_PRECISION(15));
    fputc('\n', stdout);
}

/* cli_fail - report E and return exit status 1. */
int cli_fail(const struct store_err *e)
{
    log_error("%s", e->msg);
    return 1;
}

/* cli_email_arg - normalise ARG into OUT, or exit 1 with "invalid address ARG: why". */
void cli_email_arg(const char *arg, char out[ADDRESS_MAX + 1])
{
    const char *why;
    if (address_normalize(arg, out, ADDRESS_MAX + 1, &why) < 0)
        log_fatal("invalid address \"%s\": %s", arg, why);
}

/* cli_dispatch - run the subcommand ARGV[1] of GROUP from CMDS; usage error when unknown. */
int cli_dispatch(struct cli *c, const struct cli_command *cmds, const char *group, int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        if (argc < 2)
            cli_usage(c, "'%s' needs a subcommand", group);
        fputs(c->usage, stdout);
        return 0;
    }
    for (const struct cli_command *cmd = cmds; cmd->name; cmd++)
        if (strcmp(cmd->name, argv[1]) == 0) {
            optind = 0;
            return cmd->run(c, argc - 1, argv + 1);
        }
    cli_usage(c, "unknown subcommand '%s %s'", group, argv[1]);
}

/* cli_operand - the single operand after the options; usage error when missing or followed by more. */
const char *cli_operand(struct cli *c, int argc, char **argv, const char *what)
{
    if (optind >= argc)
        cli_usage(c, "missing %s", what);
    if (optind + 1 < argc)
        cli_usage(c, "unexpected argument '%s'", argv[optind + 1]);
    return argv[optind];
}

/* cli_no_operands - parse a command that takes only --help; usage error on any operand. */
void cli_no_operands(struct cli *c, int argc, char **argv)
{
    static const struct option opts[] = { { "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 } };
    while (cli_parse(c, argc, argv, "h", opts) != -1)
        ;
    if (optind < argc)
        cli_usage(c, "unexpected argument '%s'", argv[optind]);
}
