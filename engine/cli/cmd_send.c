/*
 * cmd_send - postino send (a sender alone) and postino serve (the scheduler
 * and the sender pool; the API joins it when it is built in).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/cli/cli.h"
#include "engine/send/sender.h"
#include "engine/util/log.h"
#include "engine/util/str.h"

static const char send_usage[] =
    "usage: postino send [--until-done] [--name NAME] [--batch N] [--max-inflight N]\n"
    "       postino serve [--until-done]\n"
    "\n"
    "A sender claims deliveries of running campaigns (and starts scheduled ones\n"
    "whose time has come), renders and signs each message on worker threads and\n"
    "sends it through the relays. Run as many as you like, on as many machines:\n"
    "they share the work through the database. --until-done stops once no\n"
    "campaign is running and nothing is in flight. SIGTERM finishes what is in\n"
    "flight, records it, and stops.\n";

static int run_sender(struct cli *c, int argc, char **argv)
{
    static const struct option opts[] = {
        { "until-done", no_argument, NULL, 'u' },          { "name", required_argument, NULL, 'n' },
        { "batch", required_argument, NULL, 'b' },         { "max-inflight", required_argument, NULL, 'm' },
        { "help", no_argument, NULL, 'h' },                { NULL, 0, NULL, 0 },
    };
    struct sender_config cfg;
    int opt;
    long v;
    c->usage = send_usage;
    optind = 0;
    sender_config_from_conf(&cfg);
    while ((opt = cli_parse(c, argc, argv, "h", opts)) != -1) {
        switch (opt) {
        case 'u': cfg.until_done = true; break;
        case 'n': cfg.name = optarg; break;
        case 'b':
            if (str_parse_long(optarg, 1, 100000, &v) < 0)
                cli_usage(c, "--batch must be from 1 to 100000");
            cfg.batch = (unsigned)v;
            break;
        case 'm':
            if (str_parse_long(optarg, 1, 1000000, &v) < 0)
                cli_usage(c, "--max-inflight must be from 1 to 1000000");
            cfg.max_inflight = (unsigned)v;
            break;
        }
    }
    if (optind < argc)
        cli_usage(c, "unexpected argument '%s'", argv[optind]);
    /* the connection proves the database is there and migrated; the sender opens its own */
    cli_db(c);
    cfg.conninfo = c->target.conninfo;
    if (!getenv("UV_THREADPOOL_SIZE")) {
        char n[24];
        long cpus = sysconf(_SC_NPROCESSORS_ONLN);
        snprintf(n, sizeof(n), "%ld", cpus > 0 ? cpus : 2);
        setenv("UV_THREADPOOL_SIZE", n, 0);
    }
    return sender_run(&cfg) < 0 ? 1 : 0;
}

/* cmd_send - postino send. */
int cmd_send(struct cli *c, int argc, char **argv)
{
    return run_sender(c, argc, argv);
}

/* cmd_serve - postino serve: today the scheduler and senders. */
int cmd_serve(struct cli *c, int argc, char **argv)
{
    return run_sender(c, argc, argv);
}
