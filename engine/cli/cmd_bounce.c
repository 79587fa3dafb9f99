/*
 * cmd_bounce - postino bounce [intake] | ls | show | policy | rules | add | fetch.
 *
 * With no subcommand, one message is read on standard input, as Postfix's
 * pipe transport delivers it, and recorded (store_bounce_ingest_raw). Its exit
 * status follows sysexits for Postfix: 0 when the message is recorded (as a
 * bounce, or kept as unmatched), 75 (EX_TEMPFAIL) when the database cannot be
 * reached or fails, so that Postfix keeps the message and retries.
 */
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/cli/cli.h"
#include "engine/mail/classify.h"
#include "engine/send/bounce_fetch.h"
#include "engine/store/bounces.h"
#include "engine/util/alloc.h"
#include "engine/util/buf.h"
#include "engine/send/settings_send.h"
#include "engine/util/log.h"
#include "engine/util/str.h"

#define EX_TEMPFAIL_ 75
#define BOUNCE_READ_MAX (10u << 20)

static const char bounce_usage[] =
    "usage: postino bounce [--recipient ADDR] [--trusted] [--keep BYTES] [--json] < MESSAGE\n"
    "       postino bounce ls [--campaign ID] [--class hard|soft|complaint|policy|unknown] [--limit N]\n"
    "                         [--before ID] [--json]\n"
    "       postino bounce ls --unmatched [--class autoreply|delay|hard|...] [--limit N] [--before ID] [--json]\n"
    "       postino bounce show ID [--json]\n"
    "       postino bounce fetch [--once] [--json]   (the [bounce] mailbox, over IMAP or POP3)\n"
    "       postino bounce policy [CLASS [--threshold N] [--action none|disable|unsubscribe|blocklist|delete]\n"
    "                             [--consecutive yes|no]] [--json]\n"
    "       postino bounce rules [--json]\n"
    "       postino bounce rules add REGEX --class C [--position N] [--beats-code] [--description TEXT] [--json]\n"
    "       postino bounce rules rm ID\n"
    "       postino bounce add EMAIL --type hard|soft|complaint|policy|unknown|bounce [--status 5.1.1]\n"
    "                          [--reason TEXT] [--campaign ID] [--json]   (as a provider's webhook reports it)\n"
    "\n"
    "With no subcommand: one message on stdin, for Postfix's pipe transport\n"
    "(argv=postino bounce --recipient ${original_recipient}). Exit 0 when it is\n"
    "recorded (a message that is not a bounce is kept as unmatched), 75 when the\n"
    "database is unreachable: Postfix keeps the message and retries.\n"
    "A report acts on the subscriber (blocklist, unsubscribe, disable) only when\n"
    "its VERP token is valid, or with --trusted (a path only genuine reports can\n"
    "take); any other is recorded as unverified and shown, never acted on.\n"
    "Class policy is a sending problem (the receiver refused the sender: reputation,\n"
    "blocklist, content, authentication) and never suppresses the recipient.\n";

/* a class bounces are recorded with (not autoreply or delay, which are never bounces) */
static bool recorded_class(const char *name)
{
    enum bounce_class c = bounce_class_parse(name);
    return c != BOUNCE_NONE && c != BOUNCE_AUTOREPLY && c != BOUNCE_DELAY;
}

