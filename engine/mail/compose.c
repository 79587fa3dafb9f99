/*
 * compose - personalise, build and sign one message.
 *
 * The unsubscribe link carries a signed token naming (subscriber, campaign);
 * the same URL goes in the body ({{ unsubscribe_url }}) and in the
 * List-Unsubscribe header, with List-Unsubscribe-Post for RFC 8058.
 *
 * Tracking costs nothing when it is off. When on, the links were found once
 * per campaign (compose_track_links rewrites the compiled template), so a
 * message costs one HMAC per link rendered and one for the open image.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "engine/mail/compose.h"
#include "engine/mail/mime.h"
#include "engine/mail/address.h"
#include "engine/mail/html2text.h"
#include "engine/mail/links.h"
#include "engine/util/alloc.h"

/* The most distinct links tracked in one campaign; more stay as written. */
#define COMPOSE_LINKS_MAX 10000

/* compose_unsubscribe_url - PUBLIC_URL/u/TOKEN for R's subscriber and C's campaign. */
void compose_unsubscribe_url(const struct compose_campaign *c, const struct compose_recipient *r, struct buf *out)
{
    char tok[TOKEN_MAX + 1];
    token_make(c->token_key, 'u', r->subscriber_id, c->id, tok, sizeof(tok));
    buf_appends(out, c->public_url);
    buf_appends(out, "/u/");
    buf_appends(out, tok);
}

/* compose_confirm_url - PUBLIC_URL/c/TOKEN naming (SUBSCRIBER_ID, LIST_ID). */
void compose_confirm_url(const char *public_url, const unsigned char *key, uint64_t subscriber_id, uint64_t list_id,
                         struct buf *out)
{
    char tok[TOKEN_MAX + 1];
    token_make(key, 'c', subscriber_id, list_id, tok, sizeof(tok));
    buf_appends(out, public_url);
    buf_appends(out, "/c/");
    buf_appends(out, tok);
}

/* compose_preferences_url - PUBLIC_URL/p/TOKEN naming (SUBSCRIBER_ID, the day of NOW). */
void compose_preferences_url(const char *public_url, const unsigned char *key, uint64_t subscriber_id, long long now,
                             struct buf *out)
{
    char tok[TOKEN_MAX + 1];
    token_make(key, 'p', subscriber_id, now > 0 ? (uint64_t)(now / 86400) : 0, tok, sizeof(tok));
    buf_appends(out, public_url);
    buf_appends(out, "/p/");
    buf_appends(out, tok);
}

/* delivery_number - the delivery id D names, when it is a number (not "preview" or "test") */
static bool delivery_number(const char *d, uint64_t *id)
{
    uint64_t v = 0;
    size_t n = 0;
    if (!d)
        return false;
    for (; d[n] >= '0' && d[n] <= '9'; n++) {
        if (n == 19)
            return false;
        v = v * 10 + (uint64_t)(d[n] - '0');
    }
    *id = v;
    return n > 0 && d[n] == 0 && v > 0;
}

struct link_ctx {
    const struct compose_campaign *c;
    uint64_t delivery;
};

/* link_url - the click URL of tracked link IDX for this delivery (a tmpl_values link function) */
static void link_url(const void *ctx, unsigned idx, struct buf *out)
{
    const struct link_ctx *l = ctx;
    char tok[TOKEN_MAX + 1];
    token_make(l->c->token_key, 'l', l->delivery, l->c->link_ids[idx], tok, sizeof(tok));
    buf_appends(out, l->c->public_url);
    buf_appends(out, "/l/");
    buf_appends(out, tok);
}

static void attr_escape(struct buf *out, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '&': buf_appends(out, "&amp;"); break;
        case '<': buf_appends(out, "&lt;"); break;
        case '>': buf_appends(out, "&gt;"); break;
        case '"': buf_appends(out, "&quot;"); break;
        case '\'': buf_appends(out, "&#39;"); break;
        default: buf_appendc(out, *s); break;
        }
    }
}

/* open_image - put the open image of DELIVERY before HTML's last </body>, or at its end */
static void open_image(const struct compose_campaign *c, uint64_t delivery, struct buf *html, struct buf *tmp)
{
    char tok[TOKEN_MAX + 1];
    token_make(c->token_key, 'o', delivery, 0, tok, sizeof(tok));
    buf_reset(tmp);
    buf_appends(tmp, "<img src=\"");
    attr_escape(tmp, c->public_url);
    buf_appendf(tmp, "/o/%s.gif\" width=\"1\" height=\"1\" alt=\"\" style=\"display:block;border:0;width:1px;height:1px\">",
                tok);
    size_t at = html->len;
    for (size_t i = html->len; i >= 6; i--) {
        if (html->data[i - 6] == '<' && strncasecmp(html->data + i - 5, "/body", 5) == 0) {
            at = i - 6;
            break;
        }
    }
    buf_reserve(html, tmp->len);
    memmove(html->data + at + tmp->len, html->data + at, html->len - at + 1);
    memcpy(html->data + at, tmp->data, tmp->len);
    html->len += tmp->len;
}

