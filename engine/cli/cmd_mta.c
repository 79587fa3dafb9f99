/*
 * cmd_mta - postino mta follow [FILE] [--once]: Postfix's delivery log into the ledger.
 */
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine/cli/cli.h"
#include "engine/send/mta_watch.h"
#include "engine/send/settings_send.h"
#include "engine/util/alloc.h"
#include "engine/util/log.h"

static const char mta_usage[] =
    "usage: postino mta follow [FILE] [--once] [--settle SECONDS] [--json]\n"
    "\n"
    "Reads Postfix's log (its maillog_file, or syslog's mail.log; FILE or\n"
    "[mta] log) from where the last read stopped, and records on each delivery\n"
    "Postfix accepted what became of it: delivered to the receiving server,\n"
    "deferred (the latest reason and how often), bounced, or expired. The\n"
    "position is kept in the database; a rotated file (FILE.1) is finished\n"
    "before the new one is read. --once reads to the end and exits (events of\n"
    "any age); otherwise it follows the file until SIGINT or SIGTERM, leaving\n"
    "events younger than --settle seconds ([mta] settle) for the next read.\n";

static volatile sig_atomic_t stopping;

static void on_signal(int sig)
{
    (void)sig;
    stopping = 1;
}

static void print_stats(const struct cli *c, const char *path, const struct mta_watch_stats *st)
{
    if (c->json) {
        json_t *j = json_pack("{s:s,s:I,s:I,s:I,s:I}", "file", path, "lines", (json_int_t)st->lines, "events",
                              (json_int_t)st->events, "changed", (json_int_t)st->changed, "bounces",
                              (json_int_t)st->bounces);
        cli_print_json(j);
        json_decref(j);
    } else {
        printf("%s: %ld lines, %ld delivery events, %ld deliveries changed, %ld bounces recorded\n", path, st->lines,
               st->events, st->changed, st->bounces);
    }
    fflush(stdout);
}

static int mta_follow(struct cli *c, int argc, char **argv)
{
    static const struct option opts[] = {
        { "once", no_argument, NULL, 'o' },
        { "settle", required_argument, NULL, 's' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    bool once = false;
    char why[128];
    int opt;
    struct mail_settings set = mail_settings;
    bool settle_given = false;
    while ((opt = cli_parse(c, argc, argv, "h", opts)) != -1) {
        switch (opt) {
        case 'o': once = true; break;
        case 's':
            if (settings_set(mail_table, "settle", optarg, &set, why, sizeof(why)) < 0)
                cli_usage(c, "--settle %s", why);
            settle_given = true;
            break;
        }
    }
    if (optind + 1 < argc)
        cli_usage(c, "unexpected argument '%s'", argv[optind + 1]);
    const char *file = optind < argc ? argv[optind] : mail_settings.mta_log;
    if (!file || !*file)
        cli_usage(c, "FILE: name Postfix's log (or set [mta] log)");
    unsigned settle = once && !settle_given ? 0 : set.mta_settle_s;
    PGconn *conn = cli_db(c);
    char *path = mta_watch_path_key(file);
    char err[1024];
    struct mta_watch_stats st = { 0 };
    int rc = 0;
    if (once) {
        if (mta_watch_once(conn, path, settle, &st, err, sizeof(err)) < 0) {
            log_error("mta: %s", err);
            rc = 1;
        } else
            print_stats(c, path, &st);
        xfree(path);
        return rc;
    }
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    log_info("mta: following %s", path);
    while (!stopping) {
        struct mta_watch_stats round = { 0 };
        if (mta_watch_once(conn, path, settle, &round, err, sizeof(err)) < 0)
            log_warn("mta: %s (trying again)", err);
        else if (round.changed)
            log_info("mta: %ld log lines, %ld delivery events, %ld deliveries changed, %ld bounces", round.lines,
                     round.events, round.changed, round.bounces);
        st.lines += round.lines;
        st.events += round.events;
        st.changed += round.changed;
        st.bounces += round.bounces;
        struct timespec ts = { mail_settings.mta_poll_ms / 1000, (long)(mail_settings.mta_poll_ms % 1000) * 1000000L };
        nanosleep(&ts, NULL);
    }
    print_stats(c, path, &st);
    xfree(path);
    return 0;
}

static const struct cli_command mta_commands[] = {
    { "follow", mta_follow, NULL },
    { NULL, NULL, NULL },
};

/* cmd_mta - postino mta SUBCOMMAND. */
int cmd_mta(struct cli *c, int argc, char **argv)
{
    c->usage = mta_usage;
    return cli_dispatch(c, mta_commands, "mta", argc, argv);
}
