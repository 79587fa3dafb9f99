/*
 * cli - what every postino command shares.
 *
 * cli_db          the database connection, opened (and the private cluster
 *                 started) on first use; failure is fatal with one line
 * cli_db_consent  the same, on which subscription changes are recorded as the command
 *                 line's (via cli, actor cli:LOGIN; sql/022_consent.sql)
 * cli_actor       "cli:LOGIN", who runs the command
 * cli_target      the resolved database target
 * cli_parse       getopt_long over a command's options with --help handled
 * cli_no_operands parse a command that takes no operand and no option but --help
 * cli_operand     the one operand left after the options, or a usage error
 * cli_usage       print a usage error and exit 2
 * cli_print_json  print a JSON value on stdout
 * cli_fail        log a store error; returns exit status 1
 * cli_email_arg   normalise an email argument or exit 1 naming it
 *
 * Exit statuses: 0 success, 1 failure, 2 usage.
 */
#ifndef POSTINO_CLI_CLI_H
#define POSTINO_CLI_CLI_H

#include <getopt.h>
#include <jansson.h>
#include <libpq-fe.h>
#include <stdbool.h>

#include "engine/mail/address.h"
#include "engine/store/db.h"
#include "engine/store/store.h"

#define EXIT_USAGE 2

struct cli {
    bool json;
    const char *db;
    const char *usage;   /* of the command running, for cli_usage */
    struct db_target target;
    bool target_ready;
    PGconn *conn;
};

/* the command line's own settings ([db], [log]; engine/cli/cmd_config.c), filled by settings_load_all */
struct cli_settings {
    struct db_settings db;
    const char *log_level, *log_format;
};

extern struct cli_settings cli_settings;

int settings_load_all(char *err, size_t errlen);
int cli_log_setup(const char *level, const char *format);
struct send_settings;
int settings_reload(struct send_settings *send, char *err, size_t errlen);

struct cli_command {
    const char *name;
    int (*run)(struct cli *c, int argc, char **argv);
    const char *summary;
};

PGconn *cli_db(struct cli *c);
void cli_actor(char *out, size_t len);
PGconn *cli_db_consent(struct cli *c);
struct db_target *cli_target(struct cli *c);
int cli_parse(struct cli *c, int argc, char **argv, const char *shortopts, const struct option *longopts);
void cli_no_operands(struct cli *c, int argc, char **argv);
const char *cli_operand(struct cli *c, int argc, char **argv, const char *what);
void cli_usage(struct cli *c, const char *fmt, ...) __attribute__((format(printf, 2, 3), noreturn));
void cli_print_json(json_t *j);
int cli_fail(const struct store_err *e);
void cli_email_arg(const char *arg, char out[ADDRESS_MAX + 1]);
int cli_dispatch(struct cli *c, const struct cli_command *cmds, const char *group, int argc, char **argv);
void cli_close(struct cli *c);

int cmd_config(struct cli *c, int argc, char **argv);
int cmd_db(struct cli *c, int argc, char **argv);
int cmd_list(struct cli *c, int argc, char **argv);
int cmd_segment(struct cli *c, int argc, char **argv);
int cmd_subscriber(struct cli *c, int argc, char **argv);
int cmd_import(struct cli *c, int argc, char **argv);
int cmd_export(struct cli *c, int argc, char **argv);
int cmd_template(struct cli *c, int argc, char **argv);
int cmd_campaign(struct cli *c, int argc, char **argv);
int cmd_dkim(struct cli *c, int argc, char **argv);
int cmd_dns(struct cli *c, int argc, char **argv);
int cmd_dns_check(struct cli *c, int argc, char **argv);
int cmd_relay(struct cli *c, int argc, char **argv);
int cmd_send(struct cli *c, int argc, char **argv);
int cmd_serve(struct cli *c, int argc, char **argv);
int cmd_user(struct cli *c, int argc, char **argv);
int cmd_media(struct cli *c, int argc, char **argv);
int cmd_token(struct cli *c, int argc, char **argv);
int cmd_bounce(struct cli *c, int argc, char **argv);
int cmd_webhook(struct cli *c, int argc, char **argv);
int cmd_webhooks(struct cli *c, int argc, char **argv);
int cmd_mta(struct cli *c, int argc, char **argv);
int cmd_setup(struct cli *c, int argc, char **argv);
int cmd_provider(struct cli *c, int argc, char **argv);

/* provider_table_print - per-provider counts as a table (cmd_provider.c; campaign stats prints them too) */
void provider_table_print(json_t *rows, bool days);
/* pace_print - a provider's pace JSON, each line after INDENT (cmd_provider.c; campaign stats prints it too) */
void pace_print(json_t *pace, const char *indent);
int cmd_warmup(struct cli *c, int argc, char **argv);

#endif
