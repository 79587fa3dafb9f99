/*
 * cmd_config - the settings of every module, read and checked once at start,
 * and `postino config show`.
 *
 * settings_load_all  fill every module's settings from the configuration; the
 *                    first value not allowed is refused with its name (main exits)
 * cli_log_setup      the log's level and format: the command line's, else the
 *                    configuration's; journal when none names a format and
 *                    standard error is systemd's journal
 * settings_reload    SIGHUP: the configuration file read again; [log] applied
 *                    and [send] handed back; 0, or -1 with ERR (nothing applied)
 * cmd_config         config show: every setting, its value and where it came
 *                    from (default, file, environment); secrets never shown
 *
 * The tables: the command line's own ([db], [log]) here; [send] and [mail],
 * [http] public_url, [bounce] in engine/send/settings_send.c; [http] and [api]
 * in api/settings_api.c; [hooks] in api/settings_hooks.c. The store is handed
 * what it uses (store_settings_set).
 */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "api/settings_api.h"
#include "api/settings_hooks.h"
#include "engine/cli/cli.h"
#include "engine/send/dns_report.h"
#include "engine/send/settings_send.h"
#include "engine/send/webhooks.h"
#include "engine/store/store.h"
#include "engine/util/buf.h"
#include "engine/util/conf.h"
#include "engine/util/log.h"
#include "engine/util/settings.h"

struct cli_settings cli_settings;

static const struct setting cli_table[] = {
    { "db", "url", SETTING_TEXT, offsetof(struct cli_settings, db.url), NULL, 0, 0, 0, true,
      "the database (none: the private cluster); POSTINO_DB and --db come first" },
    SETTING_TEXT_ENTRY("db", "dir", struct cli_settings, db.dir, "var", "the private cluster's directory"),
    SETTING_TEXT_ENTRY("db", "pg_bindir", struct cli_settings, db.pg_bindir, NULL,
                       "PostgreSQL's programs (none: the newest installed)"),
    SETTING_TEXT_ENTRY("db", "password_file", struct cli_settings, db.password_file, NULL,
                       "a file whose first line is the database password (never in [db] url)"),
    SETTING_TEXT_ENTRY("log", "level", struct cli_settings, log_level, "info", "debug, info, warning or error"),
    SETTING_TEXT_ENTRY("log", "format", struct cli_settings, log_format, "text",
                       "text, json or journal (none set, under systemd: journal)"),
    { 0 },
};

/* every table, and the struct it fills, in the order config show prints them */
static const struct {
    const struct setting *table;
    void *values;
} tables[] = {
    { cli_table, &cli_settings },
    { send_table, &send_settings },
    { mail_table, &mail_settings },
    { api_table, &api_settings },
    { webhooks_table, &webhooks_settings },
    { hooks_table, &hooks_settings },
    { dns_table, &dns_settings },
};

/* settings_load_all - see above. */
int settings_load_all(char *err, size_t errlen)
{
    for (size_t i = 0; i < sizeof(tables) / sizeof(tables[0]); i++)
        if (settings_load(tables[i].table, tables[i].values, err, errlen) < 0)
            return -1;
    if (webhooks_settings_check(err, errlen) < 0 || settings_send_check(err, errlen) < 0 ||
        dns_settings_check(err, errlen) < 0)
        return -1;
    store_settings_set(&(struct store_settings){ .mail_from = mail_settings.from,
                                                 .confirm_subject = mail_settings.confirm_subject,
                                                 .public_url = mail_settings.public_url });
    return 0;
}

static const char *cmdline_level, *cmdline_format;   /* --log-level, --log-format */

/* apply CS's [log] under the command line's options; 0, or -1 for a name not allowed */
static int log_apply(const struct cli_settings *cs)
{
    const char *from, *format = cmdline_format ? cmdline_format : cs->log_format;
    if (!cmdline_format && !conf_get_from("log", "format", &from) && log_journal_detected())
        format = "journal";
    return log_setup(cmdline_level ? cmdline_level : cs->log_level, format);
}

/* cli_log_setup - see above; LEVEL and FORMAT from the command line (NULL: not given). */
int cli_log_setup(const char *level, const char *format)
{
    cmdline_level = level;
    cmdline_format = format;
    return log_apply(&cli_settings);
}

/* settings_reload - see above; SEND (may be NULL) gets the [send] settings read. */
int settings_reload(struct send_settings *send, char *err, size_t errlen)
{
    struct cli_settings cs;
    struct send_settings ss;
    if (conf_reload(err, errlen) < 0 || settings_load(cli_table, &cs, err, errlen) < 0 ||
        settings_load(send_table, &ss, err, errlen) < 0)
        return -1;
    if (log_apply(&cs) < 0) {
        snprintf(err, errlen, "configuration: [log] level must be debug|info|warning|error and format text|json|journal");
        return -1;
    }
    if (send)
        *send = ss;
    return 0;
}

static const char config_usage[] =
    "usage: postino config show\n"
    "  every setting: its value and where it came from (default, file, environment)\n";

static int config_show(struct cli *c, int argc, char **argv)
{
    struct buf out = BUF_INIT;
    c->usage = config_usage;
    cli_no_operands(c, argc, argv);
    const char *path = conf_path();
    printf("# configuration file: %s\n", path ? path : "none");
    for (size_t i = 0; i < sizeof(tables) / sizeof(tables[0]); i++)
        settings_show(tables[i].table, tables[i].values, &out);
    fputs(buf_cstr(&out), stdout);
    buf_free(&out);
    return 0;
}

/* cmd_config - postino config show. */
int cmd_config(struct cli *c, int argc, char **argv)
{
    static const struct cli_command cmds[] = {
        { "show", config_show, "every setting, its value and where it came from" },
        { NULL, NULL, NULL },
    };
    c->usage = config_usage;
    return cli_dispatch(c, cmds, "config", argc, argv);
}
