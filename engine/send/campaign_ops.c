/*
 * campaign_ops - campaign create and test send, for every front end (see
 * campaign_ops.h). The checks run in the order a person reads the input:
 * name, subject, From, Reply-To, lists; then what needs the database: the
 * template, the subject it may give, the bodies compiled in its layouts.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "engine/mail/mime.h"
#include "engine/send/campaign_ops.h"
#include "engine/send/prepare.h"
#include "engine/store/campaigns.h"
#include "engine/store/dkim_keys.h"
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
    out->cn = (struct campaign_new){
        .name = in->name, .subject = in->subject, .reply_to = in->reply_to, .template_ref = in->template_ref,
        .html = in->html ? in->html : "", .text = in->text, .lists = in->lists, .nlists = in->nlists,
        .track_opens = in->track_opens, .track_clicks = in->track_clicks,
    };
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

/* campaign_create - see campaign_ops.h. */
int campaign_create(PGconn *conn, const struct campaign_checked *c, json_t **out, json_t **warnings,
                    struct campaign_refusal *why)
{
    struct campaign_new cn = c->cn;
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
             (rc = compiles(why, "html", "HTML", layout_html, cn.html)) == 0 && cn.text)
        rc = compiles(why, "text", "text", layout_text, cn.text);
    if (rc == 0)
        rc = store_campaign_create(conn, &cn, out, &why->e);
    json_decref(tmpl);
    if (rc < 0)
        return rc;
    *warnings = json_array();
    warn_unsigned(conn, address_domain(c->from_addr), *warnings);
    return 0;
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
    rc = compose_for(conn, id, to, true, "test", &msg, &info, e->msg, sizeof(e->msg));
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
