/*
 * cmd_dkim - postino dkim add | ls | record | rm, and postino dns (dns check: cmd_dns_check.c).
 *
 * dkim add generates a key pair, stores it, and prints the DNS record to
 * publish (name, type, value, and a zone-file line), as an SMTP VPS's
 * add_dkim.sh does. The private key is never printed.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "engine/cli/cli.h"
#include "engine/mail/dkim.h"
#include "engine/store/dkim_keys.h"
#include "engine/util/alloc.h"
#include "engine/util/log.h"
#include "engine/util/str.h"

static const char dkim_usage[] =
    "usage: postino dkim add DOMAIN [--selector S] [--algorithm rsa|ed25519] [--bits 2048] [--json]\n"
    "       postino dkim ls [--json]\n"
    "       postino dkim record DOMAIN [--json]\n"
    "       postino dkim rm DOMAIN [--selector S]\n"
    "\n"
    "The default selector is postino-YYYYMM-rsa or postino-YYYYMM-ed25519. A domain\n"
    "with both an RSA and an Ed25519 key gets both signatures on every message.\n";

static const char dns_usage[] =
    "usage: postino dns DOMAIN --ip ADDR [--ip ADDR]... [--rua MAILTO] [--json]\n"
    "       postino dns check DOMAIN [--ip ADDR] [--selector S] [--json]\n"
    "\n"
    "Prints the SPF, DKIM and DMARC records to publish for DOMAIN sending from ADDR.\n";

static void domain_arg(const char *arg, char out[ADDRESS_MAX + 1])
{
    const char *why;
    if (address_domain_normalize(arg, out, ADDRESS_MAX + 1, &why) < 0)
        log_fatal("invalid domain \"%s\": %s", arg, why);
}

/* record_json - the DNS record of a stored key (public side only), with its zone line */
static json_t *record_json(json_t *key)
{
    enum dkim_alg alg;
    struct buf txt = BUF_INIT, zone = BUF_INIT;
    if (dkim_alg_parse(json_string_value(json_object_get(key, "algorithm")), &alg) < 0)
        log_panic("dkim: stored algorithm is unknown");
    dkim_txt_record(&txt, alg, json_string_value(json_object_get(key, "public_key")));
    dkim_zone_line(&zone, json_string_value(json_object_get(key, "selector")),
                   json_string_value(json_object_get(key, "domain")), txt.data);
    json_t *j = json_pack("{s:O,s:O,s:O,s:O,s:s,s:s,s:s,s:O}", "domain", json_object_get(key, "domain"),
                          "selector", json_object_get(key, "selector"), "algorithm",
                          json_object_get(key, "algorithm"), "name", json_object_get(key, "name"), "type", "TXT",
                          "value", txt.data, "zone", zone.data, "created_at", json_object_get(key, "created_at"));
    buf_free(&txt);
    buf_free(&zone);
    return j;
}

static void print_record(json_t *r)
{
    printf("name:  %s\ntype:  TXT\nvalue: %s\nzone:  %s\n", json_string_value(json_object_get(r, "name")),
           json_string_value(json_object_get(r, "value")), json_string_value(json_object_get(r, "zone")));
}

