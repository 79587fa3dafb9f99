/*
 * main - the postino command: global options, configuration, dispatch.
 *
 * Global options may stand anywhere before "--": --config FILE, --db CONNINFO,
 * --json, --log-format text|json|journal, --log-level LEVEL. They are taken out of
 * argv before the subcommand parses its own.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/cli/cli.h"
#include "engine/util/conf.h"
#include "engine/util/log.h"

static const char main_usage[] =
    "usage: postino [--config FILE] [--db CONNINFO] [--json] [--log-format text|json|journal]\n"
    "               [--log-level debug|info|warning|error] COMMAND ...\n"
    "\n"
    "commands:\n"
    "  config      show                                    (every setting, its value and where it came from)\n"
    "  db          init | migrate | status | start | stop   (the database and its schema)\n"
    "              | psql [--read-only] | backup FILE | restore FILE\n"
    "  list        create | ls | show | rm                  (mailing lists)\n"
    "  subscriber  add | ls | show | rm | blocklist | bulk  (subscribers)\n"
    "  import      FILE --list NAME [options]               (subscribers from CSV or XML)\n"
    "  export      --list NAME [--segment S] [--format F]   (subscribers as CSV or JSON, streamed)\n"
    "  segment     add | ls | show | set | count | rm       (part of an audience, by a filter)\n"
    "  template    add | ls | show | rm                     (layouts campaigns go in)\n"
    "  campaign    create | ls | show | preview | schedule | send | pause | resume | cancel | test | stats\n"
    "              | retry | rm | clone | ab | archive   (ab: an A/B test's results and winner;\n"
    "              archive: a finished campaign's deliveries out of the hot ledger)\n"
    "  dkim        add | ls | record | rm                   (DKIM keys and their DNS records)\n"
    "  dns         DOMAIN --ip ADDR                         (the SPF, DKIM and DMARC records to publish)\n"
    "              | check DOMAIN [--ip ADDR]               (what the DNS says now, each finding with its fix)\n"
    "  relay       add | ls | rm | test                     (the SMTP submission servers to send through)\n"
    "  send        [--until-done]                           (a sender: claims, renders, signs, submits)\n"
    "  serve       [--listen ADDR:PORT] [--no-send]         (the API, the scheduler and senders)\n"
    "  user        add | ls | passwd | disable | enable | rm  (who may use the API)\n"
    "  token       create | ls | rm                         (API tokens)\n"
    "  bounce      [< MESSAGE] | ls | show | policy | rules (what came back: DSNs, complaints)\n"
    "  media       add | ls | rm                          (images for campaigns, served at /m/)\n"
    "  webhook     add | ls | show | set | enable | disable | rm | test | log | replay  (signed HTTP callbacks)\n"
    "  webhooks                                            (deliver webhooks: the worker alone)\n"
    "  mta         follow [FILE] [--once]                   (what Postfix did with each message, from its log)\n"
    "  setup       --domain DOMAIN [--dry-run] ...          (as root: user, database, Postfix, keys, DNS records)\n"
    "  provider    ls | show | add | set | rm | match | stats | pace | rate-text\n"
    "                                                       (mailbox providers: domains, hosts, counts, pace)\n"
    "  warmup      set | ls | show | rm | curves            (daily caps that grow, per sending domain or relay)\n"
    "\n"
    "With no --db, POSTINO_DB or [db] url, postino uses its private PostgreSQL\n"
    "cluster in ./var/pg, started on demand. 'postino COMMAND --help' for more.\n"
    "Exit status: 0 success, 1 failure, 2 usage.\n";

static const struct cli_command commands[] = {
    { "config", cmd_config, "the settings" },
    { "db", cmd_db, "the database" },
    { "list", cmd_list, "mailing lists" },
    { "subscriber", cmd_subscriber, "subscribers" },
    { "import", cmd_import, "import subscribers" },
    { "export", cmd_export, "export subscribers" },
    { "segment", cmd_segment, "segments" },
    { "template", cmd_template, "templates" },
    { "campaign", cmd_campaign, "campaigns" },
    { "dkim", cmd_dkim, "DKIM keys" },
    { "dns", cmd_dns, "DNS records to publish" },
    { "relay", cmd_relay, "relays" },
    { "send", cmd_send, "a sender" },
    { "serve", cmd_serve, "scheduler and senders" },
    { "user", cmd_user, "API users" },
    { "token", cmd_token, "API tokens" },
    { "bounce", cmd_bounce, "bounces" },
    { "media", cmd_media, "images" },
    { "webhook", cmd_webhook, "webhook endpoints" },
    { "webhooks", cmd_webhooks, "the webhook worker" },
    { "mta", cmd_mta, "Postfix's delivery log" },
    { "setup", cmd_setup, "this machine, made ready" },
    { "provider", cmd_provider, "mailbox providers" },
    { "warmup", cmd_warmup, "warm-up schedules" },
    { NULL, NULL, NULL },
};

struct globals {
    const char *config, *db, *log_format, *log_level;
    int json;
};

/* take_value - the value of option NAME at ARGV[*I] ("--name v" or "--name=v"), or NULL */
static const char *take_value(int argc, char **argv, int *i, const char *name, int *consumed)
{
    size_t n = strlen(name);
    const char *a = argv[*i];
    if (strncmp(a, name, n) != 0)
        return NULL;
    if (a[n] == '=') {
        *consumed = 1;
        return a + n + 1;
    }
    if (a[n] != 0)
        return NULL;
    if (*i + 1 >= argc) {
        fprintf(stderr, "postino: error: option %s needs a value\n%s", name, main_usage);
        exit(EXIT_USAGE);
    }
    *consumed = 2;
    return argv[*i + 1];
}

