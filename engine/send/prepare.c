/*
 * prepare - turn stored campaign rows into a struct compose_campaign.
 *
 * Settings used here (settings_send.h): [http] public_url (the base of
 * unsubscribe and other public links) and [mail] unsubscribe_mailto (an
 * address for mailto: List-Unsubscribe).
 *
 * campaign_prepare, recipient_load and compose_for (both in one: what preview
 * and test messages are) are described in prepare.h.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "engine/mail/address.h"
#include "engine/send/prepare.h"
#include "engine/send/settings_send.h"
#include "engine/send/track.h"
#include "engine/store/campaigns.h"
#include "engine/store/dkim_keys.h"
#include "engine/store/settings.h"
#include "engine/store/subscribers.h"
#include "engine/util/alloc.h"

static const char *jstr(json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key));
}

static struct tmpl *compile_part(const char *what, const char *layout, const char *body, char *err, size_t errlen)
{
    char why[TMPL_ERR_MAX];
    struct tmpl *t = layout ? tmpl_compile_wrap(layout, strlen(layout), body, strlen(body), why, sizeof(why))
                            : tmpl_compile(body, strlen(body), why, sizeof(why));
    if (!t)
        snprintf(err, errlen, "%s: %s", what, why);
    return t;
}

/*
 * derive_text - the text part compiled once from the HTML sources (the
 * template's own text layout when it has one); NULL when the derived source
 * does not compile, and each message then derives its text from its HTML.
 */
static struct tmpl *derive_text(const char *layout_html, const char *layout_text, const char *html)
{
    struct buf body = BUF_INIT, layout = BUF_INIT;
    char why[TMPL_ERR_MAX];
    struct tmpl *t;
    compose_text_source(&body, html, strlen(html));
    if (layout_html && !layout_text) {
        compose_text_source(&layout, layout_html, strlen(layout_html));
        layout_text = buf_cstr(&layout);
    }
    t = layout_text ? tmpl_compile_wrap(layout_text, strlen(layout_text), buf_cstr(&body), body.len, why, sizeof(why))
                    : tmpl_compile(buf_cstr(&body), body.len, why, sizeof(why));
    buf_free(&body);
    buf_free(&layout);
    return t;
}

static int load_signers(PGconn *conn, struct prepared_campaign *pc, const char *domain, char *err, size_t errlen)
{
    struct dkim_row *rows;
    size_t n;
    struct store_err e;
    if (store_dkim_signing(conn, domain, &rows, &n, &e) < 0) {
        snprintf(err, errlen, "%s", e.msg);
        return -1;
    }
    pc->signers = xcalloc(n ? n : 1, sizeof(*pc->signers));
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        char *why = NULL;
        struct dkim_key *key = dkim_key_load(rows[i].private_pem, strlen(rows[i].private_pem), rows[i].selector,
                                             rows[i].domain, &why);
        if (!key) {
            snprintf(err, errlen, "%s", why);
            xfree(why);
            rc = -1;
            break;
        }
        pc->signers[pc->nsigners] = dkim_signer_new(rows[i].domain, rows[i].selector, key);
        if (!pc->signers[pc->nsigners]) {
            snprintf(err, errlen, "cannot set up DKIM signing for %s._domainkey.%s", rows[i].selector, rows[i].domain);
            rc = -1;
            break;
        }
        pc->nsigners++;
    }
    dkim_rows_free(rows, n);
    return rc;
}

/* compile PC's row (already in pc->row) for campaign ID: subject and bodies inside its template, and PC's compose
 * campaign, signed by nobody yet; 0, or -1 with ERR */
