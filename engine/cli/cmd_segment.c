/*
 * cmd_segment - postino segment add | ls | show | set | count | rm: saved
 * filters over subscribers (the language: engine/mail/segment.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/cli/cli.h"
#include "engine/store/segments.h"
#include "engine/util/alloc.h"

static const char segment_usage[] =
    "usage: postino segment add NAME --filter EXPR [--description TEXT] [--json]\n"
    "       postino segment ls [--json]\n"
    "       postino segment show NAME|ID [--json]\n"
    "       postino segment set NAME|ID [--name NEW] [--filter EXPR] [--description TEXT] [--json]\n"
    "       postino segment count NAME|ID | --filter EXPR [--list L]... [--json]\n"
    "       postino segment rm NAME|ID\n"
    "A filter: attribs.city = \"Roma\" and created_at > 2026-01-01 and not bounced(hard)\n"
    "  and opened(campaign = 12, within = 30d) (fields email, name, status, id, created_at,\n"
    "  attribs.KEY; tests = != < <= > >= in contains starts_with exists; predicates in_list,\n"
    "  sent, opened, clicked, bounced, complained; and, or, not, parentheses).\n"
    "count with --list: the subscribers a campaign to those lists would mail.\n";

static const struct option plain_opts[] = { { "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 } };

static void print_segment(json_t *g)
{
    printf("id:          %lld\n", json_integer_value(json_object_get(g, "id")));
    printf("name:        %s\n", json_string_value(json_object_get(g, "name")));
    printf("description: %s\n", json_string_value(json_object_get(g, "description")));
    printf("filter:      %s\n", json_string_value(json_object_get(g, "filter")));
    printf("created:     %s\n", json_string_value(json_object_get(g, "created_at")));
    printf("updated:     %s\n", json_string_value(json_object_get(g, "updated_at")));
}

/* the options of add and set */
struct seg_opts {
    const char *name, *filter, *description;
};

static void take_options(struct cli *c, int argc, char **argv, struct seg_opts *o, bool rename)
{
    static const struct option opts[] = {
        { "name", required_argument, NULL, 'n' },   { "filter", required_argument, NULL, 'f' },
        { "description", required_argument, NULL, 'd' }, { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    int opt;
    while ((opt = cli_parse(c, argc, argv, "h", opts)) != -1) {
        if (opt == 'n' && !rename)
            cli_usage(c, "segment add takes its name as an operand, not --name");
        if (opt == 'n')
            o->name = optarg;
        else if (opt == 'f')
            o->filter = optarg;
        else if (opt == 'd')
            o->description = optarg;
    }
}

static int finish(struct cli *c, int rc, json_t *g, struct store_err *e, const char *done)
{
    if (rc < 0)
        return cli_fail(e);
    if (c->json)
        cli_print_json(g);
    else
        printf("%s segment \"%s\" (id %lld)\n", done, json_string_value(json_object_get(g, "name")),
               json_integer_value(json_object_get(g, "id")));
    json_decref(g);
    return 0;
}

static int segment_add(struct cli *c, int argc, char **argv)
{
    struct seg_opts o = { 0 };
    take_options(c, argc, argv, &o, false);
    if (!o.filter)
        cli_usage(c, "segment add needs --filter");
    const char *name = cli_operand(c, argc, argv, "segment name");
    struct store_err e;
    json_t *g = NULL;
    int rc = store_segment_add(cli_db(c), name, o.filter, o.description, &g, &e);
    return finish(c, rc, g, &e, "saved");
}

static int segment_set(struct cli *c, int argc, char **argv)
{
    struct seg_opts o = { 0 };
    take_options(c, argc, argv, &o, true);
    if (!o.name && !o.filter && !o.description)
        cli_usage(c, "segment set needs --name, --filter or --description");
    const char *ref = cli_operand(c, argc, argv, "segment name or id");
    struct store_err e;
    json_t *g = NULL;
    int rc = store_segment_set(cli_db(c), ref, o.name, o.filter, o.description, &g, &e);
    return finish(c, rc, g, &e, "changed");
}

static int segment_ls(struct cli *c, int argc, char **argv)
{
    cli_no_operands(c, argc, argv);
    struct store_err e;
    json_t *arr;
    if (store_segment_ls(cli_db(c), &arr, &e) < 0)
        return cli_fail(&e);
    if (c->json) {
        cli_print_json(arr);
    } else {
        size_t i;
        json_t *g;
        printf("%-6s %-24s %s\n", "ID", "NAME", "FILTER");
        json_array_foreach(arr, i, g)
            printf("%-6lld %-24s %s\n", json_integer_value(json_object_get(g, "id")),
                   json_string_value(json_object_get(g, "name")), json_string_value(json_object_get(g, "filter")));
    }
    json_decref(arr);
    return 0;
}

static int segment_show(struct cli *c, int argc, char **argv)
{
    while (cli_parse(c, argc, argv, "h", plain_opts) != -1)
        ;
    const char *ref = cli_operand(c, argc, argv, "segment name or id");
    struct store_err e;
    json_t *g;
    if (store_segment_get(cli_db(c), ref, &g, &e) < 0)
        return cli_fail(&e);
    if (c->json)
        cli_print_json(g);
    else
        print_segment(g);
    json_decref(g);
    return 0;
}

static int segment_count(struct cli *c, int argc, char **argv)
{
    static const struct option opts[] = {
        { "filter", required_argument, NULL, 'f' },
        { "list", required_argument, NULL, 'l' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    const char *filter = NULL;
    const char **lists = xcalloc((size_t)argc, sizeof(*lists));
    size_t nlists = 0;
    int opt;
    while ((opt = cli_parse(c, argc, argv, "h", opts)) != -1) {
        if (opt == 'f')
            filter = optarg;
        else if (opt == 'l')
            lists[nlists++] = optarg;
    }
    const char *ref = NULL;
    if (!filter)
        ref = cli_operand(c, argc, argv, "segment name or id (or --filter EXPR)");
    else
        cli_no_operands(c, argc, argv);
    struct store_err e;
    json_t *j;
    int rc = store_segment_count(cli_db(c), ref, filter, lists, nlists, &j, &e);
    xfree(lists);
    if (rc < 0)
        return cli_fail(&e);
    if (c->json)
        cli_print_json(j);
    else
        printf("%lld\n", json_integer_value(json_object_get(j, "count")));
    json_decref(j);
    return 0;
}

static int segment_rm(struct cli *c, int argc, char **argv)
{
    while (cli_parse(c, argc, argv, "h", plain_opts) != -1)
        ;
    const char *ref = cli_operand(c, argc, argv, "segment name or id");
    struct store_err e;
    if (store_segment_rm(cli_db(c), ref, &e) < 0)
        return cli_fail(&e);
    if (!c->json)
        printf("removed segment \"%s\"\n", ref);
    return 0;
}

static const struct cli_command segment_commands[] = {
    { "add", segment_add, NULL },     { "ls", segment_ls, NULL }, { "show", segment_show, NULL },
    { "set", segment_set, NULL },     { "count", segment_count, NULL }, { "rm", segment_rm, NULL },
    { NULL, NULL, NULL },
};

/* cmd_segment - postino segment SUBCOMMAND. */
int cmd_segment(struct cli *c, int argc, char **argv)
{
    c->usage = segment_usage;
    return cli_dispatch(c, segment_commands, "segment", argc, argv);
}
