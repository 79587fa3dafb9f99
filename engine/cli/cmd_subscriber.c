/*
 * cmd_subscriber - postino subscriber add | ls | show | set | history | consent | export | erase | rm | blocklist
 * | bulk.
 */
#include <stdio.h>
#include <string.h>

#include "engine/cli/cli.h"
#include "engine/store/bulk.h"
#include "engine/store/consent.h"
#include "engine/store/history.h"
#include "engine/store/privacy.h"
#include "engine/store/subscribers.h"
#include "engine/util/alloc.h"
#include "engine/util/str.h"

static const char subscriber_usage[] =
    "usage: postino subscriber add EMAIL [--name NAME] [--attr KEY=VALUE]... [--list NAME]...\n"
    "                              [--status confirmed|unconfirmed] [--json]\n"
    "       postino subscriber ls [--search TEXT] [--list NAME] [--status enabled|disabled|blocklisted]\n"
    "                             [--after ID] [--limit N] [--json]\n"
    "       postino subscriber show EMAIL [--json]\n"
    "       postino subscriber set EMAIL [--name NAME] [--attr KEY=VALUE]... [--unset KEY]... [--json]\n"
    "       postino subscriber history EMAIL [--deliveries | --bounces | --events] [--before ID]\n"
    "                                  [--limit N] [--json]\n"
    "       postino subscriber consent EMAIL [--before ID] [--limit N] [--json]\n"
    "       postino subscriber export EMAIL\n"
    "       postino subscriber erase EMAIL [--json]\n"
    "       postino subscriber rm EMAIL\n"
    "       postino subscriber blocklist EMAIL [--json]\n"
    "       postino subscriber bulk subscribe|unsubscribe|blocklist|delete (--segment S | --filter EXPR)\n"
    "                               [--list L] [--status confirmed|unconfirmed] [--dry-run] [--json]\n"
    "                               (every subscriber the segment or filter picks, in one transaction;\n"
    "                               --list for subscribe and unsubscribe; --status for subscribe)\n";

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