static int compile_row(struct prepared_campaign *pc, const char *id, char *err, size_t errlen)
{
    json_t *t = json_object_get(pc->row, "template");
    const char *layout_html = json_is_object(t) ? jstr(t, "html") : NULL;
    const char *layout_text = json_is_object(t) ? jstr(t, "text") : NULL;
    const char *subject = jstr(pc->row, "subject"), *html = jstr(pc->row, "html"), *text = jstr(pc->row, "text");
    bool tx = jstr(pc->row, "kind") && strcmp(jstr(pc->row, "kind"), "tx") == 0;
    if (tx && json_is_object(t)) {
        /* a transactional campaign is its template alone, read afresh each time it is prepared */
        html = layout_html, text = layout_text;
        layout_html = layout_text = NULL;
    }
    char what[64];
    snprintf(what, sizeof(what), "campaign %s subject", id);
    if (!(pc->subject = compile_part(what, NULL, subject ? subject : "", err, errlen)))
        return -1;
    snprintf(what, sizeof(what), "campaign %s HTML", id);
    if (!(pc->html = compile_part(what, layout_html, html ? html : "", err, errlen)))
        return -1;
    snprintf(what, sizeof(what), "campaign %s text", id);
    if (text && !(pc->text = compile_part(what, layout_text, text, err, errlen)))
        return -1;
    if (!text)
        pc->text = derive_text(layout_html, layout_text, html ? html : "");
    pc->public_url = xstrdup(mail_settings.public_url);
    size_t n = strlen(pc->public_url);
    while (n > 0 && pc->public_url[n - 1] == '/')
        pc->public_url[--n] = 0;
    pc->cc = (struct compose_campaign){
        .id = (uint64_t)json_integer_value(json_object_get(pc->row, "id")),
        .name = jstr(pc->row, "name"),
        .subject = pc->subject,
        .html = pc->html,
        .text = pc->text,
        .from_name = jstr(pc->row, "from_name"),
        .from_addr = jstr(pc->row, "from_addr"),
        .reply_to = jstr(pc->row, "reply_to"),
        .public_url = pc->public_url,
        .unsubscribe_mailto = mail_settings.unsubscribe_mailto,
        .token_key = pc->token_key,
        .transactional = tx,
    };
    return 0;
}

/*
 * prepare_variants - PC's A/B test variants (its row's "ab"), each the
 * campaign's compose form with its own subject, and its own body (text
 * derived from it) and From name when given; with CONN, a variant's own
 * links are tracked. 0, or -1 with ERR.
 */
static int prepare_variants(PGconn *conn, struct prepared_campaign *pc, const char *id, char *err, size_t errlen)
{
    json_t *vs = json_object_get(json_object_get(pc->row, "ab"), "variants"), *v;
    json_t *t = json_object_get(pc->row, "template");
    const char *layout_html = json_is_object(t) ? jstr(t, "html") : NULL;
    const char *layout_text = json_is_object(t) ? jstr(t, "text") : NULL;
    size_t i;
    if (!json_is_array(vs) || json_array_size(vs) == 0)
        return 0;
    pc->variants = xcalloc(json_array_size(vs), sizeof(*pc->variants));
    json_array_foreach(vs, i, v) {
        struct prepared_variant *pv = &pc->variants[i];
        char what[80];
        pc->nvariants = i + 1;
        pv->cc = pc->cc;
        snprintf(what, sizeof(what), "campaign %s variant %zu subject", id, i + 1);
        if (!(pv->subject = compile_part(what, NULL, jstr(v, "subject") ? jstr(v, "subject") : "", err, errlen)))
            return -1;
        pv->cc.subject = pv->subject;
        if (jstr(v, "from_name"))
            pv->cc.from_name = jstr(v, "from_name");
        if (!jstr(v, "html"))
            continue;
        snprintf(what, sizeof(what), "campaign %s variant %zu HTML", id, i + 1);
        if (!(pv->html = compile_part(what, layout_html, jstr(v, "html"), err, errlen)))
            return -1;
        pv->text = derive_text(layout_html, layout_text, jstr(v, "html"));
        pv->cc.html = pv->html;
        pv->cc.text = pv->text;
        pv->cc.link_ids = NULL;
        if (conn && campaign_track_variant(conn, pc, pv, err, errlen) < 0)
            return -1;
        compose_choose_encodings(&pv->cc);
    }
    return 0;
}

