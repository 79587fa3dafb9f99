/*
 * cmd_send - postino send (a sender alone) and postino serve (the scheduler
 * and the sender pool; the API joins it when it is built in).
 */
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api/server.h"
#include "engine/cli/cli.h"
#include "engine/send/bounce_fetch.h"
#include "engine/send/mta_watch.h"
#include "engine/send/sender.h"
#include "engine/send/webhooks.h"
#include "engine/send/settings_send.h"
#include "engine/store/pacing.h"
#include "engine/util/alloc.h"
#include "engine/util/log.h"
#include "engine/util/notify.h"
#include "engine/util/str.h"

static const char send_usage[] =
    "usage: postino send [--until-done] [--name NAME] [--batch N] [--max-inflight N]\n"
    "       postino serve [--until-done]\n"
    "\n"
    "A sender claims deliveries of running campaigns (and starts scheduled ones\n"
    "whose time has come), renders and signs each message on worker threads and\n"
    "sends it through the relays. Run as many as you like, on as many machines:\n"
    "they share the work through the database. --until-done stops once no\n"
    "campaign is running and nothing is in flight (a campaign whose every\n"
    "delivery left waits for a later day's warm-up counts as not running; how\n"
    "many wait, and until when, is said at the end). SIGTERM finishes what is in\n"
    "flight within [send] drain_timeout, records it, releases the rest to the\n"
    "ledger, and stops. SIGHUP reads the configuration ([log], [send]) and the\n"
    "relays again. Under systemd (Type=notify) it tells when it is ready.\n";

static int run_sender(struct cli *c, int argc, char **argv)
{
    static const struct option opts[] = {
        { "until-done", no_argument, NULL, 'u' },          { "name", required_argument, NULL, 'n' },
        { "batch", required_argument, NULL, 'b' },         { "max-inflight", required_argument, NULL, 'm' },
        { "help", no_argument, NULL, 'h' },                { NULL, 0, NULL, 0 },
    };
    struct sender_config cfg;
    int opt;
    char why[128];
    c->usage = send_usage;
    optind = 0;
    sender_config_init(&cfg);
    while ((opt = cli_parse(c, argc, argv, "h", opts)) != -1) {
        switch (opt) {
        case 'u': cfg.until_done = true; break;
        case 'n': cfg.name = optarg; break;
        case 'b':
            if (settings_set(send_table, "batch", optarg, &cfg.set, why, sizeof(why)) < 0)
                cli_usage(c, "--batch %s", why);
            cfg.batch_given = true;
            break;
        case 'm':
            if (settings_set(send_table, "max_inflight", optarg, &cfg.set, why, sizeof(why)) < 0)
                cli_usage(c, "--max-inflight %s", why);
            cfg.max_inflight_given = true;
            break;
        }
    }
    if (optind < argc)
        cli_usage(c, "unexpected argument '%s'", argv[optind]);
    /* a reload asked while starting waits for the sender's handler (sender_run unblocks it) */
    sigset_t hup;
    sigemptyset(&hup);
    sigaddset(&hup, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &hup, NULL);
    /* the connection proves the database is there and migrated; the sender opens its own */
    cli_db(c);
    cfg.conninfo = c->target.conninfo;
    cfg.reload = settings_reload;
    if (!getenv("UV_THREADPOOL_SIZE")) {
        char n[24];
        long cpus = sysconf(_SC_NPROCESSORS_ONLN);
        snprintf(n, sizeof(n), "%ld", cpus > 0 ? cpus + 1 : 3); /* signing threads, one more than cores: the loop thread mostly waits */
        setenv("UV_THREADPOOL_SIZE", n, 0);
    }
    if (sender_run(&cfg) < 0)
        return 1;
    if (cfg.until_done) {
        /* done, but what waits for a later day's warm-up is said, not hidden */
        long waiting = 0;
        char until[64];
        struct store_err e;
        if (store_warmup_waiting(cli_db(c), &waiting, until, sizeof(until), &e) < 0)
            return cli_fail(&e);
        if (waiting > 0)
            log_info("sender: %ld deliveries wait for their warm-up's next day, until %s", waiting, until);
    }
    return 0;
}

/* cmd_send - postino send. */
int cmd_send(struct cli *c, int argc, char **argv)
{
    return run_sender(c, argc, argv);
}

static const char serve_usage[] =
    "usage: postino serve [--listen ADDR:PORT] [--tls-cert FILE --tls-key FILE] [--no-send] [--no-webhooks]\n"
    "                     [--until-done] [--name NAME] [--batch N] [--max-inflight N]\n"
    "\n"
    "The REST API (on [http] listen, default 127.0.0.1:8080) beside the scheduler\n"
    "and a sender in the same process; with --no-send the API alone, until\n"
    "SIGINT or SIGTERM (SIGHUP: [log] read again). With --tls-cert and --tls-key (PEM files; [http] tls_cert,\n"
    "tls_key) it answers HTTPS itself; otherwise put it behind a TLS proxy.\n"
    "It delivers webhooks too (as postino webhooks does) unless --no-webhooks.\n"
    "With [mta] log set, it also follows Postfix's log (as postino mta follow).\n"
    "The other options are those of postino send.\n";

