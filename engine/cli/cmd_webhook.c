/*
 * cmd_webhook - postino webhook add | ls | show | set | enable | disable | rm | test | log | replay,
 * and postino webhooks (the worker alone).
 *
 * An endpoint is named by its id. Its secret is read from a file (never from
 * the command line) or made here; a secret made here is printed once, when
 * the endpoint is added, and never again by any command.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "engine/cli/cli.h"
#include "engine/send/webhook_input.h"
#include "engine/send/webhooks.h"
#include "engine/store/webhooks.h"
#include "engine/util/alloc.h"
#include "engine/util/file.h"
#include "engine/util/log.h"
#include "engine/util/str.h"

static const char webhook_usage[] =
    "usage: postino webhook add URL --events E1,E2,... [--secret-file FILE] [--description TEXT]\n"
    "       postino webhook ls | show ID | rm ID | enable ID | disable ID\n"
    "       postino webhook set ID --events E1,E2,...\n"
    "       postino webhook test ID            (send a signed webhook.test event now)\n"
    "       postino webhook log ID [--limit N] [--before ATTEMPT_ID]\n"
    "       postino webhook replay ID (--event EVENT_ID | --since TIME [--until TIME])\n"
    "       postino webhooks                   (the delivering worker alone; serve runs one too)\n"
    "\n"
    "Events (--events '*' for all): subscriber.created subscriber.updated subscriber.confirmed\n"
    "subscriber.unsubscribed subscriber.erased delivery.sent delivery.deferred delivery.failed\n"
    "bounce.recorded complaint.recorded email.opened email.clicked campaign.started\n"
    "campaign.paused campaign.finished import.finished\n"
    "\n"
    "Messages are signed as Standard Webhooks says (webhook-id, webhook-timestamp,\n"
    "webhook-signature). Without --secret-file a secret (whsec_...) is made and\n"
    "printed once. An endpoint on a loopback, link-local or private address is\n"
    "refused unless [webhooks] allow_private = true.\n";

static long long id_arg(struct cli *c, const char *arg)
{
    long v;
    if (str_parse_long(arg, 1, 9007199254740991L, &v) < 0)
        cli_usage(c, "a webhook is named by its id (a number), not '%s'", arg);
    return v;
}

/* split LIST at commas into NAMES (at most MAX); their number */
static size_t split_events(char *list, const char **names, size_t max)
{
    size_t n = 0;
    for (char *tok = strtok(list, ","); tok && n < max; tok = strtok(NULL, ","))
        names[n++] = str_trim(tok);
    return n;
}

static const char *str_or(json_t *j, const char *key, const char *dflt)
{
    json_t *v = json_object_get(j, key);
    return json_is_string(v) ? json_string_value(v) : dflt;
}

static void print_events(json_t *w)
{
    json_t *ev;
    size_t i;
    json_array_foreach(json_object_get(w, "events"), i, ev) printf("%s%s", i ? "," : "", json_string_value(ev));
}

static void print_webhook(json_t *w)
{
    printf("%-5lld %-9s %6lld %5lld  %-40s ", json_integer_value(json_object_get(w, "id")), str_or(w, "state", "?"),
           json_integer_value(json_object_get(w, "queued")), json_integer_value(json_object_get(w, "dead")),
           str_or(w, "url", ""));
    print_events(w);
    putchar('\n');
    if (!json_is_true(json_object_get(w, "enabled")))
        printf("      disabled: %s\n", str_or(w, "disabled_reason", "by hand"));
}