static const struct option plain_opts[] = { { "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 } };

/* read all of standard input, keeping at most MAX bytes; -1 on a read error */
static int read_stdin(struct buf *b, size_t max)
{
    char chunk[65536];
    for (;;) {
        ssize_t n = read(0, chunk, sizeof(chunk));
        if (n < 0)
            return -1;
        if (n == 0)
            return 0;
        if (b->len < max)
            buf_append(b, chunk, (size_t)n < max - b->len ? (size_t)n : max - b->len);
    }
}

static const char *jstr(json_t *o, const char *k)
{
    json_t *v = json_object_get(o, k);
    return json_is_string(v) ? json_string_value(v) : "-";
}

static long long jint(json_t *o, const char *k)
{
    return json_integer_value(json_object_get(o, k));
}

static int bounce_intake(struct cli *c, int argc, char **argv)
{
    static const struct option opts[] = {
        { "recipient", required_argument, NULL, 'r' }, { "keep", required_argument, NULL, 'k' },
        { "trusted", no_argument, NULL, 't' },        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    struct bounce_intake in = { 0 };
    char why[128];
    int opt;
    in.keep_bytes = mail_settings.bounce_keep;
    in.local_part = mail_settings.bounce_local_part;
    while ((opt = cli_parse(c, argc, argv, "h", opts)) != -1) {
        switch (opt) {
        case 'r': in.envelope_to = optarg; break;
        case 't': in.trusted = true; break;
        case 'k':
            if (settings_set(mail_table, "keep", optarg, &mail_settings, why, sizeof(why)) < 0)
                cli_usage(c, "--keep %s bytes", why);
            in.keep_bytes = mail_settings.bounce_keep;
            break;
        }
    }
    if (optind < argc)
        cli_usage(c, "unexpected argument '%s'", argv[optind]);
    struct buf msg = BUF_INIT;
    if (read_stdin(&msg, BOUNCE_READ_MAX) < 0) {
        log_error("bounce: cannot read the message on standard input");
        return EX_TEMPFAIL_;
    }
    char err[1024];
    c->conn = db_open(cli_target(c), DB_OPEN_READY, err, sizeof(err));
    if (!c->conn) {
        log_error("%s (the message is left to the MTA to retry)", err);
        buf_free(&msg);
        return EX_TEMPFAIL_;
    }
    struct store_err e;
    json_t *res = NULL;
    int rc = store_bounce_ingest_raw(c->conn, buf_cstr(&msg), msg.len, &in, &res, &e);
    buf_free(&msg);
    if (rc < 0) {
        log_error("%s", e.msg);
        return rc == STORE_ERR_DB ? EX_TEMPFAIL_ : 1;
    }
    if (c->json) {
        cli_print_json(res);
    } else if (json_is_true(json_object_get(res, "matched"))) {
        json_t *b = json_object_get(res, "bounce");
        printf("bounce %lld: %s %s %s (campaign %lld, delivery %lld, matched by %s%s) -> %s\n", jint(b, "id"),
               jstr(b, "class"), jstr(b, "status"), jstr(b, "email"), jint(b, "campaign_id"), jint(b, "delivery_id"),
               jstr(res, "matched_by"), json_is_true(json_object_get(res, "verified")) ? "" : ", unverified",
               jstr(b, "action"));
    } else {
        printf("unmatched %lld: %s (%s %s %s)\n", jint(res, "unmatched_id"), jstr(res, "reason"), jstr(res, "class"),
               jstr(res, "status"), jstr(res, "email"));
    }
    json_decref(res);
    return 0;
}

static int bounce_ls(struct cli *c, int argc, char **argv)
{
    static const struct option opts[] = {
        { "campaign", required_argument, NULL, 'c' }, { "class", required_argument, NULL, 'C' },
        { "limit", required_argument, NULL, 'l' },    { "before", required_argument, NULL, 'b' },
        { "unmatched", no_argument, NULL, 'u' },      { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    struct bounce_filter f = { 0 };
    long v;
    int opt;
    while ((opt = cli_parse(c, argc, argv, "h", opts)) != -1) {
        switch (opt) {
        case 'c':
            if (str_parse_long(optarg, 1, INT64_MAX, &v) < 0)
                cli_usage(c, "--campaign takes a campaign id");
            f.campaign = v;
            break;
        case 'C':
            if (bounce_class_parse(optarg) == BOUNCE_NONE)
                cli_usage(c, "--class must be hard, soft, complaint, policy, unknown, autoreply or delay, not '%s'",
                          optarg);
            f.cls = optarg;
            break;
        case 'u': f.unmatched = true; break;
        case 'l':
            if (str_parse_long(optarg, 1, 100000, &v) < 0)
                cli_usage(c, "--limit must be from 1 to 100000");
            f.limit = v;
            break;
        case 'b':
            if (str_parse_long(optarg, 1, INT64_MAX, &v) < 0)
                cli_usage(c, "--before takes a bounce id");
            f.before = v;
            break;
        }
    }
    if (optind < argc)
        cli_usage(c, "unexpected argument '%s'", argv[optind]);
    if (f.unmatched && f.campaign)
        cli_usage(c, "--campaign: an unmatched report names no campaign");
    if (!f.unmatched && f.cls && !recorded_class(f.cls))
        cli_usage(c, "--class %s: auto-replies and delay warnings are not bounces (see --unmatched)", f.cls);
    struct store_err e;
    json_t *rows;
    if (store_bounce_ls(cli_db(c), &f, &rows, &e) < 0)
        return cli_fail(&e);
    if (c->json) {
        cli_print_json(rows);
    } else if (f.unmatched) {
        size_t i;
        json_t *b;
        printf("%-8s %-25s %-9s %-9s %-7s %-32s %s\n", "ID", "RECEIVED", "KIND", "CLASS", "STATUS", "EMAIL", "REASON");
        json_array_foreach(rows, i, b) {
            printf("%-8lld %-25.25s %-9s %-9s %-7s %-32s %s\n", jint(b, "id"), jstr(b, "received_at"), jstr(b, "kind"),
                   jstr(b, "class"), jstr(b, "status"), jstr(b, "email"), jstr(b, "reason"));
        }
    } else {
        size_t i;
        json_t *b;
        printf("%-8s %-25s %-9s %-7s %-6s %-8s %-11s %-32s %s\n", "ID", "RECEIVED", "CLASS", "STATUS", "SOURCE",
               "CAMPAIGN", "ACTION", "EMAIL", "NOTE");
        json_array_foreach(rows, i, b) {
            char camp[24] = "-";
            if (json_is_integer(json_object_get(b, "campaign_id")))
                snprintf(camp, sizeof(camp), "%lld", jint(b, "campaign_id"));
            bool unverified = json_is_true(json_object_get(b, "unverified"));
            bool sending = json_is_true(json_object_get(b, "sending_problem"));
            printf("%-8lld %-25.25s %-9s %-7s %-6s %-8s %-11s %-32s %s%s%s\n", jint(b, "id"), jstr(b, "received_at"),
                   jstr(b, "class"), jstr(b, "status"), jstr(b, "source"), camp, jstr(b, "action"), jstr(b, "email"),
                   sending ? "sending problem" : "", sending && unverified ? ", " : "",
                   unverified ? "unverified: not acted on" : "");
        }
    }
    json_decref(rows);
    return 0;
}

static int bounce_show(struct cli *c, int argc, char **argv)
{
    long id;
    while (cli_parse(c, argc, argv, "h", plain_opts) != -1)
        ;
    const char *arg = cli_operand(c, argc, argv, "bounce id");
    if (str_parse_long(arg, 1, INT64_MAX, &id) < 0)
        cli_usage(c, "a bounce id is a positive number, not '%s'", arg);
    struct store_err e;
    json_t *b;
    if (store_bounce_get(cli_db(c), id, &b, &e) < 0)
        return cli_fail(&e);
    if (c->json) {
        cli_print_json(b);
    } else {
        static const char *const keys[] = { "email", "class", "status", "diagnostic", "remote_mta", "source",
                                             "action", "matched_by", "subscriber_status", "received_at", "message_id",
                                             NULL };
        printf("id:           %lld\n", jint(b, "id"));
        for (size_t i = 0; keys[i]; i++)
            printf("%-13s %s\n", keys[i], jstr(b, keys[i]));
        printf("%-13s %lld\n", "campaign_id", jint(b, "campaign_id"));
        printf("%-13s %lld\n", "delivery_id", jint(b, "delivery_id"));
        printf("%-13s %lld\n", "subscriber_id", jint(b, "subscriber_id"));
        if (json_is_true(json_object_get(b, "sending_problem")))
            printf("%-13s %s\n", "note", "a sending problem: the receiver refused the sender, not the recipient");
        if (json_is_true(json_object_get(b, "unverified")))
            printf("%-13s %s\n", "verified",
                   "no: no valid VERP token and not from a trusted path; recorded, never acted on");
        if (json_is_string(json_object_get(b, "original")))
            printf("original%s:\n%s\n", json_is_true(json_object_get(b, "original_truncated")) ? " (truncated)" : "",
                   jstr(b, "original"));
    }
    json_decref(b);
    return 0;
}

static void print_policy(json_t *p)
{
    printf("%-10s %9lld  %-11s %s\n", jstr(p, "class"), jint(p, "threshold"),
           json_is_true(json_object_get(p, "consecutive")) ? "consecutive" : "total", jstr(p, "action"));
}

static int bounce_policy(struct cli *c, int argc, char **argv)
{
    static const struct option opts[] = {
        { "threshold", required_argument, NULL, 't' }, { "action", required_argument, NULL, 'a' },
        { "consecutive", required_argument, NULL, 'c' }, { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    static const char *const actions[] = { "none", "disable", "unsubscribe", "blocklist", "delete", NULL };
    long threshold = 0;
    const char *action = NULL;
    int consecutive = -1, opt;
    bool set = false;
    while ((opt = cli_parse(c, argc, argv, "h", opts)) != -1) {
        set = true;
        switch (opt) {
        case 't':
            if (str_parse_long(optarg, 1, 1000, &threshold) < 0)
                cli_usage(c, "--threshold must be from 1 to 1000");
            break;
        case 'a': {
            bool ok = false;
            for (size_t i = 0; actions[i]; i++)
                ok = ok || strcmp(actions[i], optarg) == 0;
            if (!ok)
                cli_usage(c, "--action must be none, disable, unsubscribe, blocklist or delete, not '%s'", optarg);
            action = optarg;
            break;
        }
        case 'c':
            if (strcmp(optarg, "yes") && strcmp(optarg, "no"))
                cli_usage(c, "--consecutive takes yes or no");
            consecutive = strcmp(optarg, "yes") == 0;
            break;
        }
    }
    struct store_err e;
    json_t *out;
    if (optind < argc) {
        const char *cls = cli_operand(c, argc, argv, "bounce class");
        if (!recorded_class(cls))
            cli_usage(c, "a bounce class is hard, soft, complaint, policy or unknown, not '%s'", cls);
        if (!set)
            cli_usage(c, "policy %s needs --threshold, --action or --consecutive", cls);
        if (store_bounce_policy_set(cli_db(c), cls, (int)threshold, action, consecutive, &out, &e) < 0)
            return cli_fail(&e);
        if (c->json)
            cli_print_json(out);
        else
            print_policy(out);
        json_decref(out);
        return 0;
    }
    if (set)
        cli_usage(c, "name the bounce class to change");
    if (store_bounce_policy_ls(cli_db(c), &out, &e) < 0)
        return cli_fail(&e);
    if (c->json) {
        cli_print_json(out);
    } else {
        size_t i;
        json_t *p;
        printf("%-10s %9s  %-11s %s\n", "CLASS", "THRESHOLD", "COUNTED", "ACTION");
        json_array_foreach(out, i, p)
            print_policy(p);
    }
    json_decref(out);
    return 0;
}

static void print_rule(json_t *r)
{
    printf("%-4lld %-5lld %-9s %-5s %s\n", jint(r, "id"), jint(r, "position"), jstr(r, "class"),
           json_is_true(json_object_get(r, "beats_code")) ? "yes" : "no", jstr(r, "pattern"));
}

static int rules_add(struct cli *c, int argc, char **argv)
{
    static const struct option opts[] = {
        { "class", required_argument, NULL, 'C' },       { "position", required_argument, NULL, 'p' },
        { "description", required_argument, NULL, 'd' }, { "beats-code", no_argument, NULL, 'B' },
        { "help", no_argument, NULL, 'h' },              { NULL, 0, NULL, 0 },
    };
    const char *cls = NULL, *desc = NULL;
    bool beats = false;
    long pos = 100;
    int opt;
    while ((opt = cli_parse(c, argc, argv, "h", opts)) != -1) {
        switch (opt) {
        case 'C':
            if (!recorded_class(optarg))
                cli_usage(c, "--class must be hard, soft, complaint, policy or unknown, not '%s'", optarg);
            cls = optarg;
            break;
        case 'B': beats = true; break;
        case 'p':
            if (str_parse_long(optarg, -1000000, 1000000, &pos) < 0)
                cli_usage(c, "--position takes a number");
            break;
        case 'd': desc = optarg; break;
        }
    }
    const char *pattern = cli_operand(c, argc, argv, "regular expression");
    if (!cls)
        cli_usage(c, "rules add needs --class");
    struct store_err e;
    json_t *r;
    if (store_bounce_rule_add(cli_db(c), (int)pos, pattern, cls, beats, desc, &r, &e) < 0)
        return cli_fail(&e);
    if (c->json)
        cli_print_json(r);
    else
        print_rule(r);
    json_decref(r);
    return 0;
}

static int rules_rm(struct cli *c, int argc, char **argv)
{
    long id;
    while (cli_parse(c, argc, argv, "h", plain_opts) != -1)
        ;
    const char *arg = cli_operand(c, argc, argv, "rule id");
    if (str_parse_long(arg, 1, INT64_MAX, &id) < 0)
        cli_usage(c, "a rule id is a positive number, not '%s'", arg);
    struct store_err e;
    if (store_bounce_rule_rm(cli_db(c), id, &e) < 0)
        return cli_fail(&e);
    return 0;
}

static int bounce_rules(struct cli *c, int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "add") == 0) {
        optind = 0;
        return rules_add(c, argc - 1, argv + 1);
    }
    if (argc >= 2 && strcmp(argv[1], "rm") == 0) {
        optind = 0;
        return rules_rm(c, argc - 1, argv + 1);
    }
    cli_no_operands(c, argc, argv);
    struct store_err e;
    json_t *out;
    if (store_bounce_rules_ls(cli_db(c), &out, &e) < 0)
        return cli_fail(&e);
    if (c->json) {
        cli_print_json(out);
    } else {
        size_t i;
        json_t *r;
        printf("%-4s %-5s %-9s %-5s %s\n", "ID", "POS", "CLASS", "BEATS", "PATTERN");
        json_array_foreach(out, i, r)
            print_rule(r);
    }
    json_decref(out);
    return 0;
}

static int bounce_add(struct cli *c, int argc, char **argv)
{
    static const struct option opts[] = {
        { "type", required_argument, NULL, 't' },   { "status", required_argument, NULL, 's' },
        { "reason", required_argument, NULL, 'r' }, { "campaign", required_argument, NULL, 'c' },
        { "help", no_argument, NULL, 'h' },         { NULL, 0, NULL, 0 },
    };
    json_t *ev = json_object();
    long v;
    int opt;
    while ((opt = cli_parse(c, argc, argv, "h", opts)) != -1) {
        switch (opt) {
        case 't': json_object_set_new(ev, "type", json_string(optarg)); break;
        case 's': json_object_set_new(ev, "status", json_string(optarg)); break;
        case 'r': json_object_set_new(ev, "reason", json_string(optarg)); break;
        case 'c':
            if (str_parse_long(optarg, 1, INT64_MAX, &v) < 0)
                cli_usage(c, "--campaign takes a campaign id");
            json_object_set_new(ev, "campaign", json_integer(v));
            break;
        }
    }
    json_object_set_new(ev, "email", json_string(cli_operand(c, argc, argv, "email")));
    struct store_err e;
    json_t *b;
    int rc = store_bounce_ingest_json(cli_db(c), ev, &b, &e);
    json_decref(ev);
    if (rc < 0)
        return cli_fail(&e);
    if (c->json)
        cli_print_json(b);
    else
        printf("bounce %lld: %s %s %s -> %s\n", jint(b, "id"), jstr(b, "class"), jstr(b, "status"), jstr(b, "email"),
               jstr(b, "action"));
    json_decref(b);
    return 0;
}

/*
 * bounce fetch: the [bounce] mailbox read into the ledger. --once: one
 * session (exit 1 with one line when the mailbox or the database fails);
 * without it, reading goes on (IDLE or every interval) until a signal.
 */
static int bounce_fetch(struct cli *c, int argc, char **argv)
{
    static const struct option opts[] = {
        { "once", no_argument, NULL, 'o' }, { "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 },
    };
    bool once = false;
    int opt;
    while ((opt = cli_parse(c, argc, argv, "h", opts)) != -1)
        if (opt == 'o')
            once = true;
    if (optind < argc)
        cli_usage(c, "unexpected argument '%s'", argv[optind]);
    struct bounce_fetch_config *cfg = xmalloc(sizeof(*cfg));
    char err[1024];
    int rc = 0;
    if (bounce_fetch_config(cfg, err, sizeof(err)) < 0) {
        log_error("%s", err);
        xfree(cfg);
        return 1;
    }
    PGconn *conn = cli_db(c);
    if (once) {
        struct bounce_fetch_stats st = { 0 };
        if (bounce_fetch_once(conn, cfg, &st, err, sizeof(err)) < 0) {
            log_error("%s", err);
            rc = 1;
        }
        if (c->json) {
            json_t *j = json_pack("{s:s,s:I,s:I,s:I,s:I,s:I}", "mailbox", cfg->url_text, "read", (json_int_t)st.read,
                                  "bounces", (json_int_t)st.bounces, "unmatched", (json_int_t)st.unmatched,
                                  "repeats", (json_int_t)st.repeats, "removed", (json_int_t)st.removed);
            cli_print_json(j);
            json_decref(j);
        } else if (rc == 0)
            printf("mailbox %s: %u read, %u bounces, %u unmatched, %u recorded already, %u removed\n", cfg->url_text,
                   st.read, st.bounces, st.unmatched, st.repeats, st.removed);
    } else {
        sigset_t stop;
        sigemptyset(&stop);
        sigaddset(&stop, SIGINT);
        sigaddset(&stop, SIGTERM);
        pthread_sigmask(SIG_BLOCK, &stop, NULL);
        struct bounce_fetch *f = bounce_fetch_start(c->target.conninfo, cfg, err, sizeof(err));
        if (!f) {
            log_error("%s", err);
            rc = 1;
        } else {
            int sig = 0;
            sigwait(&stop, &sig);
            log_info("bounce: signal %d: stopping", sig);
            bounce_fetch_stop(f);
        }
    }
    explicit_bzero(cfg->password, sizeof(cfg->password));
    xfree(cfg);
    return rc;
}

static const struct cli_command bounce_commands[] = {
    { "add", bounce_add, NULL },         { "fetch", bounce_fetch, NULL },
    { "ls", bounce_ls, NULL },         { "show", bounce_show, NULL }, { "policy", bounce_policy, NULL },
    { "rules", bounce_rules, NULL },   { NULL, NULL, NULL },
};

/* cmd_bounce - postino bounce [SUBCOMMAND]: intake with none, else ls, show, policy or rules. */
int cmd_bounce(struct cli *c, int argc, char **argv)
{
    c->usage = bounce_usage;
    if (argc >= 2 && argv[1][0] != '-')
        return cli_dispatch(c, bounce_commands, "bounce", argc, argv);
    if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        fputs(bounce_usage, stdout);
        return 0;
    }
    optind = 0;
    return bounce_intake(c, argc, argv);
}
