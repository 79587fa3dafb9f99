/*
 * compose - personalise, build and sign one message.
 *
 * The unsubscribe link carries a signed token naming (subscriber, campaign);
 * the same URL goes in the body ({{ unsubscribe_url }}) and in the
 * List-Unsubscribe header, with List-Unsubscribe-Post for RFC 8058.
 */
#include <stdlib.h>
#include <string.h>

#include "engine/mail/compose.h"
#include "engine/mail/mime.h"
#include "engine/mail/address.h"
#include "engine/mail/html2text.h"
#include "engine/util/alloc.h"

/* compose_unsubscribe_url - PUBLIC_URL/u/TOKEN for R's subscriber and C's campaign. */
void compose_unsubscribe_url(const struct compose_campaign *c, const struct compose_recipient *r, struct buf *out)
{
    char tok[TOKEN_MAX + 1];
    token_make(c->token_key, 'u', r->subscriber_id, c->id, tok, sizeof(tok));
    buf_appends(out, c->public_url);
    buf_appends(out, "/u/");
    buf_appends(out, tok);
}

/* compose_message - see compose.h. */
int compose_message(const struct compose_campaign *c, const struct compose_recipient *r, long long now,
                    struct compose_scratch *s, struct buf *out, const char **why)
{
    buf_reset(&s->url);
    buf_reset(&s->subject);
    buf_reset(&s->html);
    buf_reset(&s->text);
    buf_reset(&s->msg);
    buf_reset(&s->listid);
    compose_unsubscribe_url(c, r, &s->url);
    struct tmpl_values v = {
        .email = r->email,
        .name = r->name,
        .attribs = r->attribs,
        .unsubscribe_url = s->url.data,
        .campaign_name = c->name,
        .campaign_subject = NULL,
        .list_name = r->list_name,
    };
    tmpl_render(c->subject, &v, TMPL_TEXT, &s->subject);
    v.campaign_subject = buf_cstr(&s->subject);
    tmpl_render(c->html, &v, TMPL_HTML, &s->html);
    if (c->text)
        tmpl_render(c->text, &v, TMPL_TEXT, &s->text);
    buf_appendf(&s->listid, "list-%llu.%s", (unsigned long long)r->list_id, address_domain(c->from_addr));
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
        .delivery_id = r->delivery_id,
        .date = (time_t)now,
        .html = s->html.data,
        .html_len = s->html.len,
        .text = c->text ? buf_cstr(&s->text) : NULL,
        .text_len = s->text.len,
        .html_cte = c->html_cte,
        .text_cte = c->text ? c->text_cte : MIME_CTE_AUTO,
    };
    int rc = mime_build(&m, &s->msg);
    if (rc < 0) {
        *why = mime_strerror(rc);
        return -1;
    }
    size_t mark = out->len;
    for (size_t i = 0; i < c->nsigners; i++) {
        if (dkim_sign(c->signers[i], s->msg.data, s->msg.len, now, out) < 0) {
            buf_truncate(out, mark);
            *why = "DKIM signing failed";
            return -1;
        }
    }
    buf_append(out, s->msg.data, s->msg.len);
    return 0;
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
