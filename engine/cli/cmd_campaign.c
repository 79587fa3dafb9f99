/*
 * cmd_campaign - postino campaign create | ls | show | preview | schedule |
 * send | pause | resume | cancel | test | stats | retry | rm | clone | ab | archive.
 *
 * Creating a campaign and sending a test message are engine functions
 * (engine/send/campaign_ops.h) the API calls too: this file reads the
 * options and prints the outcome. The subject and bodies are compiled when
 * the campaign is created (inside its template when it has one), so a
 * mistake is reported then with file (or field), line and column.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "engine/cli/cli.h"
#include "engine/mail/smtp_reply.h"
#include "engine/send/campaign_ops.h"
#include "engine/send/prepare.h"
#include "engine/send/settings_send.h"
#include "engine/store/abtests.h"
#include "engine/store/campaigns.h"
#include "engine/store/pacing.h"
#include "engine/store/providers.h"
#include "engine/store/retry.h"
#include "engine/util/alloc.h"
#include "engine/util/file.h"
#include "engine/util/log.h"
#include "engine/util/str.h"

static const char campaign_usage[] =
    "usage: postino campaign create --name N --subject S --from \"Name <addr>\" --list L [--list L2]...\n"
    "                               [--template T] (--html FILE | --markdown FILE) [--text FILE]\n"
    "                               [--reply-to ADDR] [--track-opens] [--track-clicks]\n"
    "                               [--segment S | --filter EXPR] [--json]\n"
    "                               [--variant-subject S --variant-subject S2 [...up to 4]\n"
    "                                [--variant-html FILE] [--variant-from NAME] after a subject]\n"
    "                                --ab-sample 20%|5000 --ab-window 4h [--ab-metric opens|clicks]\n"
    "                                [--ab-pick auto|manual]]\n"
    "                               (an A/B test: the sample gets the variants, evenly; after the\n"
    "                               window the winner goes to the rest; --subject then defaults to\n"
    "                               the first variant's; --variant-html and --variant-from belong to\n"
    "                               the --variant-subject before them)\n"
    "                               (--segment, --filter: only the lists' subscribers the segment or\n"
    "                               filter picks, as it is when the campaign starts: postino segment --help)\n"
    "       postino campaign edit ID   (the same options: a draft or scheduled campaign replaced whole)\n"
    "       postino campaign ls [--json]\n"
    "       postino campaign show ID [--json]\n"
    "       postino campaign preview ID --subscriber EMAIL [--variant N]   (the exact signed message,\n"
    "                                 on stdout; N: that variant of its A/B test)\n"
    "       postino campaign schedule ID --at TIME            (e.g. '2026-12-01 09:00 Europe/Rome')\n"
    "       postino campaign send ID | pause ID | resume ID | cancel ID\n"
    "       postino campaign test ID --to ADDR [--relay NAME]  (one message now, not in the ledger)\n"
    "       postino campaign stats ID [--watch] [--json]\n"
    "       postino campaign retry ID [--class hard|soft|policy|unknown]... [--dry-run] [--json]\n"
    "                                 (failed deliveries sent again; default classes soft, policy, unknown)\n"
    "       postino campaign rm ID      (a draft or scheduled one; a started one keeps its ledger)\n"
    "       postino campaign archive ID [--json]   (a finished or cancelled one: its deliveries leave\n"
    "                                 the hot ledger for the archive, still in its stats and history)\n"
    "       postino campaign clone ID [--json]   (a new draft 'NAME (copy)': same content and audience)\n"
    "       postino campaign ab ID [--pick N|best] [--json]   (the A/B test's results; --pick:\n"
    "                                 variant N, or the best so far, wins now and goes to the rest)\n"
    "\n"
    "States: draft -> scheduled -> running -> finished, or paused / cancelled.\n"
    "'send' starts at once: the audience is fixed in the delivery ledger and any\n"
    "running sender ('postino send' or 'postino serve') sends it.\n"
    "'stats' ends with the campaign's deliveries by mailbox provider (postino provider),\n"
    "read again every 30 s with --watch, and once it ends.\n";

/* the words for a refused campaign: a body read from a file is named by its path, as an editor would */
static void print_refusal(const struct campaign_refusal *why, const char *html_path, const char *text_path)
{
    bool body = why->field && strcmp(why->kind, "invalid_template") == 0 && strcmp(why->field, "subject") != 0;
    if (body)
        log_error("%s: %s", strcmp(why->field, "text") != 0 ? html_path : text_path, why->tmpl_err);
    else
        log_error("%s", why->e.msg);
}

/*
 * ab_variant_flag - a --variant-html (FILE, read here) or --variant-from
 * (NAME) for the variant whose --variant-subject came last in VS; before any
 * --variant-subject it is a usage error.
 */