/* one --attr KEY=VALUE into ATTRIBS (a string value), or a usage error */
static void attr_arg(struct cli *c, json_t *attribs, const char *arg)
{
    const char *eq = strchr(arg, '=');
    if (!eq || eq == arg)
        cli_usage(c, "--attr takes KEY=VALUE, not '%s'", arg);
    char *key = xstrndup(arg, (size_t)(eq - arg));
    if (!str_utf8_valid(eq + 1, strlen(eq + 1), NULL) || !str_utf8_valid(key, strlen(key), NULL))
        cli_usage(c, "--attr '%s' is not valid UTF-8", key);
    json_object_set_new(attribs, key, json_string(eq + 1));
    xfree(key);
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
            attr_arg(c, attribs, optarg);
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
    int rc = store_subscriber_add(cli_db_consent(c), &s, &out, &e);
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
        { "search", required_argument, NULL, 'q' }, { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    struct subscriber_filter f = { 0 };
    int opt;
    long v;
    while ((opt = cli_parse(c, argc, argv, "h", opts)) != -1) {
        if (opt == 'q') {
            f.q = optarg;
        } else if (opt == 'l') {
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

static int sub_set(struct cli *c, int argc, char **argv)
{
    static const struct option opts[] = {
        { "name", required_argument, NULL, 'n' },  { "attr", required_argument, NULL, 'a' },
        { "unset", required_argument, NULL, 'u' }, { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    struct subscriber_edit s = { 0 };
    json_t *attribs = json_object();
    char email[ADDRESS_MAX + 1];
    int opt;
    while ((opt = cli_parse(c, argc, argv, "h", opts)) != -1) {
        if (opt == 'n') {
            s.name = optarg;
        } else if (opt == 'a') {
            attr_arg(c, attribs, optarg);
        } else if (opt == 'u') {
            if (!str_utf8_valid(optarg, strlen(optarg), NULL))
                cli_usage(c, "--unset '%s' is not valid UTF-8", optarg);
            json_object_set_new(attribs, optarg, json_null());
        }
    }
    if (s.name && !str_utf8_valid(s.name, strlen(s.name), NULL))
        cli_usage(c, "--name is not valid UTF-8");
    cli_email_arg(cli_operand(c, argc, argv, "email address"), email);
    if (!s.name && json_object_size(attribs) == 0)
        cli_usage(c, "give --name, --attr or --unset");
    s.attribs = json_object_size(attribs) ? attribs : NULL;
    struct store_err e;
    json_t *out = NULL;
    int rc = store_subscriber_set(cli_db(c), email, &s, &out, &e);
    json_decref(attribs);
    if (rc < 0)
        return cli_fail(&e);
    if (c->json)
        cli_print_json(out);
    else
        print_subscriber(out);
    json_decref(out);
    return 0;
}

/* the text of a JSON value in a table cell: a string as it is, null as -, anything else as JSON */
static const char *cell(json_t *v, char *tmp, size_t len)
{
    if (!v || json_is_null(v))
        return "-";
    if (json_is_string(v))
        return json_string_value(v);
    if (json_is_integer(v)) {
        snprintf(tmp, len, "%lld", json_integer_value(v));
        return tmp;
    }
    char *t = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
    snprintf(tmp, len, "%s", t ? t : "?");
    free(t);
    return tmp;
}

static void print_deliveries(json_t *items)
{
    size_t i;
    json_t *d;
    char t[6][64], mta[320];
    printf("%-8s %-24s %-9s %-3s %-25s %-6s %-6s %-40s %s\n", "ID", "CAMPAIGN", "STATE", "TRY", "SENT", "OPENS",
           "CLICKS", "RECEIVER (POSTFIX)", "REPLY");
    json_array_foreach(items, i, d) {
        json_t *m = json_object_get(d, "mta");
        if (json_is_object(m))
            snprintf(mta, sizeof(mta), "%s %s", json_string_value(json_object_get(m, "state")),
                     json_is_string(json_object_get(m, "host")) ? json_string_value(json_object_get(m, "host")) : "");
        else
            snprintf(mta, sizeof(mta), "-");
        printf("%-8s %-24s %-9s %-3s %-25s %-6s %-6s %-40s %s\n", cell(json_object_get(d, "id"), t[0], sizeof(t[0])),
               json_string_value(json_object_get(json_object_get(d, "campaign"), "name")),
               json_string_value(json_object_get(d, "state")), cell(json_object_get(d, "attempts"), t[1], sizeof(t[1])),
               cell(json_object_get(d, "sent_at"), t[2], sizeof(t[2])),
               cell(json_object_get(d, "opens"), t[3], sizeof(t[3])),
               cell(json_object_get(d, "clicks"), t[4], sizeof(t[4])), mta,
               cell(json_object_get(d, "smtp_reply"), t[5], sizeof(t[5])));
    }
}

static void print_bounces(json_t *items)
{
    size_t i;
    json_t *x;
    char t[3][64];
    printf("%-8s %-9s %-8s %-25s %s\n", "ID", "CLASS", "STATUS", "RECEIVED", "DIAGNOSTIC");
    json_array_foreach(items, i, x)
        printf("%-8s %-9s %-8s %-25s %s\n", cell(json_object_get(x, "id"), t[0], sizeof(t[0])),
               json_string_value(json_object_get(x, "class")), cell(json_object_get(x, "status"), t[1], sizeof(t[1])),
               json_string_value(json_object_get(x, "received_at")),
               cell(json_object_get(x, "diagnostic"), t[2], sizeof(t[2])));
}

static void print_events(json_t *items)
{
    size_t i, k;
    json_t *x, *l;
    char t[2][64];
    printf("%-8s %-24s %-6s %-6s %-25s %s\n", "DELIVERY", "CAMPAIGN", "EVENT", "COUNT", "FIRST", "URL");
    json_array_foreach(items, i, x) {
        const char *camp = json_string_value(json_object_get(json_object_get(x, "campaign"), "name"));
        json_t *o = json_object_get(x, "open");
        cell(json_object_get(x, "id"), t[0], sizeof(t[0]));
        if (json_is_object(o))
            printf("%-8s %-24s %-6s %-6s %-25s\n", t[0], camp, "open", cell(json_object_get(o, "n"), t[1], sizeof(t[1])),
                   json_string_value(json_object_get(o, "first_at")));
        json_array_foreach(json_object_get(x, "clicks"), k, l)
            printf("%-8s %-24s %-6s %-6s %-25s %s\n", t[0], camp, "click",
                   cell(json_object_get(l, "n"), t[1], sizeof(t[1])), json_string_value(json_object_get(l, "first_at")),
                   json_string_value(json_object_get(l, "url")));
    }
}

static int sub_history(struct cli *c, int argc, char **argv)
{
    static const struct option opts[] = {
        { "deliveries", no_argument, NULL, 'd' }, { "bounces", no_argument, NULL, 'b' },
        { "events", no_argument, NULL, 'e' },     { "before", required_argument, NULL, 'B' },
        { "limit", required_argument, NULL, 'n' }, { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    static const struct {
        const char *key, *title;
        int (*read)(PGconn *, const struct history_page *, json_t **, struct store_err *);
        void (*print)(json_t *);
    } parts[] = {
        { "deliveries", "deliveries", store_history_deliveries, print_deliveries },
        { "bounces", "bounces", store_history_bounces, print_bounces },
        { "events", "opens and clicks", store_history_events, print_events },
    };
    char email[ADDRESS_MAX + 1];
    struct history_page h = { .limit = 20 };
    int opt, only = -1;
    long v;
    while ((opt = cli_parse(c, argc, argv, "h", opts)) != -1) {
        if (opt == 'd' || opt == 'b' || opt == 'e') {
            int which = opt == 'd' ? 0 : opt == 'b' ? 1 : 2;
            if (only >= 0 && only != which)
                cli_usage(c, "give one of --deliveries, --bounces and --events");
            only = which;
        } else if (opt == 'B') {
            if (str_parse_long(optarg, 1, (long)1e18, &v) < 0)
                cli_usage(c, "--before takes an id, not '%s'", optarg);
            h.before = v;
        } else if (opt == 'n') {
            if (str_parse_long(optarg, 1, 500, &v) < 0)
                cli_usage(c, "--limit takes a number from 1 to 500, not '%s'", optarg);
            h.limit = v;
        }
    }
    if (h.before && only < 0)
        cli_usage(c, "--before pages one part: give --deliveries, --bounces or --events");
    cli_email_arg(cli_operand(c, argc, argv, "email address"), email);
    h.email = email;
    PGconn *conn = cli_db(c);
    json_t *all = json_object();
    for (int i = 0; i < 3; i++) {
        if (only >= 0 && only != i)
            continue;
        struct store_err e;
        json_t *p = NULL;
        if (parts[i].read(conn, &h, &p, &e) < 0) {
            json_decref(all);
            return cli_fail(&e);
        }
        if (c->json) {
            json_object_set_new(all, parts[i].key, p);
            continue;
        }
        printf("%s%s:\n", only < 0 && i > 0 ? "\n" : "", parts[i].title);
        parts[i].print(json_object_get(p, "items"));
        json_t *next = json_object_get(p, "next_before");
        if (json_is_integer(next))
            printf("(more: --%s --before %lld)\n", parts[i].key, json_integer_value(next));
        json_decref(p);
    }
    if (c->json)
        cli_print_json(only >= 0 ? json_object_get(all, parts[only].key) : all);
    json_decref(all);
    return 0;
}

static int sub_rm(struct cli *c, int argc, char **argv)
{
    char email[ADDRESS_MAX + 1];
    while (cli_parse(c, argc, argv, "h", plain_opts) != -1)
        ;
    cli_email_arg(cli_operand(c, argc, argv, "email address"), email);
    struct store_err e;
    if (store_subscriber_rm(cli_db_consent(c), email, &e) < 0)
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
    if (store_subscriber_blocklist(cli_db_consent(c), email, &s, &e) < 0)
        return cli_fail(&e);
    if (c->json)
        cli_print_json(s);
    else
        printf("blocklisted %s and unsubscribed it from every list\n", email);
    json_decref(s);
    return 0;
}

/* subscriber bulk ACTION (--segment S | --filter EXPR) [--list L] [--status S] [--dry-run]: store_subscriber_bulk */
static int sub_bulk(struct cli *c, int argc, char **argv)
{
    static const struct option opts[] = {
        { "list", required_argument, NULL, 'l' },   { "segment", required_argument, NULL, 'g' },
        { "filter", required_argument, NULL, 'F' }, { "status", required_argument, NULL, 's' },
        { "dry-run", no_argument, NULL, 'n' },      { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    struct bulk_job j = { 0 };
    struct store_err e;
    json_t *out;
    int opt;
    while ((opt = cli_parse(c, argc, argv, "h", opts)) != -1) {
        switch (opt) {
        case 'l': j.list = optarg; break;
        case 'g': j.segment = optarg; break;
        case 'F': j.filter = optarg; break;
        case 's': j.status = optarg; break;
        case 'n': j.dry_run = true; break;
        default: cli_usage(c, "unknown option");
        }
    }
    const char *action = cli_operand(c, argc, argv, "action (" BULK_ACTIONS ")");
    if (store_bulk_action_parse(action, &j.action, &e) < 0 || store_subscriber_bulk(cli_db_consent(c), &j, &out, &e) < 0)
        return cli_fail(&e);
    if (c->json) {
        cli_print_json(out);
    } else {
        long long matched = json_integer_value(json_object_get(out, "matched"));
        long long changed = json_integer_value(json_object_get(out, "changed"));
        printf("%s%s: %lld of %lld subscriber%s picked%s%s%s\n", action, j.dry_run ? " (dry run, nothing changed)" : "",
               changed, matched, matched == 1 ? "" : "s", j.dry_run ? " would change" : " changed",
               j.list ? " on list " : "", j.list ? j.list : "");
    }
    json_decref(out);
    return 0;
}

static int sub_consent(struct cli *c, int argc, char **argv)
{
    static const struct option opts[] = {
        { "before", required_argument, NULL, 'B' }, { "limit", required_argument, NULL, 'n' },
        { "help", no_argument, NULL, 'h' },         { NULL, 0, NULL, 0 },
    };
    char email[ADDRESS_MAX + 1];
    struct history_page h = { .limit = 50 };
    int opt;
    long v;
    while ((opt = cli_parse(c, argc, argv, "h", opts)) != -1) {
        if (opt == 'B') {
            if (str_parse_long(optarg, 1, (long)1e18, &v) < 0)
                cli_usage(c, "--before takes an id, not '%s'", optarg);
            h.before = v;
        } else if (opt == 'n') {
            if (str_parse_long(optarg, 1, 500, &v) < 0)
                cli_usage(c, "--limit takes a number from 1 to 500, not '%s'", optarg);
            h.limit = v;
        }
    }
    cli_email_arg(cli_operand(c, argc, argv, "email address"), email);
    h.email = email;
    struct store_err e;
    json_t *p = NULL;
    if (store_consent_page(cli_db(c), &h, &p, &e) < 0)
        return cli_fail(&e);
    if (c->json) {
        cli_print_json(p);
        json_decref(p);
        return 0;
    }
    size_t i;
    json_t *x;
    char t[3][64];
    printf("%-8s %-25s %-20s %-12s %-12s %-12s %-28s %s\n", "ID", "AT", "LIST", "FROM", "TO", "VIA", "ACTOR",
           "IP / USER AGENT");
    json_array_foreach(json_object_get(p, "items"), i, x) {
        const char *ua = json_string_value(json_object_get(x, "user_agent"));
        printf("%-8s %-25s %-20s %-12s %-12s %-12s %-28s %s%s%s\n", cell(json_object_get(x, "id"), t[0], sizeof(t[0])),
               json_string_value(json_object_get(x, "at")), json_string_value(json_object_get(x, "list")),
               cell(json_object_get(x, "from_status"), t[1], sizeof(t[1])),
               cell(json_object_get(x, "to_status"), t[2], sizeof(t[2])), json_string_value(json_object_get(x, "via")),
               json_string_value(json_object_get(x, "actor")), json_string_value(json_object_get(x, "ip")),
               ua && *ua ? " " : "", ua ? ua : "");
    }
    json_t *next = json_object_get(p, "next_before");
    if (json_is_integer(next))
        printf("(more: --before %lld)\n", json_integer_value(next));
    json_decref(p);
    return 0;
}

/* postino subscriber export EMAIL: the document is JSON whatever --json says */
static int sub_export(struct cli *c, int argc, char **argv)
{
    char email[ADDRESS_MAX + 1];
    while (cli_parse(c, argc, argv, "h", plain_opts) != -1)
        ;
    cli_email_arg(cli_operand(c, argc, argv, "email address"), email);
    struct store_err e;
    json_t *doc;
    if (store_subscriber_export(cli_db(c), email, &doc, &e) < 0)
        return cli_fail(&e);
    cli_print_json(doc);
    json_decref(doc);
    return 0;
}

static int sub_erase(struct cli *c, int argc, char **argv)
{
    char email[ADDRESS_MAX + 1];
    while (cli_parse(c, argc, argv, "h", plain_opts) != -1)
        ;
    cli_email_arg(cli_operand(c, argc, argv, "email address"), email);
    struct store_err e;
    json_t *out;
    if (store_subscriber_erase(cli_db_consent(c), email, &out, &e) < 0)
        return cli_fail(&e);
    if (c->json) {
        cli_print_json(out);
    } else {
        const char *why = json_string_value(json_object_get(out, "suppressed"));
        printf("erased subscriber %s", email);
        if (why)
            printf("; its address stays suppressed (%s), kept only as a salted hash", why);
        putchar('\n');
    }
    json_decref(out);
    return 0;
}

static const struct cli_command subscriber_commands[] = {
    { "add", sub_add, NULL },          { "ls", sub_ls, NULL }, { "show", sub_show, NULL },
    { "set", sub_set, NULL },          { "history", sub_history, NULL },
    { "consent", sub_consent, NULL },  { "export", sub_export, NULL },
    { "erase", sub_erase, NULL },      { "rm", sub_rm, NULL },
    { "blocklist", sub_blocklist, NULL }, { "bulk", sub_bulk, NULL },
    { NULL, NULL, NULL },
};

/* cmd_subscriber - postino subscriber SUBCOMMAND. */
int cmd_subscriber(struct cli *c, int argc, char **argv)
{
    c->usage = subscriber_usage;
    return cli_dispatch(c, subscriber_commands, "subscriber", argc, argv);
}
