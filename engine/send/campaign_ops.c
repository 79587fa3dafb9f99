/*
 * campaign_ops - campaign create, update, preview and test send, for every
 * front end (see campaign_ops.h). The checks run in the order a person reads the input:
 * name, subject, From, Reply-To, lists; then what needs the database: the
 * template, the subject it may give, the bodies compiled in its layouts.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "engine/mail/mime.h"
#include "engine/mail/html2text.h"
#include "engine/mail/markdown.h"
#include "engine/mail/segment.h"
#include "engine/send/campaign_ops.h"
#include "engine/send/prepare.h"
#include "engine/store/campaigns.h"
#include "engine/store/dkim_keys.h"
#include "engine/store/lists.h"
#include "engine/store/relays.h"
#include "engine/store/templates.h"
#include "engine/util/buf.h"
#include "engine/util/str.h"

#define QUOTE_MAX 64   /* bytes of the input a refusal quotes */

/* refuse - fill WHY for FIELD and KIND with the formatted sentence; returns STORE_ERR_INVALID */
static int __attribute__((format(printf, 4, 5)))
refuse(struct campaign_refusal *why, const char *field, const char *kind, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why->e.msg, sizeof(why->e.msg), fmt, ap);
    va_end(ap);
    why->e.code = STORE_ERR_INVALID;
    why->field = field;
    why->kind = kind;
    return STORE_ERR_INVALID;
}

/* how many bytes of S a refusal quotes: at most QUOTE_MAX, never half a character, none from a control character on */
static int quoted(const char *s)
{
    size_t n = 0;
    while (s[n] && n < QUOTE_MAX && (unsigned char)s[n] >= 0x20 && s[n] != 0x7F)
        n++;
    if (!s[n] || n < QUOTE_MAX)
        return (int)n;
    while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
        n--;
    return (int)n;
}

static bool utf8(const char *s)
{
    return str_utf8_valid(s, strlen(s), NULL);
}

/* is IN's body given once, as HTML or as Markdown (or not at all, unless REQUIRED)? else refuse */
static int body_check(const struct campaign_input *in, bool required, struct campaign_refusal *why)
{
    if (in->html && in->markdown)
        return refuse(why, "markdown", "invalid_field", "give the body as html or as markdown, not both");
    if (required && !in->html && !in->markdown)
        return refuse(why, "html", "missing_field", "the campaign needs a body: html or markdown");
    return 0;
}

/* is S a subject as campaign_check takes it? else refuse for FIELD, WHAT naming it ("the subject") */
static int subject_check(const char *s, const char *field, const char *what, struct campaign_refusal *why)
{
    const char *err;
    if (!utf8(s))
        return refuse(why, field, "invalid_field", "%s must be valid UTF-8", what);
    if (!*s)
        return refuse(why, field, "invalid_field", "%s must not be empty", what);
    if (strpbrk(s, "\r\n"))
        return refuse(why, field, "invalid_field", "%s must be one line", what);
    if (mime_name_check(s, true, &err) < 0)
        return refuse(why, field, "invalid_field", "%s %s", what, err);
    return 0;
}

/* IN's A/B test read into AB and checked: its settings, its variants' subjects and From names, its metric tracked */
static int ab_check(const struct campaign_input *in, struct abtest *ab, struct campaign_refusal *why)
{
    const char *field, *err;
    char msg[300], what[64];
    if (abtest_parse(in->ab, ab, &field, msg, sizeof(msg)) < 0)
        return refuse(why, field, "invalid_field", "%s", msg);
    for (size_t i = 0; i < ab->nvariants; i++) {
        snprintf(what, sizeof(what), "the subject of variant %zu", i + 1);
        if (subject_check(ab->v[i].subject, "ab.variants", what, why) < 0)
            return STORE_ERR_INVALID;
        if (ab->v[i].from_name && (!utf8(ab->v[i].from_name) || mime_name_check(ab->v[i].from_name, false, &err) < 0))
            return refuse(why, "ab.variants", "invalid_field", "the From name of variant %zu must be one line of UTF-8",
                          i + 1);
    }
    if (!strcmp(ab->metric, "opens") && !in->track_opens)
        return refuse(why, "ab.metric", "invalid_field", "the A/B test picks by opens: the campaign must track opens");
    if (!strcmp(ab->metric, "clicks") && !in->track_clicks)
        return refuse(why, "ab.metric", "invalid_field", "the A/B test picks by clicks: the campaign must track clicks");
    return 0;
}

