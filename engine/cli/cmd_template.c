/*
 * cmd_template - postino template add | ls | show.
 *
 * A template is a layout: its HTML (and optional text) says where the
 * campaign body goes with [CONTENT] or {{ content }}. Templates are compiled
 * when added, so a syntax error is reported then, with line and column.
 */
#include <stdio.h>
#include <string.h>

#include "engine/cli/cli.h"
#include "engine/mail/template.h"
#include "engine/store/templates.h"
#include "engine/util/file.h"
#include "engine/util/log.h"

#define TEMPLATE_MAX_BYTES (4u << 20)

static const char template_usage[] =
    "usage: postino template add NAME --html FILE [--text FILE] [--json]\n"
    "       postino template ls [--json]\n"
    "       postino template show NAME|ID [--json]\n"
    "       postino template rm NAME|ID               (refused while a campaign uses it)\n"
    "\n"
    "A template wraps campaign bodies: it must say where the body goes with\n"
    "[CONTENT] or {{ content }}. Variables: {{ name }}, {{ email }}, {{ attribs.KEY }},\n"
    "{{ attribs.KEY | default \"friend\" }}, {{ unsubscribe_url }}, {{ campaign.subject }},\n"
    "{{ campaign.name }}, {{ list.name }}, {{ preferences_url }},\n"
    "{{#if attribs.KEY}}...{{else}}...{{/if}}; phpList's [EMAIL], [NAME], [FIRSTNAME],\n"
    "[ATTR%%default], [UNSUBSCRIBEURL], [PREFERENCES] too.\n";

/* check_layout - exit 1 naming the file, line and column unless SRC compiles as a layout. */
static void check_layout(const char *what, const char *src, size_t len)
{
    char err[TMPL_ERR_MAX];
    struct tmpl *t = tmpl_compile_wrap(src, len, "", 0, err, sizeof(err));
    if (!t)
        log_fatal("%s: %s", what, err);
    tmpl_free(t);
}

static int template_add(struct cli *c, int argc, char **argv)
{
    static const struct option opts[] = {
        { "html", required_argument, NULL, 'H' },
        { "text", required_argument, NULL, 'T' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    const char *html_path = NULL, *text_path = NULL;
    char err[512];
    int opt;
    while ((opt = cli_parse(c, argc, argv, "h", opts)) != -1) {
        if (opt == 'H')
            html_path = optarg;
        else if (opt == 'T')
            text_path = optarg;
    }
    const char *name = cli_operand(c, argc, argv, "template name");
    if (!html_path)
        cli_usage(c, "template add needs --html FILE");
    struct buf html = BUF_INIT, text = BUF_INIT;
    if (file_read(html_path, TEMPLATE_MAX_BYTES, &html, err, sizeof(err)) < 0 ||
        (text_path && file_read(text_path, TEMPLATE_MAX_BYTES, &text, err, sizeof(err)) < 0))
        log_fatal("%s", err);
    check_layout(html_path, html.data, html.len);
    if (text_path)
        check_layout(text_path, text.data, text.len);
    struct store_err e;
    json_t *t;
    int rc = store_template_add(cli_db(c), name, html.data, text_path ? text.data : NULL, &t, &e);
    buf_free(&html);
    buf_free(&text);
    if (rc < 0)
        return cli_fail(&e);
    if (c->json)
        cli_print_json(t);
    else
        printf("added template \"%s\" (id %lld)\n", name, json_integer_value(json_object_get(t, "id")));
    json_decref(t);
    return 0;
}

static const struct option plain_opts[] = { { "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 } };

static int template_ls(struct cli *c, int argc, char **argv)
{
    cli_no_operands(c, argc, argv);
    struct store_err e;
    json_t *arr, *t;
    size_t i;
    if (store_template_ls(cli_db(c), &arr, &e) < 0)
        return cli_fail(&e);
    if (c->json) {
        cli_print_json(arr);
    } else {
        printf("%-6s %-28s %10s %10s %9s\n", "ID", "NAME", "HTML", "TEXT", "CAMPAIGNS");
        json_array_foreach(arr, i, t) {
            json_t *tb = json_object_get(t, "text_bytes");
            char text[24];
            snprintf(text, sizeof(text), json_is_null(tb) ? "derived" : "%lld", json_integer_value(tb));
            printf("%-6lld %-28s %10lld %10s %9lld\n", json_integer_value(json_object_get(t, "id")),
                   json_string_value(json_object_get(t, "name")),
                   json_integer_value(json_object_get(t, "html_bytes")), text,
                   json_integer_value(json_object_get(t, "campaigns")));
        }
    }
    json_decref(arr);
    return 0;
}

static int template_show(struct cli *c, int argc, char **argv)
{
    while (cli_parse(c, argc, argv, "h", plain_opts) != -1)
        ;
    const char *ref = cli_operand(c, argc, argv, "template name or id");
    struct store_err e;
    json_t *t;
    if (store_template_get(cli_db(c), ref, &t, &e) < 0)
        return cli_fail(&e);
    if (c->json) {
        cli_print_json(t);
    } else {
        const char *text = json_string_value(json_object_get(t, "text"));
        printf("id:      %lld\nname:    %s\ncreated: %s\n\n--- html\n%s\n--- text\n%s\n",
               json_integer_value(json_object_get(t, "id")), json_string_value(json_object_get(t, "name")),
               json_string_value(json_object_get(t, "created_at")), json_string_value(json_object_get(t, "html")),
               text ? text : "(derived from the HTML)");
    }
    json_decref(t);
    return 0;
}

static int template_rm(struct cli *c, int argc, char **argv)
{
    while (cli_parse(c, argc, argv, "h", plain_opts) != -1)
        ;
    const char *ref = cli_operand(c, argc, argv, "template name or id");
    struct store_err e;
    if (store_template_rm(cli_db(c), ref, &e) < 0)
        return cli_fail(&e);
    if (!c->json)
        printf("removed template \"%s\"\n", ref);
    return 0;
}

static const struct cli_command template_commands[] = {
    { "add", template_add, NULL }, { "ls", template_ls, NULL }, { "show", template_show, NULL },
    { "rm", template_rm, NULL },   { NULL, NULL, NULL },
};

/* cmd_template - postino template SUBCOMMAND. */
int cmd_template(struct cli *c, int argc, char **argv)
{
    c->usage = template_usage;
    return cli_dispatch(c, template_commands, "template", argc, argv);
}
