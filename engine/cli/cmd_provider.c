/*
 * cmd_provider - postino provider ls | show | add | set | rm | match | stats | pace | rate-text:
 * mailbox providers, their domains and receiving hosts (engine/store/providers.h),
 * their pace and what slows it (engine/store/pacing.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/cli/cli.h"
#include "engine/mail/provider.h"
#include "engine/store/pacing.h"
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
    "       postino provider pace NAME|ID [--per-minute N|off] [--per-hour N|off] [--aimd-threshold N]\n"
    "                            [--aimd-window SECONDS] [--reset] [--json]\n"
    "       postino provider rate-text ls | add PATTERN [--provider NAME] | rm PATTERN [--provider NAME]\n"
    "A provider is a named group of recipient domains (\"gmail.com\", or \"hotmail.*\"\n"
    "for hotmail under any suffix) and receiving hosts (\"*.google.com\": '*' is any\n"
    "characters). A delivery belongs to the provider of its domain, else of the\n"
    "host Postfix's log shows taking it (a domain so seen is learned for later),\n"
    "else to none (\"other\"). set adds the --domain and --mx patterns given and\n"
    "removes the --rm-* ones. match HOST: a host name or a relay field as Postfix\n"
    "logs it (\"mx.example.org[192.0.2.1]:25\"). stats: by provider and UTC day.\n"
    "pace: the most mail to the provider per minute and per hour, for every sender\n"
    "together (off: no limit); what is over waits queued for its turn. When its\n"
    "deferrals for rate or reputation (the rate texts: a part of the code and text\n"
    "Postfix logged, per provider or for every one) reach --aimd-threshold (3) in\n"
    "--aimd-window seconds (120), its rate is halved, then raised by a tenth every\n"
    "minute without one; --reset: back to full pace now.\n";

static const struct option plain_opts[] = { { "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 } };

static void print_list(const char *what, json_t *arr)
{
    size_t i;
    json_t *v;
    printf("%-10s", what);
    json_array_foreach(arr, i, v) printf("%s%s", i ? ", " : "", json_string_value(v));
    printf("%s\n", json_array_size(arr) ? "" : "-");
}

/* pace_limits - "60/min, 1000/h", "no limit" into OUT */
static void pace_limits(json_t *pace, char *out, size_t len)
{
    json_t *m = json_object_get(pace, "per_minute"), *h = json_object_get(pace, "per_hour");
    if (json_is_integer(m) && json_is_integer(h))
        snprintf(out, len, "%lld/min, %lld/h", json_integer_value(m), json_integer_value(h));
    else if (json_is_integer(m))
        snprintf(out, len, "%lld/min", json_integer_value(m));
    else if (json_is_integer(h))
        snprintf(out, len, "%lld/h", json_integer_value(h));
    else
        snprintf(out, len, "no limit");
}