/* campaign_check - see campaign_ops.h. */
int campaign_check(const struct campaign_input *in, struct campaign_checked *out, struct campaign_refusal *why)
{
    const char *from = in->from ? in->from : "", *err;
    memset(why, 0, sizeof(*why));
    memset(out, 0, sizeof(*out));
    if (!in->name || !*in->name)
        return refuse(why, "name", "invalid_field", "the campaign name must not be empty");
    if (!utf8(in->name))
        return refuse(why, "name", "invalid_field", "the campaign name must be valid UTF-8");
    if (mime_name_check(in->name, false, &err) < 0)
        return refuse(why, "name", "invalid_field", "the campaign name %s", err);
    if (in->subject && !utf8(in->subject))
        return refuse(why, "subject", "invalid_field", "the subject must be valid UTF-8");
    if (in->subject && !*in->subject)
        return refuse(why, "subject", "invalid_field", "the subject must not be empty");
    if (in->subject && strpbrk(in->subject, "\r\n"))
        return refuse(why, "subject", "invalid_field", "the subject must be one line");
    if (in->subject && mime_name_check(in->subject, true, &err) < 0)
        return refuse(why, "subject", "invalid_field", "the subject %s", err);
    if (address_mailbox_parse(from, out->from_name, sizeof(out->from_name), out->from_addr, &err) < 0)
        return refuse(why, "from", "invalid_field", "invalid From \"%.*s\": %s", quoted(from), from, err);
    if (!utf8(out->from_name))
        return refuse(why, "from", "invalid_field", "the From name must be valid UTF-8");
    if (in->reply_to && address_normalize(in->reply_to, out->reply_addr, sizeof(out->reply_addr), &err) < 0)
        return refuse(why, "reply_to", "invalid_field", "invalid Reply-To \"%.*s\": %s", quoted(in->reply_to),
                      in->reply_to, err);
    if (in->nlists == 0)
        return refuse(why, "lists", "invalid_field", "a campaign needs at least one list");
    if (in->segment && in->filter)
        return refuse(why, "filter", "invalid_field", "a campaign takes a segment or a filter, not both");
    if (in->segment && !*in->segment)
        return refuse(why, "segment", "invalid_field", "the segment must not be empty");
    if (in->filter) {
        struct segment_sql q;
        char ferr[300];
        if (segment_compile(in->filter, 1, &q, ferr, sizeof(ferr)) < 0)
            return refuse(why, "filter", "invalid_field", "the filter: %s", ferr);
        segment_sql_free(&q);
    }
    if (body_check(in, true, why) < 0)
        return STORE_ERR_INVALID;
    if (in->ab && !json_is_null(in->ab) && ab_check(in, &out->ab, why) < 0)
        return STORE_ERR_INVALID;
    out->cn = (struct campaign_new){
        .name = in->name, .subject = in->subject, .reply_to = in->reply_to, .template_ref = in->template_ref,
        .html = in->html, .markdown = in->markdown, .text = in->text, .lists = in->lists, .nlists = in->nlists,
        .segment = in->segment, .filter = in->filter, .track_opens = in->track_opens, .track_clicks = in->track_clicks,
        .ab = in->ab && !json_is_null(in->ab) ? &out->ab : NULL,
    };
    if (out->cn.ab && !out->cn.subject)
        out->cn.subject = out->ab.v[0].subject;
    return 0;
}

