/*
 * cmd_warmup - postino warmup set | ls | show | rm | curves: daily caps that
 * grow, per sending domain or relay (engine/store/pacing.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/cli/cli.h"
#include "engine/store/pacing.h"

static const char warmup_usage[] =
    "usage: postino warmup set DOMAIN|relay:NAME (--days 50,100,500,... | --curve NAME) [--start YYYY-MM-DD] [--json]\n"
    "       postino warmup ls [--json]\n"
    "       postino warmup show DOMAIN|relay:NAME [--json]\n"
    "       postino warmup rm DOMAIN|relay:NAME\n"
    "       postino warmup curves [--json]\n"
    "A warm-up caps the mail of a sending domain (the From address's) or a relay\n"
    "each UTC day: the first day's cap is the first of --days, and so on; after\n"
    "the last day there is no cap. Every sender counts against the same caps.\n"
    "What is over today's cap stays queued until the next day (campaign stats\n"
    "and warmup ls show how many wait). A relay's cap counts the mail of\n"
    "campaigns naming it and of campaigns naming no relay. --curve: a named\n"
    "curve (warmup curves lists them). --start: day 1 (default today; kept when\n"
    "changed). rm: what waited for it may go at once.\n";

static const struct option plain_opts[] = { { "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 } };

static void print_warmup(json_t *w)
{
    json_t *cap = json_object_get(w, "cap_today"), *next = json_object_get(w, "cap_tomorrow");
    printf("target:    %s\n", json_string_value(json_object_get(w, "target")));
    printf("starts:    %s (today is day %lld of %zu)%s\n", json_string_value(json_object_get(w, "starts_on")),
           json_integer_value(json_object_get(w, "day")), json_array_size(json_object_get(w, "days")),
           json_is_true(json_object_get(w, "done")) ? ": done, no cap" : "");
    const char *curve = json_string_value(json_object_get(w, "curve"));
    printf("days:      ");
    size_t i;
    json_t *d;
    json_array_foreach(json_object_get(w, "days"), i, d) printf("%s%lld", i ? "," : "", json_integer_value(d));
    printf("%s%s%s\n", curve ? " (curve " : "", curve ? curve : "", curve ? ")" : "");
    if (json_is_integer(cap))
        printf("today:     %lld of %lld sent\n", json_integer_value(json_object_get(w, "sent_today")),
               json_integer_value(cap));
    else
        printf("today:     no cap (%lld sent)\n", json_integer_value(json_object_get(w, "sent_today")));
    if (json_is_integer(next))
        printf("tomorrow:  %lld\n", json_integer_value(next));
    else
        printf("tomorrow:  no cap\n");
    long long waiting = json_integer_value(json_object_get(w, "waiting"));
    if (waiting > 0)
        printf("waiting:   %lld deliveries until %s\n", waiting, json_string_value(json_object_get(w, "waiting_until")));
    else
        printf("waiting:   none\n");
}

static int warmup_set(struct cli *c, int argc, char **argv)
{
    static const struct option opts[] = {
        { "days", required_argument, NULL, 'd' }, { "curve", required_argument, NULL, 'c' },
        { "start", required_argument, NULL, 's' }, { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    const char *days = NULL, *curve = NULL, *start = NULL;
    int opt;
    while ((opt = cli_parse(c, argc, argv, "h", opts)) != -1) {
        switch (opt) {
        case 'd': days = optarg; break;
        case 'c': curve = optarg; break;
        case 's': start = optarg; break;
        }
    }
    const char *target = cli_operand(c, argc, argv, "domain or relay:NAME");
    if ((days != NULL) == (curve != NULL))
        cli_usage(c, "warmup set needs --days or --curve, one of them");
    struct store_err e;
    json_t *w;
    bool created;
    if (store_warmup_set(cli_db(c), target, days, curve, start, &w, &created, &e) < 0)
        return cli_fail(&e);
    if (c->json) {
        cli_print_json(w);
    } else {
        json_t *cap = json_object_get(w, "cap_today");
        printf("%s warm-up for %s: %zu days, ", created ? "added" : "changed", json_string_value(json_object_get(w, "target")),
               json_array_size(json_object_get(w, "days")));
        if (json_is_integer(cap))
            printf("today's cap %lld (%lld sent)\n", json_integer_value(cap),
                   json_integer_value(json_object_get(w, "sent_today")));
        else
            printf("no cap today\n");
    }
    json_decref(w);
    return 0;
}

static int warmup_ls(struct cli *c, int argc, char **argv)
{
    cli_no_operands(c, argc, argv);
    struct store_err e;
    json_t *arr;
    if (store_warmup_ls(cli_db(c), &arr, &e) < 0)
        return cli_fail(&e);
    if (c->json) {
        cli_print_json(arr);
    } else {
        size_t i;
        json_t *w;
        printf("%-32s %-10s %-8s %-10s %-10s %-10s %s\n", "TARGET", "STARTS", "DAY", "CAP", "SENT", "TOMORROW", "WAITING");
        json_array_foreach(arr, i, w) {
            char day[24], cap[24] = "-", next[24] = "-", waiting[64] = "0";
            snprintf(day, sizeof(day), "%lld/%zu", json_integer_value(json_object_get(w, "day")),
                     json_array_size(json_object_get(w, "days")));
            if (json_is_integer(json_object_get(w, "cap_today")))
                snprintf(cap, sizeof(cap), "%lld", json_integer_value(json_object_get(w, "cap_today")));
            if (json_is_integer(json_object_get(w, "cap_tomorrow")))
                snprintf(next, sizeof(next), "%lld", json_integer_value(json_object_get(w, "cap_tomorrow")));
            if (json_integer_value(json_object_get(w, "waiting")) > 0)
                snprintf(waiting, sizeof(waiting), "%lld until %s", json_integer_value(json_object_get(w, "waiting")),
                         json_string_value(json_object_get(w, "waiting_until")));
            printf("%-32s %-10s %-8s %-10s %-10lld %-10s %s\n", json_string_value(json_object_get(w, "target")),
                   json_string_value(json_object_get(w, "starts_on")), day, cap,
                   json_integer_value(json_object_get(w, "sent_today")), next, waiting);
        }
    }
    json_decref(arr);
    return 0;
}

static int warmup_show(struct cli *c, int argc, char **argv)
{
    while (cli_parse(c, argc, argv, "h", plain_opts) != -1)
        ;
    const char *target = cli_operand(c, argc, argv, "domain or relay:NAME");
    struct store_err e;
    json_t *w;
    if (store_warmup_get(cli_db(c), target, &w, &e) < 0)
        return cli_fail(&e);
    if (c->json)
        cli_print_json(w);
    else
        print_warmup(w);
    json_decref(w);
    return 0;
}

static int warmup_rm(struct cli *c, int argc, char **argv)
{
    while (cli_parse(c, argc, argv, "h", plain_opts) != -1)
        ;
    const char *target = cli_operand(c, argc, argv, "domain or relay:NAME");
    struct store_err e;
    if (store_warmup_rm(cli_db(c), target, &e) < 0)
        return cli_fail(&e);
    if (!c->json)
        printf("removed the warm-up for %s\n", target);
    return 0;
}

static int warmup_curves(struct cli *c, int argc, char **argv)
{
    cli_no_operands(c, argc, argv);
    struct store_err e;
    json_t *arr;
    if (store_warmup_curves(cli_db(c), &arr, &e) < 0)
        return cli_fail(&e);
    if (c->json) {
        cli_print_json(arr);
    } else {
        size_t i, k;
        json_t *cv, *d;
        json_array_foreach(arr, i, cv) {
            printf("%-10s ", json_string_value(json_object_get(cv, "name")));
            json_array_foreach(json_object_get(cv, "days"), k, d) printf("%s%lld", k ? "," : "", json_integer_value(d));
            printf("\n");
        }
    }
    json_decref(arr);
    return 0;
}

static const struct cli_command warmup_commands[] = {
    { "set", warmup_set, NULL }, { "ls", warmup_ls, NULL },         { "show", warmup_show, NULL },
    { "rm", warmup_rm, NULL },   { "curves", warmup_curves, NULL }, { NULL, NULL, NULL },
};

/* cmd_warmup - postino warmup SUBCOMMAND. */
int cmd_warmup(struct cli *c, int argc, char **argv)
{
    c->usage = warmup_usage;
    return cli_dispatch(c, warmup_commands, "warmup", argc, argv);
}
