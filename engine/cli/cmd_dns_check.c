/*
 * cmd_dns_check - postino dns check DOMAIN [--ip ADDR] [--selector S]: what
 * the DNS says of DOMAIN now, asked live (engine/send/dns_report.h), each
 * finding ok, warning or error with its fix. Exit status 1 when any finding
 * is an error.
 */
#include <stdio.h>
#include <string.h>

#include "engine/cli/cli.h"
#include "engine/send/dns_report.h"

static const char check_usage[] =
    "usage: postino dns check DOMAIN [--ip ADDR] [--selector S] [--json]\n"
    "\n"
    "Asks the DNS (the servers of [dns] servers, else the system's) about DOMAIN:\n"
    "SPF evaluated for ADDR (default [dns] ip), each DKIM key postino holds for\n"
    "DOMAIN (or only selector S) against its published record, DMARC's policy and\n"
    "alignment, MX of the bounce domain, ADDR's reverse name and its forward\n"
    "confirmation. Each finding is ok, warning or error, with the record to publish.\n"
    "Exit status 1 when any finding is an error.\n";

static void print_report(json_t *rep)
{
    size_t i;
    json_t *f;
    const char *ip = json_string_value(json_object_get(rep, "ip"));
    printf("DNS check of %s (sending from %s, envelope domain %s)\n\n", json_string_value(json_object_get(rep, "domain")),
           ip ? ip : "an address not given", json_string_value(json_object_get(rep, "bounce_domain")));
    json_array_foreach(json_object_get(rep, "findings"), i, f) {
        const char *fix = json_string_value(json_object_get(f, "fix"));
        printf("%-8s %-10s %s\n", json_string_value(json_object_get(f, "level")),
               json_string_value(json_object_get(f, "check")), json_string_value(json_object_get(f, "message")));
        if (fix)
            printf("%-8s %-10s fix: %s\n", "", "", fix);
    }
    long long e = json_integer_value(json_object_get(rep, "errors"));
    long long w = json_integer_value(json_object_get(rep, "warnings"));
    printf("\n%lld ok, %lld warning%s, %lld error%s\n", json_integer_value(json_object_get(rep, "ok")), w,
           w == 1 ? "" : "s", e, e == 1 ? "" : "s");
}

/* cmd_dns_check - postino dns check DOMAIN [--ip ADDR] [--selector S]. */
int cmd_dns_check(struct cli *c, int argc, char **argv)
{
    static const struct option opts[] = {
        { "ip", required_argument, NULL, 'i' },
        { "selector", required_argument, NULL, 's' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    const char *ip = NULL, *selector = NULL;
    int opt;
    c->usage = check_usage;
    optind = 0;
    while ((opt = cli_parse(c, argc, argv, "h", opts)) != -1) {
        if (opt == 'i')
            ip = optarg;
        else if (opt == 's')
            selector = optarg;
    }
    const char *domain = cli_operand(c, argc, argv, "domain");
    struct store_err e;
    json_t *rep;
    int rc = dns_report_run(cli_db(c), domain, ip, selector, &rep, &e);
    if (rc == STORE_ERR_INVALID && e.field)
        cli_usage(c, "%s", e.msg);
    if (rc < 0)
        return cli_fail(&e);
    if (c->json)
        cli_print_json(rep);
    else
        print_report(rep);
    rc = json_integer_value(json_object_get(rep, "errors")) > 0 ? 1 : 0;
    json_decref(rep);
    return rc;
}