static void ab_variant_flag(struct cli *c, json_t *vs, const char *key, const char *value)
{
    json_t *v = json_array_get(vs, json_array_size(vs) - 1);
    char err[512];
    if (!json_array_size(vs))
        cli_usage(c, "--variant-html and --variant-from belong to the --variant-subject before them (give that first)");
    if (strcmp(key, "html") == 0) {
        struct buf body = BUF_INIT;
        if (file_read(value, CAMPAIGN_BODY_MAX, &body, err, sizeof(err)) < 0)
            log_fatal("%s", err);
        json_object_set_new(v, "html", json_string(buf_cstr(&body)));
        buf_free(&body);
    } else {
        json_object_set_new(v, key, json_string(value));
    }
}

/* campaign create, or campaign edit ID (EDIT): the options read, the engine's rules applied, the outcome printed */
static int campaign_save_cmd(struct cli *c, int argc, char **argv, bool edit)
{
    static const struct option opts[] = {
        { "name", required_argument, NULL, 'n' },     { "subject", required_argument, NULL, 's' },
        { "from", required_argument, NULL, 'f' },     { "list", required_argument, NULL, 'l' },
        { "template", required_argument, NULL, 't' }, { "html", required_argument, NULL, 'H' },
        { "text", required_argument, NULL, 'T' },     { "reply-to", required_argument, NULL, 'r' },
        { "track-opens", no_argument, NULL, 'O' },    { "track-clicks", no_argument, NULL, 'C' },
        { "markdown", required_argument, NULL, 'M' }, { "segment", required_argument, NULL, 'g' },
        { "filter", required_argument, NULL, 'F' },   { "help", no_argument, NULL, 'h' },
        { "variant-subject", required_argument, NULL, 'V' }, { "variant-html", required_argument, NULL, 'X' },
        { "variant-from", required_argument, NULL, 'Y' },    { "ab-sample", required_argument, NULL, 'S' },
        { "ab-metric", required_argument, NULL, 'E' },       { "ab-window", required_argument, NULL, 'W' },
        { "ab-pick", required_argument, NULL, 'P' },
        { NULL, 0, NULL, 0 },
    };
    json_t *ab = json_object(), *vsub = json_array();   /* the A/B test, its variants */
    struct campaign_input ci = { 0 };
    const char *html_path = NULL, *text_path = NULL, *md_path = NULL, *id = NULL;
    const char **lists = xcalloc((size_t)argc, sizeof(*lists));
    char err[512];
    int opt;
    while ((opt = cli_parse(c, argc, argv, "h", opts)) != -1) {
        switch (opt) {
        case 'n': ci.name = optarg; break;
        case 's': ci.subject = optarg; break;
        case 'f': ci.from = optarg; break;
        case 'l': lists[ci.nlists++] = optarg; break;
        case 't': ci.template_ref = optarg; break;
        case 'H': html_path = optarg; break;
        case 'M': md_path = optarg; break;
        case 'T': text_path = optarg; break;
        case 'r': ci.reply_to = optarg; break;
        case 'O': ci.track_opens = true; break;
        case 'C': ci.track_clicks = true; break;
        case 'g': ci.segment = optarg; break;
        case 'F': ci.filter = optarg; break;
        case 'V': json_array_append_new(vsub, json_pack("{ss}", "subject", optarg)); break;
        case 'X': ab_variant_flag(c, vsub, "html", optarg); break;
        case 'Y': ab_variant_flag(c, vsub, "from_name", optarg); break;
        case 'S': json_object_set_new(ab, "sample", json_string(optarg)); break;
        case 'E': json_object_set_new(ab, "metric", json_string(optarg)); break;
        case 'W': json_object_set_new(ab, "window", json_string(optarg)); break;
        case 'P': json_object_set_new(ab, "pick", json_string(optarg)); break;
        }
    }
    if (json_array_size(vsub) || json_object_size(ab)) {
        json_object_set(ab, "variants", vsub);
        ci.ab = ab;
    }
    if (edit)
        id = cli_operand(c, argc, argv, "campaign id");
    else if (optind < argc)
        cli_usage(c, "unexpected argument '%s'", argv[optind]);
    if (!ci.name || !(ci.subject || json_array_size(vsub)) || !ci.from || !(html_path || md_path) || !ci.nlists)
        cli_usage(c, "campaign %s needs --name, --subject (or --variant-subject), --from, --list and --html or --markdown",
                  edit ? "edit" : "create");
    struct buf html = BUF_INIT, text = BUF_INIT;
    const char *body_path = md_path ? md_path : html_path;
    if ((html_path && file_read(html_path, CAMPAIGN_BODY_MAX, &html, err, sizeof(err)) < 0) ||
        (md_path && file_read(md_path, CAMPAIGN_BODY_MAX, &html, err, sizeof(err)) < 0) ||
        (text_path && file_read(text_path, CAMPAIGN_BODY_MAX, &text, err, sizeof(err)) < 0))
        log_fatal("%s", err);
    if (html_path && md_path)
        ci.html = ci.markdown = buf_cstr(&html);   /* both: campaign_check refuses, in the API's words */
    else if (md_path)
        ci.markdown = buf_cstr(&html);
    else
        ci.html = buf_cstr(&html);
    ci.text = text_path ? buf_cstr(&text) : NULL;
    ci.lists = lists;
    struct campaign_checked cc;
    struct campaign_refusal why;
    json_t *out = NULL, *warnings = NULL, *w;
    int rc = campaign_check(&ci, &cc, &why);
    if (rc == 0)
        rc = edit ? campaign_update(cli_db(c), id, &cc, &out, &warnings, &why)
                  : campaign_create(cli_db(c), &cc, &out, &warnings, &why);
    buf_free(&html);
    buf_free(&text);
    xfree(lists);
    json_decref(ab);
    json_decref(vsub);
    if (rc < 0) {
        print_refusal(&why, body_path, text_path);
        return 1;
    }
    size_t i;
    json_array_foreach(warnings, i, w) log_warn("%s", json_string_value(w));
    if (c->json)
        cli_print_json(out);
    else if (edit)
        printf("changed campaign %lld \"%s\" (%s)\n", json_integer_value(json_object_get(out, "id")), ci.name,
               json_string_value(json_object_get(out, "status")));
    else
        printf("created campaign %lld \"%s\" (draft)\n", json_integer_value(json_object_get(out, "id")), ci.name);
    json_decref(warnings);
    json_decref(out);
    return 0;
}