static bool confirm_list(const struct compose_campaign *c, uint64_t list_id)
{
    for (size_t i = 0; i < c->nconfirm_lists; i++)
        if (c->confirm_lists[i] == list_id)
            return true;
    return false;
}

/* compose_unsigned - append R's message in C, not yet signed, to DST; 0 or COMPOSE_EVALUES (*WHY set, DST as it was) */
static int compose_unsigned(const struct compose_campaign *c, const struct compose_recipient *r, long long now,
                            struct compose_scratch *s, struct buf *dst, const char **why)
{
    uint64_t delivery = 0;
    bool tracked = (c->track_opens || c->link_ids) && delivery_number(r->delivery_id, &delivery);
    struct link_ctx lc = { c, delivery };
    buf_reset(&s->url);
    buf_reset(&s->subject);
    buf_reset(&s->html);
    buf_reset(&s->text);
    compose_unsubscribe_url(c, r, &s->url);
    buf_reset(&s->prefs);
    compose_preferences_url(c->public_url, c->token_key, r->subscriber_id, now, &s->prefs);
    struct tmpl_values v = {
        .email = r->email,
        .name = r->name,
        .attribs = r->attribs,
        .unsubscribe_url = s->url.data,
        .campaign_name = c->name,
        .campaign_subject = NULL,
        .list_name = r->list_name,
        .preferences_url = s->prefs.data,
    };
    if (tracked && c->link_ids) {
        v.link = link_url;
        v.link_ctx = &lc;
    }
    if (c->nconfirm_lists && confirm_list(c, r->list_id)) {
        buf_reset(&s->confirm);
        compose_confirm_url(c->public_url, c->token_key, r->subscriber_id, r->list_id, &s->confirm);
        v.confirm_url = s->confirm.data;
    }
    tmpl_render(c->subject, &v, TMPL_TEXT, &s->subject);
    v.campaign_subject = buf_cstr(&s->subject);
    tmpl_render(c->html, &v, TMPL_HTML, &s->html);
    if (tracked && c->track_opens)
        open_image(c, delivery, &s->html, &s->listid);
    if (c->text)
        tmpl_render(c->text, &v, TMPL_TEXT, &s->text);
    buf_reset(&s->listid);
    buf_append(&s->listid, "list-", 5); /* list-ID.DOMAIN */
    buf_appendu(&s->listid, (unsigned long long)r->list_id);
    buf_appendc(&s->listid, '.');
    buf_appends(&s->listid, address_domain(c->from_addr));
    struct mime_message m = {
        .from_name = c->from_name && *c->from_name ? c->from_name : NULL,
        .from_addr = c->from_addr,
        .to_name = r->name && *r->name ? r->name : NULL,
        .to_addr = r->email,
        .subject = s->subject.data,
        .reply_to = c->reply_to,
        .list_unsubscribe_url = c->transactional ? NULL : s->url.data,
        .list_unsubscribe_mailto = c->transactional ? NULL : c->unsubscribe_mailto,
        .list_name = r->list_name,
        .list_id = c->transactional ? NULL : s->listid.data,
        .delivery_id = r->delivery_header ? r->delivery_header : r->delivery_id,
        .date = (time_t)now,
        .html = s->html.data,
        .html_len = s->html.len,
        .text = c->text ? buf_cstr(&s->text) : NULL,
        .text_len = s->text.len,
        .html_cte = c->html_cte,
        .text_cte = c->text ? c->text_cte : MIME_CTE_AUTO,
    };
    size_t start = dst->len;
    int rc = mime_build(&m, dst);
    if (rc < 0) {
        buf_truncate(dst, start);
        *why = mime_strerror(rc);
        return COMPOSE_EVALUES;
    }
    return 0;
}

/* compose_message - see compose.h. */
int compose_message(const struct compose_campaign *c, const struct compose_recipient *r, long long now,
                    struct compose_scratch *s, struct buf *out, const char **why)
{
    buf_reset(&s->msg);
    int rc = compose_unsigned(c, r, now, s, &s->msg, why);
    if (rc < 0)
        return rc;
    size_t mark = out->len;
    for (size_t i = 0; i < c->nsigners; i++) {
        if (dkim_sign(c->signers[i], s->msg.data, s->msg.len, now, out) < 0) {
            buf_truncate(out, mark);
            *why = "DKIM signing failed";
            return COMPOSE_ESIGN;
        }
    }
    buf_append(out, s->msg.data, s->msg.len);
    return 0;
}