/* campaign_variant - see prepare.h. */
const struct compose_campaign *campaign_variant(const struct prepared_campaign *pc, int v)
{
    return v >= 1 && (size_t)v <= pc->nvariants ? &pc->variants[v - 1].cc : &pc->cc;
}

/* load and compile campaign ID into PC; 0, or a negative store code with ERR (PC then freed) */
static int prepare(PGconn *conn, const char *id, struct prepared_campaign *pc, bool *unsigned_warning, char *err,
                   size_t errlen)
{
    struct store_err e;
    int code = STORE_ERR_INVALID;
    memset(pc, 0, sizeof(*pc));
    *unsigned_warning = false;
    if (store_campaign_get(conn, id, &pc->row, &e) < 0) {
        snprintf(err, errlen, "%s", e.msg);
        return e.code;
    }
    if (compile_row(pc, id, err, errlen) < 0)
        goto fail;
    if (load_signers(conn, pc, address_domain(pc->cc.from_addr), err, errlen) < 0)
        goto fail;
    pc->cc.signers = pc->signers;
    pc->cc.nsigners = pc->nsigners;
    *unsigned_warning = pc->nsigners == 0;
    if (store_secret(conn, "token_key", pc->token_key, sizeof(pc->token_key), &e) < 0) {
        snprintf(err, errlen, "%s", e.msg);
        code = e.code;
        goto fail;
    }
    if (campaign_track_prepare(conn, pc, err, errlen) < 0)
        goto fail;
    compose_choose_encodings(&pc->cc);
    if (prepare_variants(conn, pc, id, err, errlen) < 0)
        goto fail;
    return 0;
fail:
    campaign_prepared_free(pc);
    return code;
}

/* campaign_prepare_row - see prepare.h. */
int campaign_prepare_row(json_t *row, struct prepared_campaign *pc, char *err, size_t errlen)
{
    char id[32];
    memset(pc, 0, sizeof(*pc));
    pc->row = json_incref(row);
    snprintf(id, sizeof(id), "%lld", (long long)json_integer_value(json_object_get(row, "id")));
    if (compile_row(pc, id, err, errlen) < 0) {
        campaign_prepared_free(pc);
        return -1;
    }
    compose_choose_encodings(&pc->cc);
    if (prepare_variants(NULL, pc, id, err, errlen) < 0) {
        campaign_prepared_free(pc);
        return -1;
    }
    return 0;
}

/* campaign_prepare - load and compile campaign ID into PC; 0, or -1 with ERR (PC then freed). */
int campaign_prepare(PGconn *conn, const char *id, struct prepared_campaign *pc, bool *unsigned_warning,
                     char *err, size_t errlen)
{
    return prepare(conn, id, pc, unsigned_warning, err, errlen) < 0 ? -1 : 0;
}

/* campaign_prepared_free - release everything PC holds. */
void campaign_prepared_free(struct prepared_campaign *pc)
{
    for (size_t i = 0; i < pc->nsigners; i++)
        dkim_signer_free(pc->signers[i]);
    xfree(pc->signers);
    tmpl_free(pc->subject);
    tmpl_free(pc->html);
    tmpl_free(pc->text);
    for (size_t i = 0; i < pc->nvariants; i++) {
        tmpl_free(pc->variants[i].subject);
        tmpl_free(pc->variants[i].html);
        tmpl_free(pc->variants[i].text);
        xfree(pc->variants[i].link_ids);
    }
    xfree(pc->variants);
    json_decref(pc->row);
    xfree(pc->public_url);
    campaign_track_free(pc);
    memset(pc, 0, sizeof(*pc));
}

/*
 * recipient_load - subscriber EMAIL as a recipient of PC, mailed through the
 * first of the campaign's lists it is subscribed to (else the first list).
 * Returns 0, or a negative store code with ERR (STORE_ERR_NOTFOUND: no such subscriber).
 */