/* does BODY compile (inside LAYOUT when given); else refuse naming FIELD as WHAT */
static int compiles(struct campaign_refusal *why, const char *field, const char *what, const char *layout,
                    const char *body)
{
    struct tmpl *t = layout ? tmpl_compile_wrap(layout, strlen(layout), body, strlen(body), why->tmpl_err,
                                                sizeof(why->tmpl_err))
                            : tmpl_compile(body, strlen(body), why->tmpl_err, sizeof(why->tmpl_err));
    if (!t)
        return refuse(why, field, "invalid_template", "the %s does not compile: %s", what, why->tmpl_err);
    tmpl_free(t);
    return 0;
}

/*
 * body_html - set CN->html to the HTML body: as given, or its Markdown
 * rendered into RENDERED. Markdown is compiled before it is rendered, so a
 * mistake is reported at its line and column in the Markdown as typed.
 */
static int body_html(struct campaign_new *cn, const char *layout, struct buf *rendered, struct campaign_refusal *why)
{
    int rc;
    if (!cn->markdown)
        return compiles(why, "html", "HTML", layout, cn->html ? cn->html : "");
    if ((rc = compiles(why, "markdown", "Markdown", layout, cn->markdown)) < 0)
        return rc;
    if (markdown_render(cn->markdown, strlen(cn->markdown), rendered) < 0)
        return refuse(why, "markdown", "invalid_field", "the Markdown cannot be rendered");
    cn->html = buf_cstr(rendered);
    return compiles(why, "markdown", "Markdown", layout, cn->html);
}

/* the warning for a From DOMAIN with no DKIM key, appended to WARNINGS (a failed look-up counts as none) */
static void warn_unsigned(PGconn *conn, const char *domain, json_t *warnings)
{
    struct store_err e;
    struct dkim_row *rows;
    size_t nkeys = 0;
    if (store_dkim_signing(conn, domain, &rows, &nkeys, &e) == 0)
        dkim_rows_free(rows, nkeys);
    if (nkeys == 0) {
        char w[400];
        snprintf(w, sizeof(w), "no DKIM key for %s: messages will go unsigned", domain);
        json_array_append_new(warnings, json_string(w));
    }
}

/* save C as campaign ID (NULL: a new draft); campaign_create and campaign_update */
static int campaign_save(PGconn *conn, const char *id, const struct campaign_checked *c, json_t **out,
                         json_t **warnings, struct campaign_refusal *why)
{
    struct campaign_new cn = c->cn;
    struct buf rendered = BUF_INIT;
    json_t *tmpl = NULL;
    int rc = 0;
    *out = NULL;
    *warnings = NULL;
    memset(why, 0, sizeof(*why));
    cn.from_name = c->from_name;   /* here, not in campaign_check: C may have been copied since */
    cn.from_addr = c->from_addr;
    cn.reply_to = cn.reply_to ? c->reply_addr : NULL;
    if (cn.template_ref && (rc = store_template_get(conn, cn.template_ref, &tmpl, &why->e)) < 0)
        return rc;
    const char *layout_html = tmpl ? json_string_value(json_object_get(tmpl, "html")) : NULL;
    const char *layout_text = tmpl ? json_string_value(json_object_get(tmpl, "text")) : NULL;
    if (!cn.subject)
        cn.subject = tmpl ? json_string_value(json_object_get(tmpl, "subject")) : NULL;
    if (!cn.subject)
        rc = refuse(why, "subject", "missing_field", "the campaign needs a subject (the template has none)");
    else if ((rc = compiles(why, "subject", "subject", NULL, cn.subject)) == 0 &&
             (rc = body_html(&cn, layout_html, &rendered, why)) == 0 && cn.text)
        rc = compiles(why, "text", "text", layout_text, cn.text);
    if (rc == 0 && c->cn.ab) {
        cn.ab = &c->ab;   /* C's own copy: C may have been copied since campaign_check */
        for (size_t i = 0; i < c->ab.nvariants && rc == 0; i++) {
            if ((rc = compiles(why, "ab.variants", "subject of a variant", NULL, c->ab.v[i].subject)) == 0 &&
                c->ab.v[i].html)
                rc = compiles(why, "ab.variants", "HTML of a variant", layout_html, c->ab.v[i].html);
        }
    }
    if (rc == 0)
        rc = id ? store_campaign_update(conn, id, &cn, out, &why->e) : store_campaign_create(conn, &cn, out, &why->e);
    json_decref(tmpl);
    buf_free(&rendered);
    if (rc < 0)
        return rc;
    *warnings = json_array();
    warn_unsigned(conn, address_domain(c->from_addr), *warnings);
    return 0;
}