/* the body hashes one batch takes at once: its messages' (at most two canonicalizations each) */
struct batch_hash {
    size_t n;
    struct dkim_body *body;
    struct sha256_in *in;
    unsigned char (*bh)[32];
};

/* hash_of - the index in H of message I's body under CANON, described on first asking (MSG, LEN) */
static size_t hash_of(struct batch_hash *h, size_t *first, size_t i, enum dkim_canon canon, const char *msg, size_t len)
{
    size_t *at = &first[2 * i + (canon == DKIM_CANON_SIMPLE)];
    if (*at == SIZE_MAX) {
        *at = h->n++;
        dkim_body_of(canon, msg, len, &h->body[*at]);
        h->in[*at] = h->body[*at].in;
    }
    return *at;
}

/* batch_part - compose_batch for N <= COMPOSE_BATCH_MAX */
static void batch_part(const struct compose_campaign *const *c, const struct compose_recipient *const *r, size_t n,
                       long long now, struct compose_scratch *s, struct buf *const *out, int *rc, const char **why)
{
    struct dkim_body body[2 * COMPOSE_BATCH_MAX] = { 0 }; /* each copy: BUF_INIT */
    struct sha256_in in[2 * COMPOSE_BATCH_MAX] = { 0 };
    unsigned char bh[2 * COMPOSE_BATCH_MAX][32];
    size_t first[2 * COMPOSE_BATCH_MAX];
    struct batch_hash h = { .body = body, .in = in, .bh = bh };
    for (size_t i = 0; i < 2 * n; i++)
        first[i] = SIZE_MAX;
    for (size_t i = 0; i < n; i++) {
        buf_reset(&s->batch[i]);
        rc[i] = compose_unsigned(c[i], r[i], now, s, &s->batch[i], &why[i]);
    }
    /* every message's body, once for each canonicalization its signers use (two at most) */
    for (size_t i = 0; i < n; i++)
        for (size_t k = 0; rc[i] == 0 && k < c[i]->nsigners; k++)
            hash_of(&h, first, i, dkim_signer_body_canon(c[i]->signers[k]), s->batch[i].data, s->batch[i].len);
    bool hashed = sha256_many(h.in, h.n, h.bh) == 0;
    for (size_t i = 0; i < n; i++) {
        if (rc[i] != 0)
            continue;
        const char *msg = s->batch[i].data;
        size_t len = s->batch[i].len;
        buf_reset(&s->sig);
        for (size_t k = 0; k < c[i]->nsigners && rc[i] == 0; k++) {
            size_t at = hash_of(&h, first, i, dkim_signer_body_canon(c[i]->signers[k]), msg, len);
            if (!hashed || dkim_sign_bh(c[i]->signers[k], msg, len, now, h.bh[at], &s->sig) < 0) {
                why[i] = "DKIM signing failed";
                rc[i] = COMPOSE_ESIGN;
            }
        }
        if (rc[i] == 0) { /* the signatures, then the message */
            buf_reserve(out[i], s->sig.len + len);
            buf_append(out[i], s->sig.data, s->sig.len);
            buf_append(out[i], msg, len);
        }
    }
    for (size_t i = 0; i < h.n; i++)
        buf_free(&h.body[i].copy);
}

/* compose_batch - see compose.h. */
void compose_batch(const struct compose_campaign *const *c, const struct compose_recipient *const *r, size_t n,
                   long long now, struct compose_scratch *s, struct buf *const *out, int *rc, const char **why)
{
    for (size_t i = 0; i < n; i += COMPOSE_BATCH_MAX) {
        size_t k = n - i < COMPOSE_BATCH_MAX ? n - i : COMPOSE_BATCH_MAX;
        batch_part(c + i, r + i, k, now, s, out + i, rc + i, why + i);
    }
}

/* compose_scratch_free - release S's buffers. */
void compose_scratch_free(struct compose_scratch *s)
{
    buf_free(&s->subject);
    buf_free(&s->html);
    buf_free(&s->text);
    buf_free(&s->msg);
    buf_free(&s->url);
    buf_free(&s->listid);
    buf_free(&s->confirm);
    buf_free(&s->prefs);
    buf_free(&s->sig);
    for (size_t i = 0; i < COMPOSE_BATCH_MAX; i++)
        buf_free(&s->batch[i]);
}

struct pick {
    const char *public_url;
    size_t plen;
    char **urls;
    size_t n;
    struct buf tmp;
};

/* own_page - is URL one of PUBLIC_URL's own pages (/u/, /c/, /l/, /o/, /p/)? */
static bool own_page(const struct pick *p, const char *url)
{
    const char *rest = url + p->plen;
    return strncmp(url, p->public_url, p->plen) == 0 && rest[0] == '/' && strchr("ucolp", rest[1]) && rest[1] &&
           rest[2] == '/';
}

