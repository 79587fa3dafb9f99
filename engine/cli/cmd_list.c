/*
 * cmd_list - postino list create | ls | show | set | form | rm.
 */
#include <stdio.h>
#include <string.h>

#include "engine/cli/cli.h"
#include "engine/mail/signup.h"
#include "engine/send/settings_send.h"
#include "engine/store/forms.h"
#include "engine/store/lists.h"

static const char list_usage[] =
    "usage: postino list create NAME [--optin single|double] [--description TEXT] [--json]\n"
    "       postino list ls [--json]\n"
    "       postino list show NAME|ID [--json]\n"
    "       postino list set NAME|ID [--name NEW] [--description TEXT] [--optin single|double]\n"
    "                              [--public yes|no] [--welcome TEMPLATE|none] [--welcome-subject TEXT]\n"
    "                              [--json]\n"
    "       postino list form NAME|ID[,NAME|ID...] [--json]\n"
    "       postino list rm NAME|ID\n";

static void print_list_line(json_t *l)
{
    json_t *s = json_object_get(l, "subscribers");
    printf("%-6lld %-24s %-7s %9lld %11lld %12lld  %s\n", json_integer_value(json_object_get(l, "id")),
           json_string_value(json_object_get(l, "name")), json_string_value(json_object_get(l, "optin")),
           json_integer_value(json_object_get(s, "confirmed")), json_integer_value(json_object_get(s, "unconfirmed")),
           json_integer_value(json_object_get(s, "unsubscribed")),
           json_string_value(json_object_get(l, "description")));
}

static void print_header(void)
{
    printf("%-6s %-24s %-7s %9s %11s %12s  %s\n", "ID", "NAME", "OPTIN", "CONFIRMED", "UNCONFIRMED",
           "UNSUBSCRIBED", "DESCRIPTION");
}

