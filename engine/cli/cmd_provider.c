/*
 * cmd_provider - postino provider ls | show | add | set | rm | match | stats:
 * mailbox providers, their domains and receiving hosts (engine/store/providers.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/cli/cli.h"
#include "engine/mail/provider.h"
#include "engine/store/providers.h"
#include "engine/util/alloc.h"

static const char provider_usage[] =
    "usage: postino provider ls [--json]\n"
    "       postino provider show NAME|ID [--json]\n"
    "       postino provider add NAME [--label TEXT] [--domain PATTERN]... [--mx PATTERN]... [--json]\n"
    "       postino provider set NAME|ID [--name NEW] [--label TEXT] [--domain PATTERN]... [--mx PATTERN]...\n"
    "                            [--rm-domain PATTERN]... [--rm-mx PATTERN]... [--json]\n"
    "       postino provider rm NAME|ID\n"
    "       postino provider match ADDRESS|DOMAIN [--mx HOST] [--json]\n"
    "       postino provider stats [--since YYYY-MM-DD] [--until YYYY-MM-DD] [--json]\n"
    "A provider is a named group of recipient domains (\"gmail.com\", or \"hotmail.*\"\n"
    "for hotmail under any suffix) and receiving hosts (\"*.google.com\": '*' is any\n"
    "characters). A delivery belongs to the provider of its domain, else of the\n"
    "host Postfix's log shows taking it (a domain so seen is learned for later),\n"
    "else to none (\"other\"). set adds the --domain and --mx patterns given and\n"
    "removes the --rm-* ones. match HOST: a host name or a relay field as Postfix\n"
    "logs it (\"mx.example.org[192.0.2.1]:25\"). stats: by provider and UTC day.\n";

static const struct option plain_opts[] = { { "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 } };

static void print_list(const char *what, json_t *arr)
{
    size_t i;
    json_t *v;
    printf("%-10s", what);
    json_array_foreach(arr, i, v) printf("%s%s", i ? ", " : "", json_string_value(v));
    printf("%s\n", json_array_size(arr) ? "" : "-");
}

static void print_provider(json_t *p)
{
    printf("id:       %lld\n", json_integer_value(json_object_get(p, "id")));
    printf("name:     %s\n", json_string_value(json_object_get(p, "name")));
    printf("label:    %s\n", json_string_value(json_object_get(p, "label")));
    print_list("domains:", json_object_get(p, "domains"));
    print_list("mx:", json_object_get(p, "mx"));
    json_t *c = json_object_get(p, "counts");
    if (c)
        printf("counts:   %lld delivered, %lld deferrals, %lld bounced, %lld expired, %lld complaints\n",
               json_integer_value(json_object_get(c, "delivered")), json_integer_value(json_object_get(c, "deferrals")),
               json_integer_value(json_object_get(c, "bounced")), json_integer_value(json_object_get(c, "expired")),
               json_integer_value(json_object_get(c, "complaints")));
    printf("learned:  %lld domains\n", json_integer_value(json_object_get(p, "learned")));
    size_t i;
    json_t *l;
    json_array_foreach(json_object_get(p, "learned_domains"), i, l)
        printf("  %s (taken by %s, %s)\n", json_string_value(json_object_get(l, "domain")),
               json_string_value(json_object_get(l, "mx_host")), json_string_value(json_object_get(l, "learned_at")));
}

/* the options of add and set, collected */
struct opts {
    struct provider_edit ed;
    const char **lists;   /* one array holding the four lists, argc long each */
};

static void take_options(struct cli *c, int argc, char **argv, struct opts *o, bool set)
{
    static const struct option opts[] = {
        { "name", required_argument, NULL, 'n' },      { "label", required_argument, NULL, 'l' },
        { "domain", required_argument, NULL, 'd' },    { "mx", required_argument, NULL, 'm' },
        { "rm-domain", required_argument, NULL, 'D' }, { "rm-mx", required_argument, NULL, 'M' },
        { "help", no_argument, NULL, 'h' },            { NULL, 0, NULL, 0 },
    };
    size_t n = (size_t)argc;
    o->lists = xcalloc(4 * n + 1, sizeof(*o->lists));
    const char **dom = o->lists, **mx = o->lists + n, **rmd = o->lists + 2 * n, **rmm = o->lists + 3 * n;
    int opt;
    while ((opt = cli_parse(c, argc, argv, "h", opts)) != -1) {
        if (!set && (opt == 'n' || opt == 'D' || opt == 'M'))
            cli_usage(c, "provider add takes its name as an operand, and no --rm-domain or --rm-mx");
        switch (opt) {
        case 'n': o->ed.name = optarg; break;
        case 'l': o->ed.label = optarg; break;
        case 'd': dom[o->ed.ndomains++] = optarg; break;
        case 'm': mx[o->ed.nmx++] = optarg; break;
        case 'D': rmd[o->ed.nrm_domains++] = optarg; break;
        case 'M': rmm[o->ed.nrm_mx++] = optarg; break;
        }
    }
    o->ed.domains = dom;
    o->ed.mx = mx;
    o->ed.rm_domains = rmd;
    o->ed.rm_mx = rmm;
}