/* serve_value - the value of option NAME at ARGV[*I] ("--name V" or "--name=V"), or NULL when it is another */
static const char *serve_value(struct cli *c, int argc, char **argv, int *i, const char *name)
{
    size_t n = strlen(name);
    if (strncmp(argv[*i], name, n) != 0)
        return NULL;
    if (argv[*i][n] == '=')
        return argv[*i] + n + 1;
    if (argv[*i][n] != '\0')
        return NULL;
    if (*i + 1 >= argc)
        cli_usage(c, "option %s needs a value", name);
    return argv[++*i];
}

/* serve_take_options - take the API's options and --help out of ARGV into CFG; the new argc */
static int serve_take_options(struct cli *c, int argc, char **argv, struct api_server_config *cfg, bool *no_send,
                              bool *no_webhooks)
{
    int out = 1;
    const char *v;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--no-send") == 0) {
            *no_send = true;
        } else if (strcmp(argv[i], "--no-webhooks") == 0) {
            *no_webhooks = true;
        } else if ((v = serve_value(c, argc, argv, &i, "--listen"))) {
            cfg->set.listen = v;
        } else if ((v = serve_value(c, argc, argv, &i, "--tls-cert"))) {
            cfg->set.tls_cert = v;
        } else if ((v = serve_value(c, argc, argv, &i, "--tls-key"))) {
            cfg->set.tls_key = v;
        } else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            fputs(serve_usage, stdout);
            exit(0);
        } else {
            argv[out++] = argv[i];
        }
    }
    argv[out] = NULL;
    return out;
}

/* cmd_serve - postino serve: the API, and (unless --no-send) the scheduler and a sender. */
int cmd_serve(struct cli *c, int argc, char **argv)
{
    struct api_server_config cfg;
    bool no_send = false, no_webhooks = false;
    char err[512];
    c->usage = serve_usage;
    cfg.set = api_settings;
    argc = serve_take_options(c, argc, argv, &cfg, &no_send, &no_webhooks);
    if (no_send && argc > 1)
        cli_usage(c, "unexpected argument '%s' with --no-send", argv[1]);
    if (!cfg.set.tls_cert != !cfg.set.tls_key)
        cli_usage(c, "--tls-cert and --tls-key go together");
    cli_db(c);
    cfg.conninfo = c->target.conninfo;
    char *spool = cfg.set.spool_dir ? NULL : xasprintf("%s/spool", cli_settings.db.dir);
    if (spool)
        cfg.set.spool_dir = spool;
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    sigaddset(&stop, SIGHUP);
    /*
     * The server's threads never see a stop signal (they inherit this mask).
     * With --no-send this thread waits for it; otherwise it stays pending
     * until the sender has its handlers (sender_run unblocks it then), so a
     * signal during the sender's start stops it cleanly instead of killing.
     */
    pthread_sigmask(SIG_BLOCK, &stop, NULL);
    struct api_server *api = api_server_start(&cfg, err, sizeof(err));
    if (!api) {
        log_error("%s", err);
        xfree(spool);
        return 1;
    }
    struct webhooks_thread *wh = no_webhooks ? NULL : webhooks_thread_start(cfg.conninfo);
    struct mta_watch *mta = NULL;
    if (mail_settings.mta_log && *mail_settings.mta_log &&
        !(mta = mta_watch_start(cfg.conninfo, mail_settings.mta_log, mail_settings.mta_poll_ms,
                                mail_settings.mta_settle_s, err, sizeof(err))))
        log_warn("%s", err);
    struct bounce_fetch *bf = NULL;
    if (mail_settings.bounce_mailbox && *mail_settings.bounce_mailbox) {
        struct bounce_fetch_config *bcfg = xmalloc(sizeof(*bcfg));
        if (bounce_fetch_config(bcfg, err, sizeof(err)) < 0 ||
            !(bf = bounce_fetch_start(cfg.conninfo, bcfg, err, sizeof(err))))
            log_warn("%s", err);
        explicit_bzero(bcfg->password, sizeof(bcfg->password));
        xfree(bcfg);
    }
    int rc = 0;
    if (no_send) {
        int sig = 0;
        notify_ready("serving the API");
        while (sigwait(&stop, &sig) == 0 && sig == SIGHUP) {
            notify_reloading();
            if (settings_reload(NULL, err, sizeof(err)) < 0)
                log_error("reload: %s; the running configuration stays", err);
            else
                log_info("reload: the configuration was read again; [log] applies now, the other sections at the next start");
            notify_ready("serving the API");
        }
        notify_stopping();
        log_info("api: signal %d: stopping", sig);
    } else {
        rc = run_sender(c, argc, argv);
    }
    webhooks_thread_stop(wh);
    mta_watch_stop(mta);
    bounce_fetch_stop(bf);
    api_server_stop(api);
    xfree(spool);
    return rc;
}
