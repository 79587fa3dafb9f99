/*
 * cmd_relay - postino relay add | ls | rm | test.
 *
 * The defaults follow an SMTP VPS: port 587 with STARTTLS and password
 * authentication; port 25 with --tls none or auto where a provider blocks
 * 587. A password is read from a file (never from the command line) and is
 * never printed again.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/cli/cli.h"
#include "engine/mail/smtp_reply.h"
#include "engine/send/relay.h"
#include "engine/store/relays.h"
#include "engine/util/alloc.h"
#include "engine/util/file.h"
#include "engine/util/log.h"
#include "engine/util/str.h"

static const char relay_usage[] =
    "usage: postino relay add NAME --host HOST [--port 587] [--tls starttls|tls|none|auto]\n"
    "                         [--user USER --password-file FILE] [--max-conns 4] [--max-per-conn 100]\n"
    "                         [--rate N/s] [--quota N/PERIOD] [--ca-file FILE | --tls-verify no]\n"
    "                         [--allow-plain-auth] [--json]\n"
    "       postino relay ls [--json]\n"
    "       postino relay rm NAME\n"
    "       postino relay test NAME   (connect, EHLO, STARTTLS, AUTH, QUIT; each step printed)\n"
    "\n"
    "--rate paces messages (10/s, 600/m, 3600/h); --quota caps recipients per period\n"
    "as PolicyD counts them (1000/h, 20000/d, 500/30m). The password is never sent\n"
    "without TLS (with --tls auto, a server that offers no STARTTLS gets no AUTH);\n"
    "--allow-plain-auth lets it go in clear to a relay on this machine only.\n";

static void print_relay(json_t *r)
{
    json_t *rate = json_object_get(r, "rate"), *quota = json_object_get(r, "quota");
    printf("%-16s %-28s %5lld %-9s %-16s %5lld  ", json_string_value(json_object_get(r, "name")),
           json_string_value(json_object_get(r, "host")), json_integer_value(json_object_get(r, "port")),
           json_string_value(json_object_get(r, "tls")),
           json_is_string(json_object_get(r, "username")) ? json_string_value(json_object_get(r, "username")) : "-",
           json_integer_value(json_object_get(r, "max_conns")));
    if (json_is_number(rate))
        printf("%g/s ", json_number_value(rate));
    else
        printf("- ");
    if (json_is_integer(quota))
        printf("%lld/%llds", json_integer_value(quota), json_integer_value(json_object_get(r, "quota_period_s")));
    else
        printf("-");
    putchar('\n');
}

/* a number given to OPT, any value: its bounds are relay_input_check's */
static long number_arg(struct cli *c, const char *opt, const char *arg)
{
    long v;
    if (str_parse_long(arg, -2147483647L, 2147483647L, &v) < 0)
        cli_usage(c, "%s takes a number, not '%s'", opt, arg);
    return v;
}

static int relay_add(struct cli *c, int argc, char **argv)
{
    static const struct option opts[] = {
        { "host", required_argument, NULL, 'H' },         { "port", required_argument, NULL, 'p' },
        { "tls", required_argument, NULL, 't' },          { "user", required_argument, NULL, 'u' },
        { "password-file", required_argument, NULL, 'P' }, { "max-conns", required_argument, NULL, 'c' },
        { "max-per-conn", required_argument, NULL, 'm' }, { "rate", required_argument, NULL, 'r' },
        { "quota", required_argument, NULL, 'q' },        { "ca-file", required_argument, NULL, 'C' },
        { "tls-verify", required_argument, NULL, 'v' },   { "help", no_argument, NULL, 'h' },
        { "allow-plain-auth", no_argument, NULL, 'A' },   { NULL, 0, NULL, 0 },
    };
    struct relay_input in = { .tls_verify = true, .port = -1, .max_conns = -1, .max_per_conn = -1 };
    const char *password_file = NULL;
    int opt;
    while ((opt = cli_parse(c, argc, argv, "h", opts)) != -1) {
        switch (opt) {
        case 'H': in.host = optarg; break;
        case 'p': in.port = number_arg(c, "--port", optarg); break;
        case 't': in.tls = optarg; break;
        case 'u': in.username = optarg; break;
        case 'P': password_file = optarg; break;
        case 'c': in.max_conns = number_arg(c, "--max-conns", optarg); break;
        case 'm': in.max_per_conn = number_arg(c, "--max-per-conn", optarg); break;
        case 'r': in.rate = optarg; break;
        case 'q': in.quota = optarg; break;
        case 'C': in.ca_file = optarg; break;
        case 'A': in.allow_plain_auth = true; break;
        case 'v':
            if (strcmp(optarg, "no") && strcmp(optarg, "yes"))
                cli_usage(c, "--tls-verify takes yes or no");
            in.tls_verify = strcmp(optarg, "yes") == 0;
            break;
        }
    }
    in.name = cli_operand(c, argc, argv, "relay name");
    if (!in.host)
        cli_usage(c, "relay add needs --host");
    if (!!in.username != !!password_file)
        cli_usage(c, "--user and --password-file go together");
    struct buf pw = BUF_INIT;
    char err[512];
    if (password_file) {
        if (file_read(password_file, 4096, &pw, err, sizeof(err)) < 0)
            log_fatal("%s", err);
        while (pw.len && (pw.data[pw.len - 1] == '\n' || pw.data[pw.len - 1] == '\r'))
            buf_truncate(&pw, pw.len - 1);
        if (!pw.len)
            log_fatal("the password file %s is empty", password_file);
        in.password = pw.data;
    }
    struct relay_check why;
    struct relay_def r;
    if (relay_input_check(&in, &r, &why) < 0) {
        if (pw.data)
            memset(pw.data, 0, pw.len);
        buf_free(&pw);
        cli_usage(c, "%s", why.why); /* a bad value is a usage error (exit 2), in the API's words */
    }
    struct store_err e;
    json_t *out;
    int rc = store_relay_add(cli_db(c), &r, &out, &e);
    if (pw.data)
        memset(pw.data, 0, pw.len);
    buf_free(&pw);
    if (rc < 0)
        return cli_fail(&e);
    if (c->json)
        cli_print_json(out);
    else
        printf("added relay \"%s\": %s port %d, tls %s%s\n", r.name, r.host, r.port, r.tls,
               r.username ? ", password authentication" : "");
    json_decref(out);
    return 0;
}