static int done(struct cli *c, int rc, json_t *p, struct store_err *e, const char *what)
{
    if (rc < 0)
        return cli_fail(e);
    if (c->json)
        cli_print_json(p);
    else
        printf("%s provider \"%s\" (id %lld): %zu domain patterns, %zu host patterns\n", what,
               json_string_value(json_object_get(p, "name")), json_integer_value(json_object_get(p, "id")),
               json_array_size(json_object_get(p, "domains")), json_array_size(json_object_get(p, "mx")));
    json_decref(p);
    return 0;
}

static int provider_add(struct cli *c, int argc, char **argv)
{
    struct opts o = { 0 };
    take_options(c, argc, argv, &o, false);
    o.ed.name = cli_operand(c, argc, argv, "provider name");
    struct store_err e;
    json_t *p = NULL;
    int rc = store_provider_add(cli_db(c), &o.ed, &p, &e);
    xfree(o.lists);
    return done(c, rc, p, &e, "added");
}

static int provider_set(struct cli *c, int argc, char **argv)
{
    struct opts o = { 0 };
    take_options(c, argc, argv, &o, true);
    const struct provider_edit *ed = &o.ed;
    if (!ed->name && !ed->label && !ed->ndomains && !ed->nmx && !ed->nrm_domains && !ed->nrm_mx)
        cli_usage(c, "provider set needs --name, --label, --domain, --mx, --rm-domain or --rm-mx");
    const char *ref = cli_operand(c, argc, argv, "provider name or id");
    struct store_err e;
    json_t *p = NULL;
    int rc = store_provider_set(cli_db(c), ref, ed, &p, &e);
    xfree(o.lists);
    return done(c, rc, p, &e, "changed");
}

static int provider_ls(struct cli *c, int argc, char **argv)
{
    cli_no_operands(c, argc, argv);
    struct store_err e;
    json_t *arr;
    if (store_provider_ls(cli_db(c), &arr, &e) < 0)
        return cli_fail(&e);
    if (c->json) {
        cli_print_json(arr);
    } else {
        size_t i, k;
        json_t *p, *v;
        printf("%-4s %-12s %-8s %s\n", "ID", "NAME", "LEARNED", "DOMAINS | HOSTS");
        json_array_foreach(arr, i, p) {
            printf("%-4lld %-12s %-8lld ", json_integer_value(json_object_get(p, "id")),
                   json_string_value(json_object_get(p, "name")), json_integer_value(json_object_get(p, "learned")));
            json_array_foreach(json_object_get(p, "domains"), k, v) printf("%s%s", k ? " " : "", json_string_value(v));
            printf(" |");
            json_array_foreach(json_object_get(p, "mx"), k, v) printf(" %s", json_string_value(v));
            printf("\n");
        }
    }
    json_decref(arr);
    return 0;
}

static int provider_show(struct cli *c, int argc, char **argv)
{
    while (cli_parse(c, argc, argv, "h", plain_opts) != -1)
        ;
    const char *ref = cli_operand(c, argc, argv, "provider name or id");
    struct store_err e;
    json_t *p;
    if (store_provider_get(cli_db(c), ref, &p, &e) < 0)
        return cli_fail(&e);
    if (c->json)
        cli_print_json(p);
    else
        print_provider(p);
    json_decref(p);
    return 0;
}

static int provider_rm(struct cli *c, int argc, char **argv)
{
    while (cli_parse(c, argc, argv, "h", plain_opts) != -1)
        ;
    const char *ref = cli_operand(c, argc, argv, "provider name or id");
    struct store_err e;
    if (store_provider_rm(cli_db(c), ref, &e) < 0)
        return cli_fail(&e);
    if (!c->json)
        printf("removed provider \"%s\" (its deliveries now count as other)\n", ref);
    return 0;
}