int recipient_load(PGconn *conn, const struct prepared_campaign *pc, const char *email, struct prepared_recipient *pr,
                   char *err, size_t errlen)
{
    struct store_err e;
    memset(pr, 0, sizeof(*pr));
    if (store_subscriber_get(conn, email, &pr->row, &e) < 0) {
        snprintf(err, errlen, "%s", e.msg);
        return e.code;
    }
    json_t *clists = json_object_get(pc->row, "lists"), *sl, *cl, *chosen = json_array_get(clists, 0);
    size_t i, j;
    json_array_foreach(clists, i, cl) {
        json_array_foreach(json_object_get(pr->row, "lists"), j, sl) {
            if (json_integer_value(json_object_get(sl, "id")) == json_integer_value(json_object_get(cl, "id")) &&
                strcmp(jstr(sl, "status"), "unsubscribed") != 0) {
                chosen = cl;
                goto found;
            }
        }
    }
found:
    pr->r = (struct compose_recipient){
        .subscriber_id = (uint64_t)json_integer_value(json_object_get(pr->row, "id")),
        .email = jstr(pr->row, "email"),
        .name = jstr(pr->row, "name"),
        .attribs = json_object_get(pr->row, "attribs"),
        .list_id = (uint64_t)json_integer_value(json_object_get(chosen, "id")),
        .list_name = jstr(chosen, "name"),
    };
    return 0;
}

/* recipient_free - release PR. */
void recipient_free(struct prepared_recipient *pr)
{
    json_decref(pr->row);
    memset(pr, 0, sizeof(*pr));
}

/*
 * compose_for - campaign ID composed now for EMAIL, as preview and test
 * messages are: a subscriber's own values, or (with ANY_ADDRESS, when EMAIL
 * is no subscriber) the campaign's first list and no personal values. The
 * message is appended to MSG; OUT gets the From address and whether no DKIM
 * key signed it. VARIANT (1..4) composes that variant of the campaign's A/B
 * test instead of its own content (0). Returns 0, or a negative store code with ERR:
 * STORE_ERR_NOTFOUND (no such campaign or subscriber), STORE_ERR_INVALID
 * (the campaign does not compile or compose, or has no such variant), STORE_ERR_DB.
 */
int compose_for(PGconn *conn, const char *id, const char *email, bool any_address, const char *delivery_id,
                int variant, struct buf *msg, struct compose_for_info *out, char *err, size_t errlen)
{
    struct prepared_campaign pc;
    struct prepared_recipient pr;
    struct compose_scratch scratch = COMPOSE_SCRATCH_INIT;
    const char *why;
    memset(out, 0, sizeof(*out));
    int rc = prepare(conn, id, &pc, &out->unsigned_warning, err, errlen);
    if (rc < 0)
        return rc;
    snprintf(out->from_addr, sizeof(out->from_addr), "%s", pc.cc.from_addr);
    json_t *none = json_object();
    if (variant < 0 || (size_t)variant > pc.nvariants) {
        snprintf(err, errlen, "campaign %s has no variant %d", id, variant);
        rc = STORE_ERR_INVALID;
        memset(&pr, 0, sizeof(pr));
        goto out;
    }
    if ((rc = recipient_load(conn, &pc, email, &pr, err, errlen)) < 0) {
        json_t *l = json_array_get(json_object_get(pc.row, "lists"), 0);
        if (!any_address || rc != STORE_ERR_NOTFOUND)
            goto out;
        rc = 0;
        memset(&pr, 0, sizeof(pr));
        pr.r.email = email;
        pr.r.attribs = none;
        pr.r.list_id = (uint64_t)json_integer_value(json_object_get(l, "id"));
        pr.r.list_name = json_string_value(json_object_get(l, "name"));
    }
    pr.r.delivery_id = delivery_id;
    if (compose_message(campaign_variant(&pc, variant), &pr.r, (long long)time(NULL), &scratch, msg, &why) < 0) {
        snprintf(err, errlen, "cannot compose campaign %s for %s: %s", id, email, why);
        rc = STORE_ERR_INVALID;
    }
    if (pr.row)
        recipient_free(&pr);
out:
    compose_scratch_free(&scratch);
    json_decref(none);
    campaign_prepared_free(&pc);
    return rc;
}
