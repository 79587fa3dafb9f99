/*
 * compose - one campaign, one recipient: the exact signed bytes.
 *
 * compose_message        render subject and bodies, build the MIME message, sign it
 * compose_scratch_free   release a thread's scratch buffers
 * compose_track_links    the HTML template with its links rewritten for click tracking
 * compose_confirm_url    the double opt-in confirmation URL of a subscription
 * compose_preferences_url  the preference page's URL of a subscriber, dated today
 *
 * Tracking (opens: a 1x1 image at the end of the HTML body; clicks: each
 * http(s) link through PUBLIC_URL/l/TOKEN) applies to messages of a
 * delivery, whose delivery_id is a number: a preview or a test is composed
 * with the links as written and no image.
 *
 * struct compose_campaign is prepared once per campaign (templates compiled,
 * keys loaded) and only read afterwards, so worker threads share it; each
 * thread brings its own struct compose_scratch, whose buffers are reused
 * from message to message. Pure code: no I/O, no logging.
 */
#ifndef POSTINO_MAIL_COMPOSE_H
#define POSTINO_MAIL_COMPOSE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/mail/dkim.h"
#include "engine/mail/mime.h"
#include "engine/mail/template.h"
#include "engine/mail/token.h"
#include "engine/util/buf.h"

struct compose_campaign {
    uint64_t id;
    const char *name;
    const struct tmpl *subject;      /* text mode */
    const struct tmpl *html;         /* the body inside its layout */
    const struct tmpl *text;         /* NULL: derived from the rendered HTML */
    const char *from_name;
    const char *from_addr;
    const char *reply_to;            /* NULL: none */
    const char *public_url;          /* base of unsubscribe links, no trailing slash */
    const char *unsubscribe_mailto;  /* NULL: none */
    const unsigned char *token_key;  /* TOKEN_KEY_LEN bytes */
    struct dkim_signer *const *signers;
    size_t nsigners;
    enum mime_cte html_cte, text_cte;  /* set by compose_choose_encodings; MIME_CTE_AUTO: chosen per message */
    bool track_opens;                /* the open image at the end of the HTML body */
    const uint64_t *link_ids;        /* tracked link I (compose_track_links) is links row LINK_IDS[I]; NULL: none */
    const uint64_t *confirm_lists;   /* the campaign's double opt-in lists: their recipients get {{ confirm_url }} */
    size_t nconfirm_lists;
    bool transactional;              /* not bulk: no List-Id, List-Unsubscribe or List-Unsubscribe-Post */
};

struct compose_recipient {
    uint64_t subscriber_id;
    const char *email;
    const char *name;
    json_t *attribs;
    uint64_t list_id;                /* the list this recipient is mailed through */
    const char *list_name;
    const char *delivery_id;         /* the delivery's id; X-Postino-Delivery unless delivery_header; NULL: none */
    const char *delivery_header;     /* X-Postino-Delivery when not the id alone (ID.TOKEN: signed), or NULL */
};

#define COMPOSE_BATCH_MAX 8 /* compose_batch composes this many at a time */

struct compose_scratch {
    struct buf subject, html, text, msg, url, listid, confirm, prefs, sig;
    struct buf batch[COMPOSE_BATCH_MAX]; /* compose_batch's unsigned messages */
};

#define COMPOSE_SCRATCH_INIT                                                                                   \
    { BUF_INIT, BUF_INIT, BUF_INIT, BUF_INIT, BUF_INIT, BUF_INIT, BUF_INIT, BUF_INIT, BUF_INIT,                   \
      { BUF_INIT, BUF_INIT, BUF_INIT, BUF_INIT, BUF_INIT, BUF_INIT, BUF_INIT, BUF_INIT } }

/* What compose_message reports when it fails. */
enum {
    COMPOSE_EVALUES = -1,  /* the message cannot be made of these values (a control character in a name or the
                              subject, a malformed address): it never will be */
    COMPOSE_ESIGN = -2,    /* a DKIM signature could not be made */
};

/*
 * compose_message - append to OUT the message for R in C: DKIM-Signature
 * fields (one per signer) followed by the MIME message, dated NOW. Line
 * breaks and tabs in the values that go into headers (names, the rendered
 * subject) are single spaces. Returns 0, or COMPOSE_EVALUES or COMPOSE_ESIGN
 * with *WHY set to a static reason (OUT then unchanged).
 */
int compose_message(const struct compose_campaign *c, const struct compose_recipient *r, long long now,
                    struct compose_scratch *s, struct buf *out, const char **why);

/*
 * compose_batch - for each I < N, as compose_message(C[I], R[I], NOW, S,
 * OUT[I], &WHY[I]) with its result in RC[I]: the same octets, but the DKIM
 * body hashes of the whole batch are taken at once (sha256_many: eight
 * messages in the time of about five). Each message is composed in S, and
 * copied once, signatures first, into exactly the room it takes in OUT[I]
 * (composing there would leave it the room of the encoders' worst case).
 */
void compose_batch(const struct compose_campaign *const *c, const struct compose_recipient *const *r, size_t n,
                   long long now, struct compose_scratch *s, struct buf *const *out, int *rc, const char **why);

/* compose_unsubscribe_url - append the one-click unsubscribe URL of R in C to OUT. */
void compose_unsubscribe_url(const struct compose_campaign *c, const struct compose_recipient *r, struct buf *out);

void compose_scratch_free(struct compose_scratch *s);

/*
 * compose_track_links - a copy of the compiled HTML template HTML whose
 * http(s) links are tracked: every href of an <a> or <area> that is literal
 * text, absolute http: or https:, at most LINKS_URL_MAX bytes, and not a link
 * to PUBLIC_URL's own pages (/u/, /c/, /l/, /o/, /p/). {{ unsubscribe_url }}, a
 * link with a variable in it, mailto:, anchors and relative links stay as
 * they are. *URLS gets the distinct URLs (decoded: &amp; is &) in order of
 * first appearance, *NURLS their number; link I of the copy is (*URLS)[I].
 * The caller frees the copy with tmpl_free and the URLs with
 * compose_links_free.
 */
struct tmpl *compose_track_links(const struct tmpl *html, const char *public_url, char ***urls, size_t *nurls);
void compose_links_free(char **urls, size_t n);

/* compose_confirm_url - append PUBLIC_URL/c/TOKEN (kind 'c', SUBSCRIBER_ID, LIST_ID, signed with KEY) to OUT. */
void compose_confirm_url(const char *public_url, const unsigned char *key, uint64_t subscriber_id, uint64_t list_id,
                         struct buf *out);

/*
 * compose_preferences_url - append PUBLIC_URL/p/TOKEN to OUT: kind 'p',
 * SUBSCRIBER_ID and the day of NOW (days since 1970-01-01, UTC), signed with
 * KEY. The page takes it for [preferences] token_days from that day.
 */
void compose_preferences_url(const char *public_url, const unsigned char *key, uint64_t subscriber_id, long long now,
                             struct buf *out);

/*
 * compose_choose_encodings - choose each part's transfer encoding once per
 * campaign, from a sample rendering: quoted-printable, or base64 where that
 * is shorter (text in a non-Latin script). Both stay valid whatever a
 * recipient's values hold, so messages skip the per-message choice.
 */
void compose_choose_encodings(struct compose_campaign *c);

/*
 * compose_text_source - append to OUT the text-template source derived from
 * the HTML template source HTML: html2text with every {{…}} and {{{…}}} tag
 * kept whole (a tag is never wrapped or decoded), so the text part can be
 * compiled once per campaign instead of converted once per recipient.
 */
void compose_text_source(struct buf *out, const char *html, size_t len);

#endif
