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
#include "engine/send/relay.h"
#include "engine/store/relays.h"
#include "engine/util/alloc.h"
#include "engine/util/file.h"
#include "engine/util/log.h"
#include "engine/util/str.h"

static const char relay_usage[] =
    "usage: postino relay add NAME --host HOST [--port 587] [--tls starttls|tls|none|auto]\n"
    "                         [--user USER --password-file FILE] [--max-conns 4] [--max-per-conn 100]\n"
    "                         [--rate N/s] [--quota N/PERIOD] [--ca-file FILE | --tls-verify no] [--json]\n"
    "       postino relay ls [--json]\n"
    "       postino relay rm NAME\n"
    "       postino relay test NAME   (connect, EHLO, STARTTLS, AUTH, QUIT; each step printed)\n"
    "\n"
    "--rate paces messages (10/s, 600/m, 3600/h); --quota caps recipients per period\n"
    "as PolicyD counts them (1000/h, 20000/d, 500/30m).\n";

/* parse_period - "s", "m", "h", "d", optionally preceded by a number ("30m"); seconds, or -1 */
static long parse_period(const char *p)
{
    long n = 1;
    char *end;
    if (*p >= '0' && *p <= '9') {
        n = strtol(p, &end, 10);
        p = end;
    }
    long unit = strcmp(p, "s") == 0 ? 1 : strcmp(p, "m") == 0 ? 60 : strcmp(p, "h") == 0 ? 3600
              : strcmp(p, "d") == 0 ? 86400 : -1;
    return unit < 0 || n <= 0 ? -1 : n * unit;
}

/* parse_per - "N/PERIOD" into N and the period in seconds; -1 when malformed */
static int parse_per(const char *arg, double *n, long *period_s)
{
    char *end;
    *n = strtod(arg, &end);
    if (end == arg || *n <= 0)
        return -1;
    if (*end == 0) {
        *period_s = 1;
        return 0;
    }
    if (*end != '/')
        return -1;
    *period_s = parse_period(end + 1);
    return *period_s > 0 ? 0 : -1;
}

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

static int relay_add(struct cli *c, int argc, char **argv)
{
    static const struct option opts[] = {
        { "host", required_argument, NULL, 'H' },         { "port", required_argument, NULL, 'p' },
        { "tls", required_argument, NULL, 't' },          { "user", required_argument, NULL, 'u' },
        { "password-file", required_argument, NULL, 'P' }, { "max-conns", required_argument, NULL, 'c' },
        { "max-per-conn", required_argument, NULL, 'm' }, { "rate", required_argument, NULL, 'r' },
        { "quota", required_argument, NULL, 'q' },        { "ca-file", required_argument, NULL, 'C' },
        { "tls-verify", required_argument, NULL, 'v' },   { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    struct relay_def r = { 0 };
    const char *password_file = NULL;
    long v, port = 0;
    double qn = 0;
    int opt;
    r.tls = "starttls";
    r.tls_verify = true;
    r.max_conns = 4;
    r.max_per_conn = 100;
    while ((opt = cli_parse(c, argc, argv, "h", opts)) != -1) {
        switch (opt) {
        case 'H': r.host = optarg; break;
        case 'p':
            if (str_parse_long(optarg, 1, 65535, &port) < 0)
                cli_usage(c, "--port must be from 1 to 65535");
            break;
        case 't':
            if (strcmp(optarg, "starttls") && strcmp(optarg, "tls") && strcmp(optarg, "none") && strcmp(optarg, "auto"))
                cli_usage(c, "--tls must be starttls, tls, none or auto, not '%s'", optarg);
            r.tls = optarg;
            break;
        case 'u': r.username = optarg; break;
        case 'P': password_file = optarg; break;
        case 'c':
            if (str_parse_long(optarg, 1, 1000, &v) < 0)
                cli_usage(c, "--max-conns must be from 1 to 1000");
            r.max_conns = (int)v;
            break;
        case 'm':
            if (str_parse_long(optarg, 1, 100000, &v) < 0)
                cli_usage(c, "--max-per-conn must be from 1 to 100000");
            r.max_per_conn = (int)v;
            break;
        case 'r': {
            long per;
            if (parse_per(optarg, &r.rate, &per) < 0)
                cli_usage(c, "--rate takes N/s, N/m or N/h, not '%s'", optarg);
            r.rate /= (double)per;
            break;
        }
        case 'q':
            if (parse_per(optarg, &qn, &r.quota_period_s) < 0 || qn != (long)qn || strchr(optarg, '/') == NULL)
                cli_usage(c, "--quota takes N/PERIOD (1000/h, 20000/d), not '%s'", optarg);
            r.quota = (long)qn;
            break;
        case 'C': r.ca_file = optarg; break;
        case 'v':
            if (strcmp(optarg, "no") && strcmp(optarg, "yes"))
                cli_usage(c, "--tls-verify takes yes or no");
            r.tls_verify = strcmp(optarg, "yes") == 0;
            break;
        }
    }
    r.name = (char *)cli_operand(c, argc, argv, "relay name");
    if (!r.host)
        cli_usage(c, "relay add needs --host");
    if (!!r.username != !!password_file)
        cli_usage(c, "--user and --password-file go together");
    if (r.ca_file && !r.tls_verify)
        cli_usage(c, "--ca-file and --tls-verify no exclude each other");
    r.port = port ? (int)port : strcmp(r.tls, "tls") == 0 ? 465 : strcmp(r.tls, "starttls") == 0 ? 587 : 25;
    struct buf pw = BUF_INIT;
    char err[512];
    if (password_file) {
        if (file_read(password_file, 4096, &pw, err, sizeof(err)) < 0)
            log_fatal("%s", err);
        while (pw.len && (pw.data[pw.len - 1] == '\n' || pw.data[pw.len - 1] == '\r'))
            buf_truncate(&pw, pw.len - 1);
        if (!pw.len)
            log_fatal("the password file %s is empty", password_file);
        r.password = pw.data;
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
    if (c->json) {
        json_t *j = json_pack("{s:s,s:b,s:s,s:i,s:s,s:s}", "relay", name, "ok", rc == 0, "stage", ans.stage, "code",
                              ans.code, "text", ans.text, "report", buf_cstr(&report));
        cli_print_json(j);
        json_decref(j);
    } else {
        fputs(buf_cstr(&report), stdout);
        printf("%s\n", rc == 0 ? "quit: ok" : "relay test failed");
    }
    if (rc < 0)
        log_error("relay %s: %s failed: %s", name, ans.stage[0] ? ans.stage : "connect", ans.text);
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