/* pick_link - the index of the href value RAW among the tracked URLs, or -1 to leave it */
static int pick_link(void *ctx, const char *raw, size_t len)
{
    struct pick *p = ctx;
    buf_reset(&p->tmp);
    if (links_url(raw, len, &p->tmp) < 0)
        return -1;
    const char *url = buf_cstr(&p->tmp);
    if (!links_trackable(url) || own_page(p, url))
        return -1;
    for (size_t i = 0; i < p->n; i++)
        if (strcmp(p->urls[i], url) == 0)
            return (int)i;
    if (p->n == COMPOSE_LINKS_MAX)
        return -1;
    p->urls = xrealloc(p->urls, (p->n + 1) * sizeof(*p->urls));
    p->urls[p->n] = xstrdup(url);
    return (int)p->n++;
}

/* compose_track_links - see compose.h. */
struct tmpl *compose_track_links(const struct tmpl *html, const char *public_url, char ***urls, size_t *nurls)
{
    struct pick p = { .public_url = public_url, .plen = strlen(public_url) };
    buf_init(&p.tmp);
    struct tmpl *t = tmpl_track_links(html, pick_link, &p);
    buf_free(&p.tmp);
    *urls = p.urls;
    *nurls = p.n;
    return t;
}

/* compose_links_free - release the URLS of compose_track_links. */
void compose_links_free(char **urls, size_t n)
{
    for (size_t i = 0; i < n; i++)
        xfree(urls[i]);
    xfree(urls);
}

/* The word a tag is replaced with while html2text runs: letters and digits only, so it is never wrapped. */
#define TAG_MARK "zqpostinotag"

/* compose_text_source - see compose.h. */
void compose_text_source(struct buf *out, const char *html, size_t len)
{
    struct buf masked = BUF_INIT, text = BUF_INIT;
    const char **tags = NULL;
    size_t *lens = NULL, ntags = 0;
    size_t i = 0;
    while (i < len) {
        const char *open = i + 1 < len ? memmem(html + i, len - i, "{{", 2) : NULL;
        if (!open) {
            buf_append(&masked, html + i, len - i);
            break;
        }
        size_t at = (size_t)(open - html);
        const char *close = memmem(open + 2, len - at - 2, "}}", 2);
        if (!close) {
            buf_append(&masked, html + i, len - i);
            break;
        }
        size_t end = (size_t)(close - html) + 2;
        if (end < len && html[end] == '}' && at + 2 < len && html[at + 2] == '{')
            end++;
        buf_append(&masked, html + i, at - i);
        tags = xrealloc(tags, (ntags + 1) * sizeof(*tags));
        lens = xrealloc(lens, (ntags + 1) * sizeof(*lens));
        tags[ntags] = open;
        lens[ntags] = end - at;
        buf_appendf(&masked, TAG_MARK "%zux", ntags);
        ntags++;
        i = end;
    }
    html2text_append(&text, masked.data ? masked.data : "", masked.len);
    const char *p = buf_cstr(&text), *q;
    while ((q = strstr(p, TAG_MARK)) != NULL) {
        char *endp;
        size_t n = strtoul(q + sizeof(TAG_MARK) - 1, &endp, 10);
        buf_append(out, p, (size_t)(q - p));
        if (*endp == 'x' && n < ntags) {
            buf_append(out, tags[n], lens[n]);
            p = endp + 1;
        } else {
            buf_append(out, q, sizeof(TAG_MARK) - 1);
            p = q + sizeof(TAG_MARK) - 1;
        }
    }
    buf_appends(out, p);
    xfree(tags);
    xfree(lens);
    buf_free(&masked);
    buf_free(&text);
}

static enum mime_cte sample_cte(const struct tmpl *t, enum tmpl_mode mode)
{
    struct tmpl_values v = { .email = "sample@example.com", .name = "Sample", .campaign_subject = "Sample",
                             .unsubscribe_url = "https://example.com/u/sample", .list_name = "Sample" };
    struct buf b = BUF_INIT;
    tmpl_render(t, &v, mode, &b);
    enum mime_cte cte = mime_body_choose(buf_cstr(&b), b.len) == MIME_BASE64 ? MIME_BASE64 : MIME_QP;
    buf_free(&b);
    return cte;
}

/* compose_choose_encodings - see compose.h. */
void compose_choose_encodings(struct compose_campaign *c)
{
    c->html_cte = c->html ? sample_cte(c->html, TMPL_HTML) : MIME_CTE_AUTO;
    c->text_cte = c->text ? sample_cte(c->text, TMPL_TEXT) : MIME_CTE_AUTO;
}