static const struct option plain_opts[] = { { "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 } };

static int relay_ls(struct cli *c, int argc, char **argv)
{
    cli_no_operands(c, argc, argv);
    struct store_err e;
    json_t *arr, *r;
    size_t i;
    if (store_relay_ls(cli_db(c), &arr, &e) < 0)
        return cli_fail(&e);
    if (c->json) {
        cli_print_json(arr);
    } else {
        printf("%-16s %-28s %5s %-9s %-16s %5s  %s\n", "NAME", "HOST", "PORT", "TLS", "USER", "CONNS", "RATE QUOTA");
        json_array_foreach(arr, i, r) print_relay(r);
    }
    json_decref(arr);
    return 0;
}

static int relay_rm(struct cli *c, int argc, char **argv)
{
    while (cli_parse(c, argc, argv, "h", plain_opts) != -1)
        ;
    const char *name = cli_operand(c, argc, argv, "relay name");
    struct store_err e;
    if (store_relay_rm(cli_db(c), name, &e) < 0)
        return cli_fail(&e);
    if (!c->json)
        printf("removed relay \"%s\"\n", name);
    return 0;
}

static int relay_test(struct cli *c, int argc, char **argv)
{
    while (cli_parse(c, argc, argv, "h", plain_opts) != -1)
        ;
    const char *name = cli_operand(c, argc, argv, "relay name");
    struct store_err e;
    struct relay_def *defs;
    size_t n;
    if (store_relay_load(cli_db(c), name, &defs, &n, &e) < 0)
        return cli_fail(&e);
    struct buf report = BUF_INIT;
    struct relay_answer ans;
    int rc = relay_probe(&defs[0], &report, &ans);
    char line[600];
    if (c->json) {
        json_t *j = json_pack("{s:s,s:b,s:s,s:i,s:s,s:s,s:s}", "relay", name, "ok", rc == 0, "stage", ans.stage, "code",
                              ans.code, "enhanced", ans.enhanced, "text", ans.text, "report", buf_cstr(&report));
        cli_print_json(j);
        json_decref(j);
    } else {
        fputs(buf_cstr(&report), stdout);
        printf("%s\n", rc == 0 ? "quit: ok" : "relay test failed");
    }
    if (rc < 0)
        log_error("relay %s: %s failed: %s", name, ans.stage[0] ? ans.stage : "connect",
                  smtp_reply_line(ans.code, ans.enhanced, ans.text, line, sizeof(line)));
    buf_free(&report);
    relay_defs_free(defs, n);
    return rc == 0 ? 0 : 1;
}

static const struct cli_command relay_commands[] = {
    { "add", relay_add, NULL }, { "ls", relay_ls, NULL }, { "rm", relay_rm, NULL },
    { "test", relay_test, NULL }, { NULL, NULL, NULL },
};

/* cmd_relay - postino relay SUBCOMMAND. */
int cmd_relay(struct cli *c, int argc, char **argv)
{
    c->usage = relay_usage;
    return cli_dispatch(c, relay_commands, "relay", argc, argv);
}