static int campaign_create_cmd(struct cli *c, int argc, char **argv)
{
    return campaign_save_cmd(c, argc, argv, false);
}

static int campaign_edit_cmd(struct cli *c, int argc, char **argv)
{
    return campaign_save_cmd(c, argc, argv, true);
}

static const struct option plain_opts[] = { { "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 } };

static void print_lists(json_t *lists)
{
    size_t i;
    json_t *l;
    json_array_foreach(lists, i, l) printf("%s%s", i ? "," : "", json_string_value(json_object_get(l, "name")));
}

static int campaign_ls(struct cli *c, int argc, char **argv)
{
    cli_no_operands(c, argc, argv);
    struct store_err e;
    json_t *arr, *k;
    size_t i;
    if (store_campaign_ls(cli_db(c), 0, 0, &arr, &e) < 0)
        return cli_fail(&e);
    if (c->json) {
        cli_print_json(arr);
    } else {
        printf("%-6s %-10s %-28s %-36s %s\n", "ID", "STATUS", "NAME", "SUBJECT", "LISTS");
        json_array_foreach(arr, i, k) {
            printf("%-6lld %-10s %-28s %-36s ", json_integer_value(json_object_get(k, "id")),
                   json_string_value(json_object_get(k, "status")), json_string_value(json_object_get(k, "name")),
                   json_string_value(json_object_get(k, "subject")));
            print_lists(json_object_get(k, "lists"));
            putchar('\n');
        }
    }
    json_decref(arr);
    return 0;
}

static int campaign_show(struct cli *c, int argc, char **argv)
{
    while (cli_parse(c, argc, argv, "h", plain_opts) != -1)
        ;
    const char *id = cli_operand(c, argc, argv, "campaign id");
    struct store_err e;
    json_t *k;
    if (store_campaign_get(cli_db(c), id, &k, &e) < 0)
        return cli_fail(&e);
    if (c->json) {
        cli_print_json(k);
    } else {
        json_t *t = json_object_get(k, "template");
        const char *fn = json_string_value(json_object_get(k, "from_name"));
        const char *rt = json_string_value(json_object_get(k, "reply_to"));
        printf("id:       %lld\nname:     %s\nstatus:   %s\nsubject:  %s\n",
               json_integer_value(json_object_get(k, "id")), json_string_value(json_object_get(k, "name")),
               json_string_value(json_object_get(k, "status")), json_string_value(json_object_get(k, "subject")));
        printf("from:     %s%s%s%s\n", fn && *fn ? fn : "", fn && *fn ? " <" : "",
               json_string_value(json_object_get(k, "from_addr")), fn && *fn ? ">" : "");
        printf("reply-to: %s\ntemplate: %s\nlists:    ", rt ? rt : "-",
               json_is_object(t) ? json_string_value(json_object_get(t, "name")) : "-");
        print_lists(json_object_get(k, "lists"));
        json_t *g = json_object_get(k, "segment");
        const char *f = json_string_value(json_object_get(k, "filter"));
        const char *af = json_string_value(json_object_get(k, "audience_filter"));
        if (json_is_object(g))
            printf("\nsegment:  %s (%s)", json_string_value(json_object_get(g, "name")),
                   json_string_value(json_object_get(g, "filter")));
        else if (f)
            printf("\nfilter:   %s", f);
        if (af)
            printf("\nstarted with the filter: %s", af);
        printf("\ncreated:  %s\nhtml:     %zu bytes\ntext:     %s\n", json_string_value(json_object_get(k, "created_at")),
               strlen(json_string_value(json_object_get(k, "html"))),
               json_is_string(json_object_get(k, "text")) ? "given" : "derived from the HTML");
        printf("tracking: opens %s, clicks %s\n", json_is_true(json_object_get(k, "track_opens")) ? "on" : "off",
               json_is_true(json_object_get(k, "track_clicks")) ? "on" : "off");
        json_t *ab = json_object_get(k, "ab"), *v, *sample;
        size_t i;
        if (json_is_object(ab)) {
            sample = json_object_get(ab, "sample");
            printf("A/B test: sample %s%.0lld, by unique %s, window %lld s, %s pick\n",
                   json_is_string(sample) ? json_string_value(sample) : "", json_integer_value(sample),
                   json_string_value(json_object_get(ab, "metric")), json_integer_value(json_object_get(ab, "window")),
                   json_string_value(json_object_get(ab, "pick")));
            json_array_foreach(json_object_get(ab, "variants"), i, v) {
                const char *vf = json_string_value(json_object_get(v, "from_name"));
                printf("  variant %lld: %s%s%s%s\n", json_integer_value(json_object_get(v, "n")),
                       json_string_value(json_object_get(v, "subject")),
                       json_is_string(json_object_get(v, "html")) ? " (own body)" : "", vf ? " from " : "", vf ? vf : "");
            }
        }
    }
    json_decref(k);
    return 0;
}

static int campaign_preview_cmd(struct cli *c, int argc, char **argv)
{
    static const struct option opts[] = {
        { "subscriber", required_argument, NULL, 's' }, { "variant", required_argument, NULL, 'v' },
        { "help", no_argument, NULL, 'h' },             { NULL, 0, NULL, 0 },
    };
    const char *who = NULL;
    char email[ADDRESS_MAX + 1];
    int opt, variant = 0;
    while ((opt = cli_parse(c, argc, argv, "h", opts)) != -1) {
        if (opt == 's')
            who = optarg;
        else if (opt == 'v' && (strlen(optarg) != 1 || optarg[0] < '1' || optarg[0] > '4'))
            cli_usage(c, "--variant takes a variant's number, 1 to 4");
        else if (opt == 'v')
            variant = optarg[0] - '0';
    }
    const char *id = cli_operand(c, argc, argv, "campaign id");
    if (!who)
        cli_usage(c, "campaign preview needs --subscriber EMAIL");
    cli_email_arg(who, email);
    struct buf msg = BUF_INIT;
    struct compose_for_info info;
    char err[1024];
    if (compose_for(cli_db(c), id, email, false, "preview", variant, &msg, &info, err, sizeof(err)) < 0)
        log_fatal("%s", err);
    if (info.unsigned_warning)
        log_warn("no DKIM key for %s: the message is unsigned", address_domain(info.from_addr));
    fwrite(msg.data, 1, msg.len, stdout);
    buf_free(&msg);
    return 0;
}

/* an A/B test's results (AB_RESULTS_JSON) as a table; nothing for null */
static void print_ab(json_t *ab)
{
    json_t *v, *sample = json_object_get(ab, "sample");
    size_t i;
    if (!json_is_object(ab))
        return;
    long long w = json_integer_value(json_object_get(ab, "winner"));
    printf("  A/B test: sample ");
    if (json_is_string(sample))
        printf("%s", json_string_value(sample));
    else
        printf("%lld", json_integer_value(sample));
    printf(" (%lld recipients), by unique %s, window %lld s, %s pick; %lld held for the winner\n",
           json_integer_value(json_object_get(ab, "test_size")), json_string_value(json_object_get(ab, "metric")),
           json_integer_value(json_object_get(ab, "window_s")), json_string_value(json_object_get(ab, "pick")),
           json_integer_value(json_object_get(ab, "held")));
    printf("    %-3s %-8s %-8s %-14s %-14s %s\n", "", "RECIP.", "SENT", "UNIQUE OPENS", "UNIQUE CLICKS", "SUBJECT");
    json_array_foreach(json_object_get(ab, "variants"), i, v) {
        long long n = json_integer_value(json_object_get(v, "n"));
        char o[40], k[40];
        json_t *or = json_object_get(v, "open_rate"), *cr = json_object_get(v, "click_rate");
        snprintf(o, sizeof(o), "%lld (%.1f%%)", json_integer_value(json_object_get(v, "opens")),
                 json_is_number(or) ? json_number_value(or) : 0.0);
        snprintf(k, sizeof(k), "%lld (%.1f%%)", json_integer_value(json_object_get(v, "clicks")),
                 json_is_number(cr) ? json_number_value(cr) : 0.0);
        printf("    %c%-2lld %-8lld %-8lld %-14s %-14s %s\n", n == w ? '*' : ' ', n,
               json_integer_value(json_object_get(v, "recipients")), json_integer_value(json_object_get(v, "sent")), o,
               k, json_string_value(json_object_get(v, "subject")));
    }
    if (w)
        printf("    winner: variant %lld (%s, %s)\n", w, json_string_value(json_object_get(ab, "decided_by")),
               json_string_value(json_object_get(ab, "decided_at")));
    else
        printf("    winner: not yet (the window ends %s)\n",
               json_string_value(json_object_get(ab, "window_ends_at")) ? json_string_value(json_object_get(ab, "window_ends_at"))
                                                                        : "when the campaign starts");
}

/* campaign ab ID [--pick N]: the test's results, or variant N made the winner */
static int campaign_ab(struct cli *c, int argc, char **argv)
{
    static const struct option opts[] = {
        { "pick", required_argument, NULL, 'p' }, { "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 },
    };
    const char *pick = NULL;
    int opt;
    while ((opt = cli_parse(c, argc, argv, "h", opts)) != -1)
        if (opt == 'p')
            pick = optarg;
    const char *id = cli_operand(c, argc, argv, "campaign id");
    struct store_err e;
    json_t *out;
    bool best = pick && strcmp(pick, "best") == 0;
    if (pick && !best && (strlen(pick) != 1 || pick[0] < '1' || pick[0] > '4'))
        cli_usage(c, "--pick takes a variant's number, 1 to 4, or best");
    int rc = pick ? store_ab_pick(cli_db(c), id, best ? 0 : pick[0] - '0', "manual", &out, &e)
                  : store_ab_show(cli_db(c), id, &out, &e);
    if (rc < 0)
        return cli_fail(&e);
    if (c->json) {
        cli_print_json(out);
    } else {
        printf("campaign %s \"%s\": %s\n", id, json_string_value(json_object_get(out, "name")),
               json_string_value(json_object_get(out, "status")));
        print_ab(json_object_get(out, "ab"));
    }
    json_decref(out);
    return 0;
}

static void print_stats(json_t *st)
{
    static const char *const counters[] = { "total", "queued", "sent", "deferred", "failed", "skipped", "cancelled",
                                            "held" };
    printf("campaign %lld \"%s\": %s\n", json_integer_value(json_object_get(st, "id")),
           json_string_value(json_object_get(st, "name")), json_string_value(json_object_get(st, "status")));
    for (size_t i = 0; i < sizeof(counters) / sizeof(counters[0]); i++)
        printf("  %-10s %lld\n", counters[i], json_integer_value(json_object_get(st, counters[i])));
    json_t *aud = json_object_get(st, "audience");
    if (json_is_true(json_object_get(aud, "making")))
        printf("  %-10s %lld of about %lld (being made)\n", "audience", json_integer_value(json_object_get(aud, "made")),
               json_integer_value(json_object_get(aud, "estimated")));
    json_t *rate = json_object_get(st, "rate_per_s"), *eta = json_object_get(st, "eta_s");
    printf("  %-10s %s%g/s (last minute)\n", "rate", "", json_is_number(rate) ? json_number_value(rate) : 0.0);
    if (json_is_number(eta))
        printf("  %-10s %.0f s\n", "eta", json_number_value(eta));
    const char *retry = json_string_value(json_object_get(st, "next_retry_at"));
    if (retry)
        printf("  %-10s %s\n", "next retry", retry);
    const char *k;
    json_t *v;
    json_object_foreach(json_object_get(st, "bounces"), k, v) {
        printf("  bounces %-6s %lld%s\n", k, json_integer_value(v),
               strcmp(k, "policy") == 0 ? "  (a sending problem: the receivers refused the sender, not the recipients)"
                                        : "");
    }
    json_t *mta = json_object_get(st, "mta");
    long long mta_n[4], mta_sum = 0;
    static const char *const mta_states[] = { "delivered", "deferred", "bounced", "expired" };
    for (size_t s = 0; s < 4; s++)
        mta_sum += mta_n[s] = json_integer_value(json_object_get(mta, mta_states[s]));
    if (mta_sum > 0)
        printf("  %-10s %lld delivered, %lld deferred, %lld bounced, %lld expired (Postfix's log)\n", "receivers",
               mta_n[0], mta_n[1], mta_n[2], mta_n[3]);
    static const char *const tracked[] = { "opens", "clicks" };
    for (size_t t = 0; t < 2; t++) {
        json_t *o = json_object_get(st, tracked[t]);
        bool on = json_is_true(json_object_get(st, t ? "track_clicks" : "track_opens"));
        if (on || json_integer_value(json_object_get(o, "total")) > 0)
            printf("  %-10s %lld unique, %lld total\n", tracked[t], json_integer_value(json_object_get(o, "unique")),
                   json_integer_value(json_object_get(o, "total")));
        else
            printf("  %-10s not tracked\n", tracked[t]);
    }
    print_ab(json_object_get(st, "ab"));
    size_t i;
    json_t *sd;
    json_array_foreach(json_object_get(st, "senders"), i, sd)
        printf("  sender %s: %s\n", json_string_value(json_object_get(sd, "name")),
               json_string_value(json_object_get(sd, "status")));
    json_array_foreach(json_object_get(st, "by_sender"), i, sd)
        printf("  sent by %s: %lld (%lld deferrals, %lld failed)\n", json_string_value(json_object_get(sd, "name")),
               (long long)json_integer_value(json_object_get(sd, "sent")),
               (long long)json_integer_value(json_object_get(sd, "deferred")),
               (long long)json_integer_value(json_object_get(sd, "failed")));
}

/* pacing_print - a campaign's pacing (store_pace_campaign): the providers paced or slowed, what waits */
static void pacing_print(json_t *pacing)
{
    size_t i;
    json_t *p, *w;
    if (json_array_size(json_object_get(pacing, "providers")) > 0) {
        printf("  pace by provider:\n");
        json_array_foreach(json_object_get(pacing, "providers"), i, p) {
            printf("    %s:\n", json_string_value(json_object_get(p, "provider")));
            pace_print(p, "      ");
        }
    }
    long long held = json_integer_value(json_object_get(pacing, "held_for_pace"));
    if (held > 0)
        printf("  held for a provider's pace: %lld\n", held);
    long long waiting = json_integer_value(json_object_get(pacing, "warmup_waiting"));
    json_array_foreach(json_object_get(pacing, "warmups"), i, w) {
        json_t *cap = json_object_get(w, "cap_today");
        if (json_is_integer(cap))
            printf("  warm-up %s: day %lld, %lld of today's %lld sent\n", json_string_value(json_object_get(w, "target")),
                   json_integer_value(json_object_get(w, "day")), json_integer_value(json_object_get(w, "sent_today")),
                   json_integer_value(cap));
        else
            printf("  warm-up %s: no cap today\n", json_string_value(json_object_get(w, "target")));
    }
    if (waiting > 0)
        printf("  waiting for warm-up: %lld until %s\n", waiting,
               json_string_value(json_object_get(pacing, "warmup_until")));
}

/* with --watch, the table by provider (read through every delivery Postfix's log told of) every this many rounds */
#define STATS_PROVIDERS_EVERY 15

/*
 * stats_once - print ID's stats once; 1 when the campaign has ended (finished
 * or cancelled), 0, or -1. The counts by provider are read again in round
 * ROUND when it is a multiple of STATS_PROVIDERS_EVERY or the campaign has
 * ended, else those kept in *KEPT are shown (the caller's to json_decref).
 */
static int stats_once(struct cli *c, const char *id, unsigned round, json_t **kept)
{
    struct store_err e;
    json_t *st = NULL, *prov = NULL;
    if (store_campaign_stats(cli_db(c), id, &st, &e) < 0) {
        cli_fail(&e);
        return -1;
    }
    const char *status = json_string_value(json_object_get(st, "status"));
    int ended = status && (strcmp(status, "finished") == 0 || strcmp(status, "cancelled") == 0);
    if (!*kept || ended || round % STATS_PROVIDERS_EVERY == 0) {
        if (store_provider_campaign(cli_db(c), id, &prov, &e) < 0) {
            json_decref(st);
            cli_fail(&e);
            return -1;
        }
        json_decref(*kept);
        *kept = prov;
    }
    /* by mailbox provider, from Postfix's log and the bounces (the API's GET /campaigns/{id}/providers) */
    json_object_set(st, "providers", json_object_get(*kept, "providers"));
    /* the providers' pace and the warm-ups (the API's GET /campaigns/{id}/pacing) */
    json_t *pacing = NULL;
    if (store_pace_campaign(cli_db(c), id, &pacing, &e) < 0) {
        json_decref(st);
        cli_fail(&e);
        return -1;
    }
    json_object_set_new(st, "pacing", pacing);
    if (c->json) {
        cli_print_json(st);
    } else {
        print_stats(st);
        printf("  by provider:\n");
        provider_table_print(json_object_get(st, "providers"), false);
        pacing_print(pacing);
    }
    json_decref(st);
    fflush(stdout);
    return ended;
}

/* campaign stats ID [--watch]: with --watch, again every 2 s until the campaign ends */
static int campaign_stats(struct cli *c, int argc, char **argv)
{
    static const struct option opts[] = {
        { "watch", no_argument, NULL, 'w' }, { "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 },
    };
    int opt, watch = 0;
    while ((opt = cli_parse(c, argc, argv, "h", opts)) != -1)
        if (opt == 'w')
            watch = 1;
    const char *id = cli_operand(c, argc, argv, "campaign id");
    json_t *kept = NULL;
    unsigned round = 0;
    int rc = stats_once(c, id, round, &kept);
    while (watch && rc == 0) {
        sleep(2);
        if (!c->json)
            printf("\n");
        rc = stats_once(c, id, ++round, &kept);
    }
    json_decref(kept);
    return rc < 0 ? 1 : 0;
}

static int campaign_move(struct cli *c, int argc, char **argv, enum campaign_action action)
{
    static const struct option opts[] = {
        { "at", required_argument, NULL, 'a' }, { "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 },
    };
    const char *at = NULL;
    int opt;
    while ((opt = cli_parse(c, argc, argv, "h", opts)) != -1)
        if (opt == 'a')
            at = optarg;
    const char *id = cli_operand(c, argc, argv, "campaign id");
    if (action == CAMPAIGN_SCHEDULE && !at)
        cli_usage(c, "campaign schedule needs --at TIME");
    if (action != CAMPAIGN_SCHEDULE && at)
        cli_usage(c, "--at goes with schedule only");
    struct store_err e;
    json_t *st;
    if (store_campaign_move(cli_db(c), id, action, at, send_settings.audience_chunk, &st, &e) < 0)
        return cli_fail(&e);
    if (action == CAMPAIGN_SEND && json_is_true(json_object_get(json_object_get(st, "audience"), "making"))) {
        /* the first chunk is made and may be sent already: the rest, chunk by chunk (a sender may take turns) */
        long long made;
        int rc;
        while ((rc = store_campaign_audience_step(cli_db(c), id, true, &made, &e)) > 0)
            ;
        json_decref(st);
        if (rc < 0 || store_campaign_stats(cli_db(c), id, &st, &e) < 0)
            return cli_fail(&e);
    }
    if (c->json) {
        cli_print_json(st);
    } else {
        const char *status = json_string_value(json_object_get(st, "status"));
        printf("campaign %s is %s", id, status);
        if (action == CAMPAIGN_SCHEDULE)
            printf(" for %s", json_string_value(json_object_get(st, "send_at")));
        if (action == CAMPAIGN_SEND && strcmp(status, "cancelled") == 0)
            printf(" (while its audience was being made): %lld deliveries cancelled",
                   json_integer_value(json_object_get(st, "cancelled")));
        else if (action == CAMPAIGN_SEND)
            printf(": %lld recipients queued", json_integer_value(json_object_get(st, "total")));
        if (action == CAMPAIGN_CANCEL)
            printf(": %lld deliveries cancelled", json_integer_value(json_object_get(st, "cancelled")));
        printf("\n");
    }
    json_decref(st);
    return 0;
}

static int campaign_schedule(struct cli *c, int argc, char **argv)
{
    return campaign_move(c, argc, argv, CAMPAIGN_SCHEDULE);
}

static int campaign_send(struct cli *c, int argc, char **argv)
{
    return campaign_move(c, argc, argv, CAMPAIGN_SEND);
}

static int campaign_pause(struct cli *c, int argc, char **argv)
{
    return campaign_move(c, argc, argv, CAMPAIGN_PAUSE);
}

static int campaign_resume(struct cli *c, int argc, char **argv)
{
    return campaign_move(c, argc, argv, CAMPAIGN_RESUME);
}

static int campaign_cancel(struct cli *c, int argc, char **argv)
{
    return campaign_move(c, argc, argv, CAMPAIGN_CANCEL);
}

/* campaign_test_cmd - campaign_test_send to ADDR (a subscriber's values when ADDR is one); 1 when it was not taken. */
static int campaign_test_cmd(struct cli *c, int argc, char **argv)
{
    static const struct option opts[] = {
        { "to", required_argument, NULL, 't' }, { "relay", required_argument, NULL, 'r' },
        { "help", no_argument, NULL, 'h' },     { NULL, 0, NULL, 0 },
    };
    const char *to = NULL, *relay = NULL;
    char email[ADDRESS_MAX + 1];
    int opt;
    while ((opt = cli_parse(c, argc, argv, "h", opts)) != -1) {
        if (opt == 't')
            to = optarg;
        else if (opt == 'r')
            relay = optarg;
    }
    const char *id = cli_operand(c, argc, argv, "campaign id");
    if (!to)
        cli_usage(c, "campaign test needs --to ADDR");
    cli_email_arg(to, email);
    struct store_err e;
    struct campaign_test t;
    if (campaign_test_send(cli_db(c), id, email, relay, &t, &e) < 0)
        return cli_fail(&e);
    if (!t.signed_dkim)
        log_warn("no DKIM key for %s: the message is unsigned", address_domain(t.from_addr));
    const struct relay_answer *ans = &t.ans;
    char line[600];
    smtp_reply_line(ans->code, ans->enhanced, ans->text, line, sizeof(line));
    if (c->json) {
        json_t *j = json_pack("{s:b,s:s,s:s,s:i,s:s,s:s,s:s}", "accepted", ans->ok, "relay", t.relay, "stage",
                              ans->stage, "code", ans->code, "enhanced", ans->enhanced, "text", ans->text, "queue_id",
                              ans->queue_id);
        cli_print_json(j);
        json_decref(j);
    } else if (ans->ok) {
        printf("test message sent to %s through %s: %s\n", email, t.relay, line);
    }
    if (!ans->ok)
        log_error("test message to %s not sent: %s %s", email, ans->stage[0] ? ans->stage : "connect", line);
    return ans->ok ? 0 : 1;
}

/* how many of the failed deliveries were not retried and why, from store_campaign_retry's "not_retried" */
static void print_not_retried(json_t *r)
{
    json_t *why = json_object_get(r, "not_retried");
    long long acc = json_integer_value(json_object_get(why, "accepted"));
    long long sup = json_integer_value(json_object_get(why, "suppressed"));
    long long cls = json_integer_value(json_object_get(why, "class"));
    if (acc)
        printf("  not retried: %lld accepted by a relay once\n", acc);
    if (sup)
        printf("  not retried: %lld whose recipient no longer counts (blocklisted, disabled or unsubscribed)\n", sup);
    if (cls) {
        size_t i;
        json_t *k;
        printf("  not retried: %lld of a class not asked for (asked:", cls);
        json_array_foreach(json_object_get(r, "classes"), i, k)
            printf(" %s", json_string_value(k));
        printf(")\n");
    }
}

/* campaign retry ID [--class C]... [--dry-run]: store_campaign_retry */
static int campaign_retry(struct cli *c, int argc, char **argv)
{
    static const struct option opts[] = {
        { "class", required_argument, NULL, 'c' }, { "dry-run", no_argument, NULL, 'n' },
        { "help", no_argument, NULL, 'h' },        { NULL, 0, NULL, 0 },
    };
    const char *classes[RETRY_CLASSES_MAX + 1];
    size_t n = 0;
    bool dry = false;
    int opt;
    while ((opt = cli_parse(c, argc, argv, "h", opts)) != -1) {
        if (opt == 'n')
            dry = true;
        else if (opt == 'c' && n == RETRY_CLASSES_MAX + 1)
            cli_usage(c, "at most %d --class", RETRY_CLASSES_MAX);
        else if (opt == 'c')
            classes[n++] = optarg;
    }
    const char *id = cli_operand(c, argc, argv, "campaign id");
    struct store_err e;
    json_t *r;
    if (store_campaign_retry(cli_db(c), id, classes, n, dry, &r, &e) < 0)
        return cli_fail(&e);
    if (c->json) {
        cli_print_json(r);
    } else if (dry) {
        printf("campaign %s: %lld of %lld failed deliveries would be queued again (dry run)\n", id,
               json_integer_value(json_object_get(r, "retryable")), json_integer_value(json_object_get(r, "failed")));
        print_not_retried(r);
    } else {
        printf("campaign %s is %s: %lld failed deliveries queued again\n", id,
               json_string_value(json_object_get(r, "status")), json_integer_value(json_object_get(r, "requeued")));
        print_not_retried(r);
    }
    json_decref(r);
    return 0;
}

/* campaign rm ID: store_campaign_rm */
static int campaign_rm(struct cli *c, int argc, char **argv)
{
    while (cli_parse(c, argc, argv, "h", plain_opts) != -1)
        ;
    const char *id = cli_operand(c, argc, argv, "campaign id");
    struct store_err e;
    if (store_campaign_rm(cli_db(c), id, &e) < 0)
        return cli_fail(&e);
    if (!c->json)
        printf("removed campaign %s\n", id);
    return 0;
}

/* campaign clone ID: store_campaign_clone */
static int campaign_clone(struct cli *c, int argc, char **argv)
{
    while (cli_parse(c, argc, argv, "h", plain_opts) != -1)
        ;
    const char *id = cli_operand(c, argc, argv, "campaign id");
    struct store_err e;
    json_t *out;
    if (store_campaign_clone(cli_db(c), id, &out, &e) < 0)
        return cli_fail(&e);
    if (c->json)
        cli_print_json(out);
    else
        printf("campaign %lld \"%s\": a draft copy of campaign %s\n", json_integer_value(json_object_get(out, "id")),
               json_string_value(json_object_get(out, "name")), id);
    json_decref(out);
    return 0;
}

/* campaign_archive_cmd - store_campaign_archive; 1 when refused. */
static int campaign_archive_cmd(struct cli *c, int argc, char **argv)
{
    while (cli_parse(c, argc, argv, "h", plain_opts) != -1)
        ;
    const char *id = cli_operand(c, argc, argv, "campaign id");
    struct store_err e;
    json_t *st;
    long long moved = 0;
    if (store_campaign_archive(cli_db(c), id, &moved, &st, &e) < 0)
        return cli_fail(&e);
    if (c->json) {
        json_object_set_new(st, "archived", json_integer(moved));
        cli_print_json(st);
    } else {
        printf("campaign %s archived: %lld deliveries moved to the archive\n", id, moved);
    }
    json_decref(st);
    return 0;
}

static const struct cli_command campaign_commands[] = {
    { "create", campaign_create_cmd, NULL }, { "edit", campaign_edit_cmd, NULL },
    { "ls", campaign_ls, NULL },
    { "show", campaign_show, NULL },         { "preview", campaign_preview_cmd, NULL },
    { "schedule", campaign_schedule, NULL }, { "send", campaign_send, NULL },
    { "pause", campaign_pause, NULL },       { "resume", campaign_resume, NULL },
    { "cancel", campaign_cancel, NULL },     { "test", campaign_test_cmd, NULL },
    { "stats", campaign_stats, NULL },       { "retry", campaign_retry, NULL },
    { "rm", campaign_rm, NULL },             { "clone", campaign_clone, NULL },
    { "ab", campaign_ab, NULL },             { "archive", campaign_archive_cmd, NULL },
    { NULL, NULL, NULL },
};

/* cmd_campaign - postino campaign SUBCOMMAND. */
int cmd_campaign(struct cli *c, int argc, char **argv)
{
    c->usage = campaign_usage;
    return cli_dispatch(c, campaign_commands, "campaign", argc, argv);
}
