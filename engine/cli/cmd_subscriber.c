/*
 * cmd_subscriber - postino subscriber add | ls | show | rm | blocklist.
 */
#include <stdio.h>
#include <string.h>

#include "engine/cli/cli.h"
#include "engine/store/subscribers.h"
#include "engine/util/alloc.h"
#include "engine/util/str.h"

static const char subscriber_usage[] =
    "usage: postino subscriber add EMAIL [--name NAME] [--attr KEY=VALUE]... [--list NAME]...\n"
    "                              [--status confirmed|unconfirmed] [--json]\n"
    "       postino subscriber ls [--list NAME] [--status enabled|disabled|blocklisted]\n"
    "                             [--after ID] [--limit N] [--json]\n"
    "       postino subscriber show EMAIL [--json]\n"
    "       postino subscriber rm EMAIL\n"
    "       postino subscriber blocklist EMAIL [--json]\n";

static const struct option plain_opts[] = { { "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 } };

static void print_subscriber(json_t *s)
{
    size_t i;
    json_t *l;
    const char *k;
    json_t *v;
    printf("id:       %lld\n", json_integer_value(json_object_get(s, "id")));
    printf("email:    %s\n", json_string_value(json_object_get(s, "email")));
    printf("name:     %s\n", json_string_value(json_object_get(s, "name")));
    printf("status:   %s\n", json_string_value(json_object_get(s, "status")));
    printf("created:  %s\n", json_string_value(json_object_get(s, "created_at")));
    printf("attribs:\n");
    json_object_foreach(json_object_get(s, "attribs"), k, v) {
        char *text = json_is_string(v) ? xstrdup(json_string_value(v)) : json_dumps(v, JSON_ENCODE_ANY);
        printf("  %s = %s\n", k, text);
        free(text);
    }
    printf("lists:\n");
    json_array_foreach(json_object_get(s, "lists"), i, l)
        printf("  %-24s %s\n", json_string_value(json_object_get(l, "name")),
               json_string_value(json_object_get(l, "status")));
}

static int sub_add(struct cli *c, int argc, char **argv)
{
    static const struct option opts[] = {
        { "name", required_argument, NULL, 'n' },   { "attr", required_argument, NULL, 'a' },
        { "list", required_argument, NULL, 'l' },   { "status", required_argument, NULL, 's' },
        { "help", no_argument, NULL, 'h' },         { NULL, 0, NULL, 0 },
    };
    struct subscriber_new s = { 0 };
    const char **lists = xcalloc((size_t)argc, sizeof(*lists));
    json_t *attribs = json_object();
    char email[ADDRESS_MAX + 1];
    int opt;
    while ((opt = cli_parse(c, argc, argv, "h", opts)) != -1) {
        if (opt == 'n') {
            s.name = optarg;
        } else if (opt == 'l') {
            lists[s.nlists++] = optarg;
        } else if (opt == 's') {
            s.sub_status = optarg;
            if (strcmp(optarg, "confirmed") != 0 && strcmp(optarg, "unconfirmed") != 0)
                cli_usage(c, "--status must be confirmed or unconfirmed, not '%s'", optarg);
        } else if (opt == 'a') {
            const char *eq = strchr(optarg, '=');
            if (!eq || eq == optarg)
                cli_usage(c, "--attr takes KEY=VALUE, not '%s'", optarg);
            char *key = xstrndup(optarg, (size_t)(eq - optarg));
            if (!str_utf8_valid(eq + 1, strlen(eq + 1), NULL) || !str_utf8_valid(key, strlen(key), NULL))
                cli_usage(c, "--attr '%s' is not valid UTF-8", key);
            json_object_set_new(attribs, key, json_string(eq + 1));
            xfree(key);
        }
    }
    if (s.name && !str_utf8_valid(s.name, strlen(s.name), NULL))
        cli_usage(c, "--name is not valid UTF-8");
    cli_email_arg(cli_operand(c, argc, argv, "email address"), email);
    s.email = email;
    s.attribs = attribs;
    s.lists = lists;
    struct store_err e;
    json_t *out = NULL;
    int rc = store_subscriber_add(cli_db(c), &s, &out, &e);
    json_decref(attribs);
    xfree(lists);
    if (rc < 0)
        return cli_fail(&e);
    if (c->json)
        cli_print_json(out);
    else
        printf("added subscriber %s (id %lld)\n", email, json_integer_value(json_object_get(out, "id")));
    json_decref(out);
    return 0;
}

struct ls_state {
    struct cli *c;
    long rows;
};

static int ls_row(json_t *s, void *arg)
{
    struct ls_state *st = arg;
    if (st->c->json) {
        fputs(st->rows ? ",\n" : "\n", stdout);
        json_dumpf(s, stdout, JSON_COMPACT | JSON_PRESERVE_ORDER);
    } else {
        size_t i;
        json_t *l;
        printf("%-8lld %-40s %-24s %-12s ", json_integer_value(json_object_get(s, "id")),
               json_string_value(json_object_get(s, "email")), json_string_value(json_object_get(s, "name")),
               json_string_value(json_object_get(s, "status")));
        json_array_foreach(json_object_get(s, "lists"), i, l)
            printf("%s%s", i ? "," : "", json_string_value(json_object_get(l, "name")));
        putchar('\n');
    }
    st->rows++;
    return 0;
}

static int sub_ls(struct cli *c, int argc, char **argv)
{
    static const struct option opts[] = {
        { "list", required_argument, NULL, 'l' },  { "status", required_argument, NULL, 's' },
        { "after", required_argument, NULL, 'a' }, { "limit", required_argument, NULL, 'n' },
        { "help", no_argument, NULL, 'h' },        { NULL, 0, NULL, 0 },
    };
    struct subscriber_filter f = { 0 };
    int opt;
    long v;
    while ((opt = cli_parse(c, argc, argv, "h", opts)) != -1) {
        if (opt == 'l') {
            f.list = optarg;
        } else if (opt == 's') {
            if (strcmp(optarg, "enabled") != 0 && strcmp(optarg, "disabled") != 0 &&
                strcmp(optarg, "blocklisted") != 0)
                cli_usage(c, "--status must be enabled, disabled or blocklisted, not '%s'", optarg);
            f.status = optarg;
        } else if (opt == 'a') {
            if (str_parse_long(optarg, 0, (long)1e18, &v) < 0)
                cli_usage(c, "--after takes a subscriber id, not '%s'", optarg);
            f.after = v;
        } else if (opt == 'n') {
            if (str_parse_long(optarg, 1, 1000000000L, &v) < 0)
                cli_usage(c, "--limit takes a positive number, not '%s'", optarg);
            f.limit = v;
        }
    }
    if (optind < argc)
        cli_usage(c, "unexpected argument '%s'", argv[optind]);
    PGconn *conn = cli_db(c);
    struct ls_state st = { c, 0 };
    struct store_err e;
    if (c->json)
        fputs("[", stdout);
    else
        printf("%-8s %-40s %-24s %-12s %s\n", "ID", "EMAIL", "NAME", "STATUS", "LISTS");
    int rc = store_subscriber_each(conn, &f, ls_row, &st, &e);
    if (c->json)
        fputs(st.rows ? "\n]\n" : "]\n", stdout);
    return rc < 0 ? cli_fail(&e) : 0;
}

static int sub_show(struct cli *c, int argc, char **argv)
{
    char email[ADDRESS_MAX + 1];
    while (cli_parse(c, argc, argv, "h", plain_opts) != -1)
        ;
    cli_email_arg(cli_operand(c, argc, argv, "email address"), email);
    struct store_err e;
    json_t *s;
    if (store_subscriber_get(cli_db(c), email, &s, &e) < 0)
        return cli_fail(&e);
    if (c->json)
        cli_print_json(s);
    else
        print_subscriber(s);
    json_decref(s);
    return 0;
}

static int sub_rm(struct cli *c, int argc, char **argv)
{
    char email[ADDRESS_MAX + 1];
    while (cli_parse(c, argc, argv, "h", plain_opts) != -1)
        ;
    cli_email_arg(cli_operand(c, argc, argv, "email address"), email);
    struct store_err e;
    if (store_subscriber_rm(cli_db(c), email, &e) < 0)
        return cli_fail(&e);
    if (!c->json)
        printf("removed subscriber %s\n", email);
    return 0;
}

static int sub_blocklist(struct cli *c, int argc, char **argv)
{
    char email[ADDRESS_MAX + 1];
    while (cli_parse(c, argc, argv, "h", plain_opts) != -1)
        ;
    cli_email_arg(cli_operand(c, argc, argv, "email address"), email);
    struct store_err e;
    json_t *s;
    if (store_subscriber_blocklist(cli_db(c), email, &s, &e) < 0)
        return cli_fail(&e);
    if (c->json)
        cli_print_json(s);
    else
        printf("blocklisted %s and unsubscribed it from every list\n", email);
    json_decref(s);
    return 0;
}

static const struct cli_command subscriber_commands[] = {
    { "add", sub_add, NULL },          { "ls", sub_ls, NULL }, { "show", sub_show, NULL },
    { "rm", sub_rm, NULL },            { "blocklist", sub_blocklist, NULL },
    { NULL, NULL, NULL },
};

/* cmd_subscriber - postino subscriber SUBCOMMAND. */
int cmd_subscriber(struct cli *c, int argc, char **argv)
{
    c->usage = subscriber_usage;
    return cli_dispatch(c, subscriber_commands, "subscriber", argc, argv);
}