static int webhook_add(struct cli *c, int argc, char **argv)
{
    static const struct option opts[] = {
        { "events", required_argument, NULL, 'e' },      { "secret-file", required_argument, NULL, 's' },
        { "description", required_argument, NULL, 'd' }, { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    char *events = NULL;
    const char *secret_file = NULL, *description = NULL;
    int opt;
    while ((opt = cli_parse(c, argc, argv, "h", opts)) != -1) {
        switch (opt) {
        case 'e': events = optarg; break;
        case 's': secret_file = optarg; break;
        case 'd': description = optarg; break;
        }
    }
    const char *url = cli_operand(c, argc, argv, "URL");
    if (!events)
        cli_usage(c, "webhook add needs --events (e.g. --events subscriber.created,delivery.failed)");
    const char *names[64];
    struct webhook_input in = { .url = url, .events = names, .description = description };
    in.n_events = split_events(events, names, 64);
    struct buf secret = BUF_INIT;
    char err[512];
    if (secret_file) {
        if (file_read(secret_file, 4096, &secret, err, sizeof(err)) < 0)
            log_fatal("%s", err);
        while (secret.len && (secret.data[secret.len - 1] == '\n' || secret.data[secret.len - 1] == '\r'))
            buf_truncate(&secret, secret.len - 1);
        in.secret = buf_cstr(&secret);
    }
    struct webhook_checked ck;
    struct webhook_why why;
    int rc = webhook_input_check(&in, webhooks_allow_private(), &ck, &why);
    if (secret.data)
        OPENSSL_cleanse(secret.data, secret.len);
    buf_free(&secret);
    if (rc < 0)
        cli_usage(c, "%s", why.why);
    struct webhook_def d = { url, buf_cstr(&ck.events), buf_cstr(&ck.secret), description };
    struct store_err e;
    json_t *out = NULL;
    if (store_webhook_add(cli_db(c), &d, &out, &e) < 0) {
        webhook_input_free(&ck);
        return cli_fail(&e);
    }
    if (c->json) {
        if (ck.secret_made)
            json_object_set_new(out, "secret", json_string(buf_cstr(&ck.secret)));
        cli_print_json(out);
    } else {
        printf("added webhook %lld: %s (", json_integer_value(json_object_get(out, "id")), url);
        print_events(out);
        printf(")\n");
        if (ck.secret_made)
            printf("secret: %s\n(shown this once: keep it where the receiver can read it)\n", buf_cstr(&ck.secret));
    }
    json_decref(out);
    webhook_input_free(&ck);
    return 0;
}

static const struct option plain_opts[] = { { "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 } };

static long long parse_id_only(struct cli *c, int argc, char **argv)
{
    while (cli_parse(c, argc, argv, "h", plain_opts) != -1)
        ;
    return id_arg(c, cli_operand(c, argc, argv, "webhook id"));
}

static int webhook_ls(struct cli *c, int argc, char **argv)
{
    cli_no_operands(c, argc, argv);
    struct store_err e;
    json_t *arr, *w;
    size_t i;
    if (store_webhook_ls(cli_db(c), &arr, &e) < 0)
        return cli_fail(&e);
    if (c->json) {
        cli_print_json(arr);
    } else {
        printf("%-5s %-9s %6s %5s  %-40s %s\n", "ID", "STATE", "QUEUED", "DEAD", "URL", "EVENTS");
        json_array_foreach(arr, i, w) print_webhook(w);
    }
    json_decref(arr);
    return 0;
}

static int webhook_show(struct cli *c, int argc, char **argv)
{
    long long id = parse_id_only(c, argc, argv);
    struct store_err e;
    json_t *w;
    if (store_webhook_get(cli_db(c), id, &w, &e) < 0)
        return cli_fail(&e);
    cli_print_json(w);
    json_decref(w);
    return 0;
}

static int print_changed(struct cli *c, json_t *w, const char *what)
{
    if (c->json)
        cli_print_json(w);
    else
        printf("webhook %lld %s\n", json_integer_value(json_object_get(w, "id")), what);
    json_decref(w);
    return 0;
}

static int webhook_enable(struct cli *c, int argc, char **argv)
{
    long long id = parse_id_only(c, argc, argv);
    struct store_err e;
    json_t *w;
    if (store_webhook_update(cli_db(c), id, 1, NULL, &w, &e) < 0)
        return cli_fail(&e);
    return print_changed(c, w, "enabled");
}

static int webhook_disable(struct cli *c, int argc, char **argv)
{
    long long id = parse_id_only(c, argc, argv);
    struct store_err e;
    json_t *w;
    if (store_webhook_update(cli_db(c), id, 0, NULL, &w, &e) < 0)
        return cli_fail(&e);
    return print_changed(c, w, "disabled");
}

static int webhook_set(struct cli *c, int argc, char **argv)
{
    static const struct option opts[] = {
        { "events", required_argument, NULL, 'e' }, { "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 },
    };
    char *events = NULL;
    int opt;
    while ((opt = cli_parse(c, argc, argv, "h", opts)) != -1)
        if (opt == 'e')
            events = optarg;
    long long id = id_arg(c, cli_operand(c, argc, argv, "webhook id"));
    if (!events)
        cli_usage(c, "webhook set needs --events");
    const char *names[64];
    size_t n = split_events(events, names, 64);
    struct buf lit = BUF_INIT;
    struct webhook_why why;
    if (webhook_events_literal(names, n, &lit, &why) < 0)
        cli_usage(c, "%s", why.why);
    struct store_err e;
    json_t *w;
    int rc = store_webhook_update(cli_db(c), id, -1, buf_cstr(&lit), &w, &e);
    buf_free(&lit);
    if (rc < 0)
        return cli_fail(&e);
    return print_changed(c, w, "changed");
}

static int webhook_rm(struct cli *c, int argc, char **argv)
{
    long long id = parse_id_only(c, argc, argv);
    struct store_err e;
    if (store_webhook_rm(cli_db(c), id, &e) < 0)
        return cli_fail(&e);
    if (!c->json)
        printf("removed webhook %lld\n", id);
    return 0;
}

static int webhook_test(struct cli *c, int argc, char **argv)
{
    long long id = parse_id_only(c, argc, argv);
    struct store_err e;
    struct buf url = BUF_INIT, secret = BUF_INIT;
    if (store_webhook_secret(cli_db(c), id, &url, &secret, &e) < 0)
        return cli_fail(&e);
    struct http_result r;
    int rc = webhook_probe(id, buf_cstr(&url), buf_cstr(&secret), &r);
    OPENSSL_cleanse(secret.data, secret.len);
    buf_free(&secret);
    buf_free(&url);
    if (store_webhook_note(cli_db(c), id, "webhook.test", r.status, (int)r.latency_ms,
                           r.error[0] ? r.error : (rc < 0 ? "not a 2xx answer" : NULL), &e) < 0)
        log_warn("%s", e.msg);
    if (c->json) {
        json_t *j = json_pack("{s:I, s:b, s:o, s:I, s:s}", "webhook", (json_int_t)id, "ok", rc == 0, "status",
                              r.status ? json_integer(r.status) : json_null(), "latency_ms", (json_int_t)r.latency_ms,
                              "error", r.error);
        cli_print_json(j);
        json_decref(j);
    } else if (rc == 0) {
        printf("webhook %lld: HTTP %d in %ld ms\n", id, r.status, r.latency_ms);
    } else if (r.error[0]) {
        log_error("webhook %lld: %s (after %ld ms)", id, r.error, r.latency_ms);
    } else {
        log_error("webhook %lld: HTTP %d in %ld ms", id, r.status, r.latency_ms);
    }
    return rc == 0 ? 0 : 1;
}

static int webhook_log(struct cli *c, int argc, char **argv)
{
    static const struct option opts[] = {
        { "limit", required_argument, NULL, 'l' }, { "before", required_argument, NULL, 'b' },
        { "help", no_argument, NULL, 'h' },        { NULL, 0, NULL, 0 },
    };
    long limit = 50, before = 0;
    int opt;
    while ((opt = cli_parse(c, argc, argv, "h", opts)) != -1) {
        if (opt == 'l' && str_parse_long(optarg, 1, 1000, &limit) < 0)
            cli_usage(c, "--limit takes a number from 1 to 1000");
        if (opt == 'b' && str_parse_long(optarg, 1, 9007199254740991L, &before) < 0)
            cli_usage(c, "--before takes an attempt id");
    }
    long long id = id_arg(c, cli_operand(c, argc, argv, "webhook id"));
    struct store_err e;
    json_t *arr, *a;
    size_t i;
    if (store_webhook_log(cli_db(c), id, (int)limit, before, &arr, &e) < 0)
        return cli_fail(&e);
    if (c->json) {
        cli_print_json(arr);
    } else {
        printf("%-8s %-32s %-9s %-24s %6s %7s  %s\n", "ATTEMPT", "AT", "EVENT", "TYPE", "STATUS", "MS", "ERROR");
        json_array_foreach(arr, i, a)
        {
            char st[16] = "-";
            if (json_is_integer(json_object_get(a, "status")))
                snprintf(st, sizeof(st), "%lld", json_integer_value(json_object_get(a, "status")));
            printf("%-8lld %-32s %-9lld %-24s %6s %7lld  %s\n", json_integer_value(json_object_get(a, "id")),
                   str_or(a, "at", ""), json_integer_value(json_object_get(a, "event_id")), str_or(a, "type", ""), st,
                   json_integer_value(json_object_get(a, "latency_ms")), str_or(a, "error", ""));
        }
    }
    json_decref(arr);
    return 0;
}

static int webhook_replay(struct cli *c, int argc, char **argv)
{
    static const struct option opts[] = {
        { "event", required_argument, NULL, 'e' }, { "since", required_argument, NULL, 's' },
        { "until", required_argument, NULL, 'u' }, { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    long event = 0;
    const char *since = NULL, *until = NULL;
    int opt;
    while ((opt = cli_parse(c, argc, argv, "h", opts)) != -1) {
        if (opt == 'e' && str_parse_long(optarg, 1, 9007199254740991L, &event) < 0)
            cli_usage(c, "--event takes an event id (webhook log shows them)");
        if (opt == 's')
            since = optarg;
        if (opt == 'u')
            until = optarg;
    }
    long long id = id_arg(c, cli_operand(c, argc, argv, "webhook id"));
    if (!event == !since)
        cli_usage(c, "webhook replay needs --event EVENT_ID or --since TIME (not both)");
    if (until && !since)
        cli_usage(c, "--until goes with --since");
    struct store_err e;
    long long n = 0;
    if (store_webhook_replay(cli_db(c), id, event, since, until, &n, &e) < 0)
        return cli_fail(&e);
    if (c->json) {
        json_t *j = json_pack("{s:I, s:I}", "webhook", (json_int_t)id, "queued", (json_int_t)n);
        cli_print_json(j);
        json_decref(j);
    } else {
        printf("webhook %lld: %lld event%s queued again\n", id, n, n == 1 ? "" : "s");
    }
    return 0;
}

static const struct cli_command webhook_commands[] = {
    { "add", webhook_add, NULL },         { "ls", webhook_ls, NULL },         { "show", webhook_show, NULL },
    { "set", webhook_set, NULL },         { "enable", webhook_enable, NULL }, { "disable", webhook_disable, NULL },
    { "rm", webhook_rm, NULL },           { "test", webhook_test, NULL },     { "log", webhook_log, NULL },
    { "replay", webhook_replay, NULL },   { NULL, NULL, NULL },
};

/* cmd_webhook - postino webhook SUBCOMMAND. */
int cmd_webhook(struct cli *c, int argc, char **argv)
{
    c->usage = webhook_usage;
    return cli_dispatch(c, webhook_commands, "webhook", argc, argv);
}

/* cmd_webhooks - postino webhooks: the worker alone, until SIGINT or SIGTERM. */
int cmd_webhooks(struct cli *c, int argc, char **argv)
{
    c->usage = webhook_usage;
    optind = 0;
    cli_no_operands(c, argc, argv);
    cli_db(c);
    return webhooks_run(c->target.conninfo) < 0 ? 1 : 0;
}