static const struct option plain_opts[] = { { "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 } };

static int list_create(struct cli *c, int argc, char **argv)
{
    static const struct option opts[] = {
        { "optin", required_argument, NULL, 'o' },
        { "description", required_argument, NULL, 'd' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    const char *optin = "single", *descr = "";
    int opt;
    while ((opt = cli_parse(c, argc, argv, "h", opts)) != -1) {
        if (opt == 'o')
            optin = optarg;
        else if (opt == 'd')
            descr = optarg;
    }
    if (strcmp(optin, "single") != 0 && strcmp(optin, "double") != 0)
        cli_usage(c, "--optin must be single or double, not '%s'", optin);
    const char *name = cli_operand(c, argc, argv, "list name");
    struct store_err e;
    json_t *l;
    if (store_list_create(cli_db(c), name, optin, descr, &l, &e) < 0)
        return cli_fail(&e);
    if (c->json)
        cli_print_json(l);
    else
        printf("created list \"%s\" (id %lld, %s opt-in)\n", name, json_integer_value(json_object_get(l, "id")),
               optin);
    json_decref(l);
    return 0;
}

static int list_ls(struct cli *c, int argc, char **argv)
{
    cli_no_operands(c, argc, argv);
    struct store_err e;
    json_t *arr;
    if (store_list_ls(cli_db(c), &arr, &e) < 0)
        return cli_fail(&e);
    if (c->json) {
        cli_print_json(arr);
    } else {
        size_t i;
        json_t *l;
        print_header();
        json_array_foreach(arr, i, l) print_list_line(l);
    }
    json_decref(arr);
    return 0;
}

static int list_show(struct cli *c, int argc, char **argv)
{
    while (cli_parse(c, argc, argv, "h", plain_opts) != -1)
        ;
    const char *ref = cli_operand(c, argc, argv, "list name or id");
    struct store_err e;
    json_t *l;
    if (store_list_get(cli_db(c), ref, &l, &e) < 0)
        return cli_fail(&e);
    if (c->json) {
        cli_print_json(l);
    } else {
        json_t *s = json_object_get(l, "subscribers");
        printf("id:           %lld\n", json_integer_value(json_object_get(l, "id")));
        printf("name:         %s\n", json_string_value(json_object_get(l, "name")));
        printf("optin:        %s\n", json_string_value(json_object_get(l, "optin")));
        printf("description:  %s\n", json_string_value(json_object_get(l, "description")));
        printf("public:       %s\n", json_is_true(json_object_get(l, "public")) ? "yes" : "no");
        const char *w = json_string_value(json_object_get(l, "welcome_template"));
        printf("welcome:      %s%s%s%s\n", w ? w : "none", w ? " (subject \"" : "",
               w ? json_string_value(json_object_get(l, "welcome_subject")) : "", w ? "\")" : "");
        printf("created:      %s\n", json_string_value(json_object_get(l, "created_at")));
        printf("confirmed:    %lld\n", json_integer_value(json_object_get(s, "confirmed")));
        printf("unconfirmed:  %lld\n", json_integer_value(json_object_get(s, "unconfirmed")));
        printf("unsubscribed: %lld\n", json_integer_value(json_object_get(s, "unsubscribed")));
        size_t i;
        json_t *u;
        json_array_foreach(json_object_get(l, "campaigns"), i, u)
            printf("%s %s (%s)\n", i ? "             " : "used by:     ", json_string_value(json_object_get(u, "name")),
                   json_string_value(json_object_get(u, "status")));
    }
    json_decref(l);
    return 0;
}

static int list_set(struct cli *c, int argc, char **argv)
{
    static const struct option opts[] = {
        { "name", required_argument, NULL, 'n' },
        { "description", required_argument, NULL, 'd' },
        { "optin", required_argument, NULL, 'o' },
        { "public", required_argument, NULL, 'p' },
        { "welcome", required_argument, NULL, 'w' },
        { "welcome-subject", required_argument, NULL, 's' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    struct list_edit s = { 0 };
    int opt;
    while ((opt = cli_parse(c, argc, argv, "h", opts)) != -1) {
        if (opt == 'n')
            s.name = optarg;
        else if (opt == 'd')
            s.description = optarg;
        else if (opt == 'o')
            s.optin = optarg;
        else if (opt == 'p' && strcmp(optarg, "yes") != 0 && strcmp(optarg, "no") != 0)
            cli_usage(c, "--public must be yes or no, not '%s'", optarg);
        else if (opt == 'p')
            s.is_public = strcmp(optarg, "yes") == 0 ? "true" : "false";
        else if (opt == 'w')
            s.welcome = strcmp(optarg, "none") == 0 ? "" : optarg;
        else if (opt == 's')
            s.welcome_subject = optarg;
    }
    const char *ref = cli_operand(c, argc, argv, "list name or id");
    if (!s.name && !s.description && !s.optin && !s.is_public && !s.welcome && !s.welcome_subject)
        cli_usage(c, "give --name, --description, --optin, --public, --welcome or --welcome-subject");
    struct store_err e;
    json_t *l;
    if (store_list_set(cli_db(c), ref, &s, &l, &e) < 0)
        return cli_fail(&e);
    if (c->json)
        cli_print_json(l);
    else
        printf("changed list \"%s\" (id %lld, %s opt-in)\n", json_string_value(json_object_get(l, "name")),
               json_integer_value(json_object_get(l, "id")), json_string_value(json_object_get(l, "optin")));
    json_decref(l);
    return 0;
}

static int list_rm(struct cli *c, int argc, char **argv)
{
    while (cli_parse(c, argc, argv, "h", plain_opts) != -1)
        ;
    const char *ref = cli_operand(c, argc, argv, "list name or id");
    struct store_err e;
    if (store_list_rm(cli_db_consent(c), ref, &e) < 0)
        return cli_fail(&e);
    if (!c->json)
        printf("removed list \"%s\"\n", ref);
    return 0;
}

/* list form - the signup snippet of the public lists named (h_forms.c serves what it posts to) */
static int list_form(struct cli *c, int argc, char **argv)
{
    while (cli_parse(c, argc, argv, "h", plain_opts) != -1)
        ;
    const char *refs = cli_operand(c, argc, argv, "list name or id");
    struct store_err e;
    json_t *lists;
    if (store_form_lists_text(cli_db(c), refs, &lists, &e) < 0)
        return cli_fail(&e);
    struct buf html = BUF_INIT, url = BUF_INIT;
    signup_snippet(lists, mail_settings.public_url, mail_settings.forms_pow_bits, &html);
    signup_url(lists, mail_settings.public_url, &url);
    if (c->json) {
        json_t *j = json_pack("{s:s, s:s}", "html", buf_cstr(&html), "url", buf_cstr(&url));
        cli_print_json(j);
        json_decref(j);
    } else {
        printf("%s\n<!-- the hosted page: %s -->\n", buf_cstr(&html), buf_cstr(&url));
    }
    buf_free(&html);
    buf_free(&url);
    json_decref(lists);
    return 0;
}

static const struct cli_command list_commands[] = {
    { "create", list_create, NULL }, { "ls", list_ls, NULL }, { "show", list_show, NULL },
    { "set", list_set, NULL },       { "form", list_form, NULL }, { "rm", list_rm, NULL },
    { NULL, NULL, NULL },
};

/* cmd_list - postino list SUBCOMMAND. */
int cmd_list(struct cli *c, int argc, char **argv)
{
    c->usage = list_usage;
    return cli_dispatch(c, list_commands, "list", argc, argv);
}