static int strip_globals(int argc, char **argv, struct globals *g)
{
    int out = 1;
    for (int i = 1; i < argc;) {
        int consumed = 0;
        const char *v;
        if (strcmp(argv[i], "--") == 0) {
            while (i < argc)
                argv[out++] = argv[i++];
            break;
        }
        if ((v = take_value(argc, argv, &i, "--config", &consumed)))
            g->config = v;
        else if ((v = take_value(argc, argv, &i, "--db", &consumed)))
            g->db = v;
        else if ((v = take_value(argc, argv, &i, "--log-format", &consumed)))
            g->log_format = v;
        else if ((v = take_value(argc, argv, &i, "--log-level", &consumed)))
            g->log_level = v;
        else if (strcmp(argv[i], "--json") == 0)
            g->json = 1, consumed = 1;
        if (consumed) {
            i += consumed;
            continue;
        }
        argv[out++] = argv[i++];
    }
    argv[out] = NULL;
    return out;
}

int main(int argc, char **argv)
{
    struct globals g = { 0 };
    struct cli c = { 0 };
    char err[512];

    argc = strip_globals(argc, argv, &g);
    if (conf_load(g.config, err, sizeof(err)) < 0) {
        fprintf(stderr, "postino: fatal: %s\n", err);
        return 1;
    }
    if (settings_load_all(err, sizeof(err)) < 0) {
        fprintf(stderr, "postino: fatal: %s\n", err);
        return 1;
    }
    if (cli_log_setup(g.log_level, g.log_format) < 0) {
        fprintf(stderr, "postino: error: log level must be debug|info|warning|error and format text|json|journal\n");
        return EXIT_USAGE;
    }
    c.json = g.json;
    c.db = g.db;
    c.usage = main_usage;
    if (argc < 2) {
        fputs(main_usage, stderr);
        return EXIT_USAGE;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "help") == 0) {
        fputs(main_usage, stdout);
        return 0;
    }
    if (strcmp(argv[1], "--version") == 0) {
        puts("postino 0.1");
        return 0;
    }
    int rc = -1;
    for (const struct cli_command *cmd = commands; cmd->name; cmd++)
        if (strcmp(cmd->name, argv[1]) == 0)
            rc = cmd->run(&c, argc - 1, argv + 1);
    if (rc == -1)
        cli_usage(&c, "unknown command '%s'", argv[1]);
    fflush(stdout);
    if (ferror(stdout)) {
        fprintf(stderr, "postino: error: cannot write output\n");
        rc = 1;
    }
    cli_close(&c);
    conf_free();
    return rc;
}
