/*
 * prepare - a campaign made ready for composing, from the store.
 *
 * campaign_prepare        load a campaign, compile its subject and bodies (inside
 *                         its template), load the From domain's DKIM keys
 * campaign_prepare_row    the same from a campaign row in hand (as store_campaign_get
 *                         gives it), with no store: unsigned, no link tracking, a zero
 *                         token key (backend_ram.c; never for a real sender)
 * campaign_prepared_free  release it
 * recipient_load          one subscriber as a compose recipient (for preview and test)
 * recipient_free          release it
 * compose_for             one message of a campaign (or of one of its A/B test's
 *                         variants) for one address, composed now (the preview and
 *                         the test message)
 *
 * Errors are one line naming the thing: the campaign, the template line and
 * column, the DKIM key that cannot be loaded. A From domain without a key
 * is allowed: the messages go unsigned and *UNSIGNED_WARNING says so.
 */
#ifndef POSTINO_SEND_PREPARE_H
#define POSTINO_SEND_PREPARE_H

#include <jansson.h>
#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>

#include "engine/mail/address.h"
#include "engine/mail/compose.h"
#include "engine/util/buf.h"

struct prepared_campaign {
    struct compose_campaign cc;
    json_t *row;
    struct tmpl *subject, *html, *text;
    struct dkim_signer **signers;
    size_t nsigners;
    unsigned char token_key[TOKEN_KEY_LEN];
    char *public_url;
    uint64_t *link_ids, *confirm_lists;   /* tracking (engine/send/track.c) */
    size_t nconfirm_lists;
    struct prepared_variant *variants;  /* an A/B test's variants (NULL: none), nvariants of them */
    size_t nvariants;
};

/*
 * An A/B test's variant: the campaign's compose form with the variant's
 * subject, and its own body and From name when it has them. Its templates
 * are its own (NULL: the campaign's, shared).
 */
struct prepared_variant {
    struct compose_campaign cc;
    struct tmpl *subject, *html, *text;
    uint64_t *link_ids;
};

/* campaign_variant - the compose form of variant V (1..4) of PC, or PC's own for 0 or a variant it does not have */
const struct compose_campaign *campaign_variant(const struct prepared_campaign *pc, int v);

struct prepared_recipient {
    struct compose_recipient r;
    json_t *row;
};

struct compose_for_info {
    char from_addr[ADDRESS_MAX + 1];   /* the campaign's From: the envelope sender of a test */
    bool unsigned_warning;             /* no DKIM key for the From domain */
};

int campaign_prepare(PGconn *conn, const char *id, struct prepared_campaign *pc, bool *unsigned_warning,
                     char *err, size_t errlen);
int campaign_prepare_row(json_t *row, struct prepared_campaign *pc, char *err, size_t errlen);
void campaign_prepared_free(struct prepared_campaign *pc);
int recipient_load(PGconn *conn, const struct prepared_campaign *pc, const char *email, struct prepared_recipient *pr,
                   char *err, size_t errlen);
void recipient_free(struct prepared_recipient *pr);
int compose_for(PGconn *conn, const char *id, const char *email, bool any_address, const char *delivery_id,
                int variant, struct buf *msg, struct compose_for_info *out, char *err, size_t errlen);

#endif