static int provider_match(struct cli *c, int argc, char **argv)
{
    static const struct option opts[] = {
        { "mx", required_argument, NULL, 'm' }, { "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 },
    };
    const char *mx = NULL;
    int opt;
    while ((opt = cli_parse(c, argc, argv, "h", opts)) != -1)
        if (opt == 'm')
            mx = optarg;
    const char *target = cli_operand(c, argc, argv, "address or domain");
    struct store_err e;
    json_t *m;
    if (store_provider_match(cli_db(c), target, mx, &m, &e) < 0)
        return cli_fail(&e);
    if (c->json)
        cli_print_json(m);
    else
        printf("%s\n", json_string_value(json_object_get(m, "why")));
    json_decref(m);
    return 0;
}

static int provider_stats(struct cli *c, int argc, char **argv)
{
    static const struct option opts[] = {
        { "since", required_argument, NULL, 's' }, { "until", required_argument, NULL, 'u' },
        { "help", no_argument, NULL, 'h' },        { NULL, 0, NULL, 0 },
    };
    const char *since = NULL, *until = NULL;
    int opt;
    while ((opt = cli_parse(c, argc, argv, "h", opts)) != -1) {
        if (opt == 's')
            since = optarg;
        else if (opt == 'u')
            until = optarg;
    }
    cli_no_operands(c, argc, argv);
    struct store_err e;
    json_t *st;
    if (store_provider_stats(cli_db(c), since, until, &st, &e) < 0)
        return cli_fail(&e);
    if (c->json) {
        cli_print_json(st);
    } else {
        printf("%s to %s (UTC days)\n", json_string_value(json_object_get(st, "since")),
               json_string_value(json_object_get(st, "until")));
        provider_table_print(json_object_get(st, "days"), true);
    }
    json_decref(st);
    return 0;
}

/* provider_table_print - ROWS (store_provider_campaign's or _stats's) as a table, with their day when DAYS. */
void provider_table_print(json_t *rows, bool days)
{
    size_t i;
    json_t *r;
    if (json_array_size(rows) == 0) {
        printf("  (nothing from Postfix's log or bounces yet)\n");
        return;
    }
    printf("  %s%-12s %9s %8s %9s %7s %7s %5s %5s %6s %7s %10s %8s\n", days ? "DAY        " : "", "PROVIDER",
           "DELIVERED", "DEFERRED", "DEFERRALS", "BOUNCED", "EXPIRED", "HARD", "SOFT", "POLICY", "COMPL.", "MEDIAN(s)",
           "P95(s)");
    json_array_foreach(rows, i, r) {
        json_t *b = json_object_get(r, "bounces"), *t = json_object_get(r, "delivery_s");
        char med[32] = "-", p95[32] = "-";
        if (json_is_number(json_object_get(t, "median")))
            snprintf(med, sizeof(med), "%.1f", json_number_value(json_object_get(t, "median")));
        if (json_is_number(json_object_get(t, "p95")))
            snprintf(p95, sizeof(p95), "%.1f", json_number_value(json_object_get(t, "p95")));
        if (days)
            printf("  %-10s ", json_string_value(json_object_get(r, "day")));
        else
            printf("  ");
        printf("%-12s %9lld %8lld %9lld %7lld %7lld %5lld %5lld %6lld %7lld %10s %8s\n",
               json_string_value(json_object_get(r, "provider")), json_integer_value(json_object_get(r, "delivered")),
               json_integer_value(json_object_get(r, "deferred")), json_integer_value(json_object_get(r, "deferrals")),
               json_integer_value(json_object_get(r, "bounced")), json_integer_value(json_object_get(r, "expired")),
               json_integer_value(json_object_get(b, "hard")), json_integer_value(json_object_get(b, "soft")),
               json_integer_value(json_object_get(b, "policy")), json_integer_value(json_object_get(r, "complaints")),
               med, p95);
    }
}

static const struct cli_command provider_commands[] = {
    { "ls", provider_ls, NULL },   { "show", provider_show, NULL },   { "add", provider_add, NULL },
    { "set", provider_set, NULL }, { "rm", provider_rm, NULL },       { "match", provider_match, NULL },
    { "stats", provider_stats, NULL }, { NULL, NULL, NULL },
};

/* cmd_provider - postino provider SUBCOMMAND. */
int cmd_provider(struct cli *c, int argc, char **argv)
{
    c->usage = provider_usage;
    return cli_dispatch(c, provider_commands, "provider", argc, argv);
}