/* campaign_create - see campaign_ops.h. */
int campaign_create(PGconn *conn, const struct campaign_checked *c, json_t **out, json_t **warnings,
                    struct campaign_refusal *why)
{
    return campaign_save(conn, NULL, c, out, warnings, why);
}

/* campaign_update - see campaign_ops.h. */
int campaign_update(PGconn *conn, const char *id, const struct campaign_checked *c, json_t **out, json_t **warnings,
                    struct campaign_refusal *why)
{
    return campaign_save(conn, id, c, out, warnings, why);
}

/* the lists REFS name, as a stored campaign's "lists" (id, name, optin); 0 or a store code in WHY */
static int preview_lists(PGconn *conn, const char *const *refs, size_t n, json_t *lists, struct campaign_refusal *why)
{
    for (size_t i = 0; i < n; i++) {
        json_t *l = NULL;
        int rc = store_list_get(conn, refs[i], &l, &why->e);
        if (rc < 0)
            return rc;
        json_array_append_new(lists, json_pack("{s:O,s:O,s:O}", "id", json_object_get(l, "id"), "name",
                                               json_object_get(l, "name"), "optin", json_object_get(l, "optin")));
        json_decref(l);
    }
    return 0;
}

/* the message of PC composed for EMAIL (a subscriber; NULL: no personal values) as {subject, html, text} */
static int preview_compose(PGconn *conn, struct prepared_campaign *pc, const char *email, json_t **out,
                           struct campaign_refusal *why)
{
    struct prepared_recipient pr;
    struct compose_scratch s = COMPOSE_SCRATCH_INIT;
    struct buf msg = BUF_INIT, text = BUF_INIT;
    const char *err;
    json_t *l = json_array_get(json_object_get(pc->row, "lists"), 0);
    memset(&pr, 0, sizeof(pr));
    int rc = email ? recipient_load(conn, pc, email, &pr, why->e.msg, sizeof(why->e.msg)) : 0;
    if (rc == STORE_ERR_NOTFOUND)
        return refuse(why, "subscriber", "invalid_field", "no subscriber \"%.*s\"", quoted(email), email);
    if (rc < 0)
        return why->e.code = rc;
    if (!email) {
        pr.r.email = "subscriber@example.com";
        pr.r.list_id = (uint64_t)json_integer_value(json_object_get(l, "id"));
        pr.r.list_name = json_string_value(json_object_get(l, "name"));
    }
    pr.r.delivery_id = "preview";
    rc = compose_message(&pc->cc, &pr.r, (long long)time(NULL), &s, &msg, &err);
    if (rc < 0) {
        rc = refuse(why, NULL, NULL, "the campaign does not compose: %s", err);
    } else {
        if (!pc->cc.text)
            html2text_append(&text, s.html.data ? s.html.data : "", s.html.len);
        *out = json_pack("{s:s,s:s,s:s}", "subject", buf_cstr(&s.subject), "html", buf_cstr(&s.html), "text",
                         pc->cc.text ? buf_cstr(&s.text) : buf_cstr(&text));
    }
    recipient_free(&pr);
    compose_scratch_free(&s);
    buf_free(&msg);
    buf_free(&text);
    return rc;
}