static int dkim_add(struct cli *c, int argc, char **argv)
{
    static const struct option opts[] = {
        { "selector", required_argument, NULL, 's' }, { "algorithm", required_argument, NULL, 'a' },
        { "bits", required_argument, NULL, 'b' },     { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    const char *selector = NULL, *alg_name = "rsa";
    long bits = 0;
    int opt;
    while ((opt = cli_parse(c, argc, argv, "h", opts)) != -1) {
        if (opt == 's')
            selector = optarg;
        else if (opt == 'a')
            alg_name = optarg;
        else if (opt == 'b' && str_parse_long(optarg, DKIM_RSA_MIN_BITS, DKIM_RSA_MAX_BITS, &bits) < 0)
            cli_usage(c, "--bits must be a number from %d to %d", DKIM_RSA_MIN_BITS, DKIM_RSA_MAX_BITS);
    }
    enum dkim_alg alg;
    if (strcmp(alg_name, "rsa") != 0 && strcmp(alg_name, "ed25519") != 0)
        cli_usage(c, "--algorithm must be rsa or ed25519, not '%s'", alg_name);
    dkim_alg_parse(alg_name, &alg);
    if (bits && alg != DKIM_RSA_SHA256)
        cli_usage(c, "--bits applies to rsa keys only");
    char domain[ADDRESS_MAX + 1], sel[64];
    domain_arg(cli_operand(c, argc, argv, "domain"), domain);
    if (selector) {
        snprintf(sel, sizeof(sel), "%s", selector);
        str_lower(sel);
        if (!dkim_selector_ok(sel))
            cli_usage(c, "--selector must be one DNS label (letters, digits, hyphens), not '%s'", selector);
    } else {
        dkim_selector_default(alg, time(NULL), sel, sizeof(sel));
    }
    if (alg == DKIM_RSA_SHA256 && !bits)
        bits = DKIM_RSA_DEFAULT_BITS;
    PGconn *conn = cli_db(c);
    char *pem = NULL, *pub = NULL;
    const char *why;
    if (dkim_key_generate(alg, (int)bits, &pem, &pub, &why) < 0)
        log_fatal("cannot generate a DKIM key for %s: %s", domain, why);
    struct store_err e;
    json_t *key;
    int rc = store_dkim_add(conn, domain, sel, alg_name, (int)bits, pem, pub, &key, &e);
    dkim_secret_free(pem);
    xfree(pub);
    if (rc < 0)
        return cli_fail(&e);
    json_t *r = record_json(key);
    if (c->json) {
        json_object_set_new(r, "bits", bits ? json_integer(bits) : json_null());
        cli_print_json(r);
    } else {
        printf("DKIM key for %s: %s%s%.0ld%s, selector %s\n\nPublish this record in the zone of %s:\n\n", domain,
               alg_name, bits ? " " : "", bits, bits ? " bits" : "", sel, domain);
        print_record(r);
    }
    json_decref(r);
    json_decref(key);
    return 0;
}

static const struct option plain_opts[] = { { "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 } };

static int dkim_ls(struct cli *c, int argc, char **argv)
{
    cli_no_operands(c, argc, argv);
    struct store_err e;
    json_t *arr, *k;
    size_t i;
    if (store_dkim_ls(cli_db(c), &arr, &e) < 0)
        return cli_fail(&e);
    if (c->json) {
        cli_print_json(arr);
    } else {
        printf("%-32s %-28s %-8s %5s  %s\n", "DOMAIN", "SELECTOR", "ALG", "BITS", "CREATED");
        json_array_foreach(arr, i, k)
            printf("%-32s %-28s %-8s %5lld  %s\n", json_string_value(json_object_get(k, "domain")),
                   json_string_value(json_object_get(k, "selector")),
                   json_string_value(json_object_get(k, "algorithm")), json_integer_value(json_object_get(k, "bits")),
                   json_string_value(json_object_get(k, "created_at")));
    }
    json_decref(arr);
    return 0;
}

/* domain_records - the DNS records of DOMAIN's keys as a JSON array; NULL (error logged) when none */
static json_t *domain_records(struct cli *c, const char *domain, int *rc)
{
    struct store_err e;
    json_t *keys, *k;
    size_t i;
    if (store_dkim_domain(cli_db(c), domain, &keys, &e) < 0) {
        *rc = e.code;
        if (e.code != STORE_ERR_NOTFOUND)
            cli_fail(&e);
        return NULL;
    }
    json_t *out = json_array();
    json_array_foreach(keys, i, k) json_array_append_new(out, record_json(k));
    json_decref(keys);
    return out;
}

static int dkim_record(struct cli *c, int argc, char **argv)
{
    char domain[ADDRESS_MAX + 1];
    int rc = 0;
    while (cli_parse(c, argc, argv, "h", plain_opts) != -1)
        ;
    domain_arg(cli_operand(c, argc, argv, "domain"), domain);
    json_t *recs = domain_records(c, domain, &rc);
    if (!recs) {
        if (rc == STORE_ERR_NOTFOUND)
            log_error("no DKIM key for %s: 'postino dkim add %s' makes one", domain, domain);
        return 1;
    }
    if (c->json) {
        cli_print_json(recs);
    } else {
        size_t i;
        json_t *r;
        json_array_foreach(recs, i, r) {
            printf("%s", i ? "\n" : "");
            print_record(r);
        }
    }
    json_decref(recs);
    return 0;
}

static int dkim_rm(struct cli *c, int argc, char **argv)
{
    static const struct option opts[] = {
        { "selector", required_argument, NULL, 's' }, { "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 },
    };
    const char *selector = NULL;
    char domain[ADDRESS_MAX + 1];
    int opt, removed = 0;
    while ((opt = cli_parse(c, argc, argv, "h", opts)) != -1)
        if (opt == 's')
            selector = optarg;
    domain_arg(cli_operand(c, argc, argv, "domain"), domain);
    struct store_err e;
    if (store_dkim_rm(cli_db(c), domain, selector, &removed, &e) < 0)
        return cli_fail(&e);
    if (!c->json)
        printf("removed %d DKIM key%s of %s\n", removed, removed == 1 ? "" : "s", domain);
    return 0;
}

static const struct cli_command dkim_commands[] = {
    { "add", dkim_add, NULL }, { "ls", dkim_ls, NULL }, { "record", dkim_record, NULL },
    { "rm", dkim_rm, NULL },   { NULL, NULL, NULL },
};

/* cmd_dkim - postino dkim SUBCOMMAND. */
int cmd_dkim(struct cli *c, int argc, char **argv)
{
    c->usage = dkim_usage;
    return cli_dispatch(c, dkim_commands, "dkim", argc, argv);
}

/* cmd_dns - postino dns DOMAIN --ip ADDR: SPF, DKIM and DMARC records to publish. */
int cmd_dns(struct cli *c, int argc, char **argv)
{
    static const struct option opts[] = {
        { "ip", required_argument, NULL, 'i' }, { "rua", required_argument, NULL, 'r' },
        { "help", no_argument, NULL, 'h' },     { NULL, 0, NULL, 0 },
    };
    struct buf spf = BUF_INIT;
    const char *rua = NULL;
    char domain[ADDRESS_MAX + 1], rua_addr[ADDRESS_MAX + 16];
    int opt, nip = 0, rc = 0;
    if (argc > 1 && strcmp(argv[1], "check") == 0) {
        optind = 0;
        return cmd_dns_check(c, argc - 1, argv + 1);
    }
    c->usage = dns_usage;
    optind = 0;
    buf_appends(&spf, "v=spf1");
    while ((opt = cli_parse(c, argc, argv, "h", opts)) != -1) {
        unsigned char bin[16];
        if (opt == 'r') {
            rua = optarg;
        } else if (opt == 'i') {
            if (inet_pton(AF_INET, optarg, bin) == 1)
                buf_appendf(&spf, " ip4:%s", optarg);
            else if (inet_pton(AF_INET6, optarg, bin) == 1)
                buf_appendf(&spf, " ip6:%s", optarg);
            else
                cli_usage(c, "--ip takes an IPv4 or IPv6 address, not '%s'", optarg);
            nip++;
        }
    }
    domain_arg(cli_operand(c, argc, argv, "domain"), domain);
    if (!nip)
        cli_usage(c, "dns needs --ip ADDR, the address mail leaves from");
    buf_appends(&spf, " ~all");
    if (rua)
        cli_email_arg(rua, rua_addr);
    else
        snprintf(rua_addr, sizeof(rua_addr), "dmarc-reports@%s", domain);
    char *dmarc = xasprintf("v=DMARC1; p=none; rua=mailto:%s; adkim=r; aspf=r", rua_addr);
    char *dmarc_name = xasprintf("_dmarc.%s", domain);
    json_t *dkim = domain_records(c, domain, &rc);
    if (!dkim && rc != STORE_ERR_NOTFOUND)
        return 1;
    if (c->json) {
        json_t *j = json_pack("{s:s,s:{s:s,s:s,s:s},s:o,s:{s:s,s:s,s:s}}", "domain", domain, "spf", "name", domain,
                              "type", "TXT", "value", spf.data, "dkim", dkim ? dkim : json_array(), "dmarc", "name",
                              dmarc_name, "type", "TXT", "value", dmarc);
        cli_print_json(j);
        json_decref(j);
    } else {
        printf("SPF (who may send for %s; add include: for other services that send for it,\n"
               "and tighten ~all to -all once every sender is listed):\nname:  %s\ntype:  TXT\nvalue: %s\n\n",
               domain, domain, spf.data);
        if (dkim && json_array_size(dkim)) {
            size_t i;
            json_t *r;
            json_array_foreach(dkim, i, r) {
                printf("DKIM:\n");
                print_record(r);
                printf("\n");
            }
        } else {
            printf("DKIM: no key for %s yet: 'postino dkim add %s' makes one and prints its record.\n\n", domain,
                   domain);
        }
        printf("DMARC (start with p=none, read the reports, then move to quarantine or reject):\n"
               "name:  %s\ntype:  TXT\nvalue: %s\n",
               dmarc_name, dmarc);
        json_decref(dkim);
    }
    xfree(dmarc);
    xfree(dmarc_name);
    buf_free(&spf);
    return 0;
}