/* pace_print - a provider's pace (its JSON "pace"), each line after INDENT; campaign stats prints it too */
void pace_print(json_t *pace, const char *indent)
{
    char lim[64];
    pace_limits(pace, lim, sizeof(lim));
    printf("%space:     %s", indent, lim);
    if (json_is_true(json_object_get(pace, "slowed")))
        printf("; slowed to %.4g/min since %s (full: %.4g/min)",
               json_number_value(json_object_get(pace, "rate_per_minute")),
               json_string_value(json_object_get(pace, "slowed_at")),
               json_number_value(json_object_get(pace, "full_rate")));
    printf("; %lld let go, %lld held back\n", json_integer_value(json_object_get(pace, "handed")),
           json_integer_value(json_object_get(pace, "held")));
    printf("%saimd:     halved at %lld rate deferrals in %lld s (%lld in the window now)\n", indent,
           json_integer_value(json_object_get(pace, "aimd_threshold")),
           json_integer_value(json_object_get(pace, "aimd_window_s")),
           json_integer_value(json_object_get(pace, "rate_deferrals")));
    size_t i;
    json_t *ev;
    json_array_foreach(json_object_get(pace, "events"), i, ev) {
        if (strcmp(json_string_value(json_object_get(ev, "kind")), "halved") == 0)
            printf("%s  %s halved %.4g -> %.4g/min after %lld rate deferrals: %s\n", indent,
                   json_string_value(json_object_get(ev, "at")), json_number_value(json_object_get(ev, "rate_from")),
                   json_number_value(json_object_get(ev, "rate_to")), json_integer_value(json_object_get(ev, "deferrals")),
                   json_string_value(json_object_get(ev, "reason")));
        else
            printf("%s  %s back to full pace (%.4g/min)\n", indent, json_string_value(json_object_get(ev, "at")),
                   json_number_value(json_object_get(ev, "rate_to")));
    }
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
    pace_print(json_object_get(p, "pace"), "");
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
        printf("%-4s %-12s %-8s %-22s %s\n", "ID", "NAME", "LEARNED", "PACE", "DOMAINS | HOSTS");
        json_array_foreach(arr, i, p) {
            json_t *pace = json_object_get(p, "pace");
            char lim[64], col[96];
            pace_limits(pace, lim, sizeof(lim));
            if (json_is_true(json_object_get(pace, "slowed")))
                snprintf(col, sizeof(col), "%s (now %.4g/min)", lim,
                         json_number_value(json_object_get(pace, "rate_per_minute")));
            else
                snprintf(col, sizeof(col), "%s", lim);
            printf("%-4lld %-12s %-8lld %-22s ", json_integer_value(json_object_get(p, "id")),
                   json_string_value(json_object_get(p, "name")), json_integer_value(json_object_get(p, "learned")),
                   col);
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

/* a limit's value: a count from 1 to PACE_RATE_MAX, or "off" (or 0) to clear it */
static long limit_arg(struct cli *c, const char *opt, const char *v)
{
    if (strcmp(v, "off") == 0)
        return PACE_CLEAR;
    char *end;
    long n = strtol(v, &end, 10);
    if (!*v || *end || n < 0 || n > PACE_RATE_MAX)
        cli_usage(c, "invalid --%s \"%s\": a count from 1 to %ld, or off", opt, v, PACE_RATE_MAX);
    return n;
}

static int provider_pace(struct cli *c, int argc, char **argv)
{
    static const struct option opts[] = {
        { "per-minute", required_argument, NULL, 'm' },     { "per-hour", required_argument, NULL, 'H' },
        { "aimd-threshold", required_argument, NULL, 't' }, { "aimd-window", required_argument, NULL, 'w' },
        { "reset", no_argument, NULL, 'r' },                { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    struct pace_edit ed = { PACE_KEEP, PACE_KEEP, PACE_KEEP, PACE_KEEP, false };
    int opt;
    while ((opt = cli_parse(c, argc, argv, "h", opts)) != -1) {
        switch (opt) {
        case 'm': ed.per_minute = limit_arg(c, "per-minute", optarg); break;
        case 'H': ed.per_hour = limit_arg(c, "per-hour", optarg); break;
        case 't': ed.aimd_threshold = limit_arg(c, "aimd-threshold", optarg); break;
        case 'w': ed.aimd_window_s = limit_arg(c, "aimd-window", optarg); break;
        case 'r': ed.reset = true; break;
        }
    }
    const char *ref = cli_operand(c, argc, argv, "provider name or id");
    struct store_err e;
    json_t *p = NULL;
    if (store_provider_pace(cli_db(c), ref, &ed, &p, &e) < 0)
        return cli_fail(&e);
    if (c->json) {
        cli_print_json(p);
    } else {
        printf("provider \"%s\":\n", json_string_value(json_object_get(p, "name")));
        pace_print(json_object_get(p, "pace"), "  ");
    }
    json_decref(p);
    return 0;
}

static int rate_text_ls(struct cli *c, int argc, char **argv)
{
    cli_no_operands(c, argc, argv);
    struct store_err e;
    json_t *arr;
    if (store_rate_text_ls(cli_db(c), &arr, &e) < 0)
        return cli_fail(&e);
    if (c->json) {
        cli_print_json(arr);
    } else {
        size_t i;
        json_t *t;
        printf("%-12s %s\n", "PROVIDER", "PATTERN");
        json_array_foreach(arr, i, t) {
            const char *pn = json_string_value(json_object_get(t, "provider"));
            printf("%-12s %s\n", pn ? pn : "(any)", json_string_value(json_object_get(t, "pattern")));
        }
    }
    json_decref(arr);
    return 0;
}

/* rate-text add|rm PATTERN [--provider NAME] */
static int rate_text_edit(struct cli *c, int argc, char **argv, bool add)
{
    static const struct option opts[] = {
        { "provider", required_argument, NULL, 'p' }, { "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 },
    };
    const char *ref = NULL;
    int opt;
    while ((opt = cli_parse(c, argc, argv, "h", opts)) != -1)
        if (opt == 'p')
            ref = optarg;
    const char *pattern = cli_operand(c, argc, argv, "pattern");
    struct store_err e;
    json_t *t = NULL;
    int rc = add ? store_rate_text_add(cli_db(c), ref, pattern, &t, &e) : store_rate_text_rm(cli_db(c), ref, pattern, &e);
    if (rc < 0)
        return cli_fail(&e);
    if (c->json && t)
        cli_print_json(t);
    else if (!c->json)
        printf("%s rate text \"%s\" for %s\n", add ? "added" : "removed", pattern, ref ? ref : "every provider");
    json_decref(t);
    return 0;
}

static int rate_text_add(struct cli *c, int argc, char **argv)
{
    return rate_text_edit(c, argc, argv, true);
}

static int rate_text_rm(struct cli *c, int argc, char **argv)
{
    return rate_text_edit(c, argc, argv, false);
}

static const struct cli_command rate_text_commands[] = {
    { "ls", rate_text_ls, NULL }, { "add", rate_text_add, NULL }, { "rm", rate_text_rm, NULL }, { NULL, NULL, NULL },
};

static int provider_rate_text(struct cli *c, int argc, char **argv)
{
    return cli_dispatch(c, rate_text_commands, "provider rate-text", argc, argv);
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
    { "stats", provider_stats, NULL }, { "pace", provider_pace, NULL }, { "rate-text", provider_rate_text, NULL },
    { NULL, NULL, NULL },
};

/* cmd_provider - postino provider SUBCOMMAND. */
int cmd_provider(struct cli *c, int argc, char **argv)
{
    c->usage = provider_usage;
    return cli_dispatch(c, provider_commands, "provider", argc, argv);
}