/* campaign_preview - see campaign_ops.h. */
int campaign_preview(PGconn *conn, const struct campaign_input *in, json_t *layout, const char *email, json_t **out,
                     struct campaign_refusal *why)
{
    struct campaign_new cn = { .html = in->html ? in->html : "", .markdown = in->markdown };
    struct buf rendered = BUF_INIT;
    struct prepared_campaign pc;
    char from_name[601] = "", from_addr[ADDRESS_MAX + 1] = "sender@example.com";
    const char *err;
    json_t *tmpl = json_incref(layout), *lists = json_array(), *row = NULL;
    int rc = 0;
    *out = NULL;
    memset(why, 0, sizeof(*why));
    if (body_check(in, false, why) < 0)
        rc = STORE_ERR_INVALID;
    else if (in->subject && (!utf8(in->subject) || strpbrk(in->subject, "\r\n")))
        rc = refuse(why, "subject", "invalid_field", "the subject must be one line of UTF-8");
    else if (!tmpl && in->template_ref)
        rc = store_template_get(conn, in->template_ref, &tmpl, &why->e);
    if (rc == 0)
        rc = preview_lists(conn, in->lists, in->nlists, lists, why);
    const char *layout_html = tmpl ? json_string_value(json_object_get(tmpl, "html")) : NULL;
    const char *layout_text = tmpl ? json_string_value(json_object_get(tmpl, "text")) : NULL;
    const char *subject = in->subject ? in->subject : tmpl ? json_string_value(json_object_get(tmpl, "subject")) : NULL;
    if (rc == 0 && (rc = compiles(why, "subject", "subject", NULL, subject ? subject : "")) == 0 &&
        (rc = body_html(&cn, layout_html, &rendered, why)) == 0 && in->text)
        rc = compiles(why, "text", "text", layout_text, in->text);
    if (rc < 0)
        goto out;
    if (in->from && address_mailbox_parse(in->from, from_name, sizeof(from_name), from_addr, &err) < 0)
        snprintf(from_addr, sizeof(from_addr), "sender@example.com");
    row = json_pack("{s:i,s:s,s:s,s:s,s:s,s:s,s:s?,s:O,s:O?}", "id", 0, "name", in->name ? in->name : "", "subject",
                    subject ? subject : "", "html", cn.html, "from_name", from_name, "from_addr", from_addr, "text",
                    in->text, "lists", lists, "template", tmpl);
    if (campaign_prepare_row(row, &pc, why->e.msg, sizeof(why->e.msg)) < 0) {
        rc = refuse(why, "html", "invalid_template", "%s", why->e.msg);
        goto out;
    }
    rc = preview_compose(conn, &pc, email, out, why);
    campaign_prepared_free(&pc);
out:
    json_decref(row);
    json_decref(lists);
    json_decref(tmpl);
    buf_free(&rendered);
    return rc;
}

/* campaign_test_send - see campaign_ops.h. */
int campaign_test_send(PGconn *conn, const char *id, const char *to, const char *relay, struct campaign_test *out,
                       struct store_err *e)
{
    struct relay_def *defs;
    size_t ndefs;
    struct compose_for_info info;
    struct buf msg = BUF_INIT;
    memset(out, 0, sizeof(*out));
    int rc = store_relay_load(conn, relay, &defs, &ndefs, e);
    if (rc < 0)
        return rc;
    rc = compose_for(conn, id, to, true, "test", 0, &msg, &info, e->msg, sizeof(e->msg));
    if (rc < 0) {
        e->code = rc;
    } else {
        snprintf(out->relay, sizeof(out->relay), "%s", defs[0].name);
        snprintf(out->from_addr, sizeof(out->from_addr), "%s", info.from_addr);
        out->signed_dkim = !info.unsigned_warning;
        relay_send_one(&defs[0], info.from_addr, to, msg.data, msg.len, &out->ans);
    }
    buf_free(&msg);
    relay_defs_free(defs, ndefs);
    return rc;
}
