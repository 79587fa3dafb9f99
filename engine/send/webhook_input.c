/*
 * webhook_input - the rules of a webhook endpoint's fields.
 */
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>

#include "engine/net/webhook_sign.h"
#include "engine/net/webhook_url.h"
#include "engine/send/webhook_input.h"

const char *const webhook_event_names[] = {
    "subscriber.created", "subscriber.updated", "subscriber.confirmed", "subscriber.unsubscribed",
    "subscriber.erased",  "delivery.sent",      "delivery.deferred",    "delivery.failed",
    "bounce.recorded",    "complaint.recorded", "email.opened",         "email.clicked",
    "campaign.started",   "campaign.paused",    "campaign.finished",    "import.finished",
    NULL,
};

/* webhook_event_known - see webhook_input.h. */
bool webhook_event_known(const char *name)
{
    for (size_t i = 0; webhook_event_names[i]; i++)
        if (strcmp(webhook_event_names[i], name) == 0)
            return true;
    return false;
}

static int fail(struct webhook_why *why, const char *field, const char *msg, const char *arg)
{
    why->field = field;
    snprintf(why->why, sizeof(why->why), msg, arg);
    return -1;
}

/* webhook_events_literal - "{a,b}" of the N names (known, none twice; "*" stands for all). */
int webhook_events_literal(const char *const *names, size_t n, struct buf *out, struct webhook_why *why)
{
    if (n == 0)
        return fail(why, "events", "events must name at least one event (%s)", "e.g. subscriber.created");
    if (n == 1 && strcmp(names[0], "*") == 0) {
        names = webhook_event_names;
        for (n = 0; names[n]; n++)
            ;
    }
    buf_appendc(out, '{');
    for (size_t i = 0; i < n; i++) {
        if (!webhook_event_known(names[i]))
            return fail(why, "events", "events: unknown event \"%.60s\"", names[i]);
        for (size_t k = 0; k < i; k++)
            if (strcmp(names[k], names[i]) == 0)
                return fail(why, "events", "events: \"%.60s\" is named twice", names[i]);
        if (i)
            buf_appendc(out, ',');
        buf_appends(out, names[i]);
    }
    buf_appendc(out, '}');
    return 0;
}

/* webhook_input_check - see webhook_input.h. */
int webhook_input_check(const struct webhook_input *in, bool allow_private, struct webhook_checked *out,
                        struct webhook_why *why)
{
    memset(out, 0, sizeof(*out));
    char msg[300];
    if (!in->url || !*in->url)
        return fail(why, "url", "%s", "url is required");
    if (webhook_url_check(in->url, allow_private, msg, sizeof(msg)) < 0)
        return fail(why, "url", "%s", msg);
    if (webhook_events_literal(in->events, in->n_events, &out->events, why) < 0) {
        webhook_input_free(out);
        return -1;
    }
    if (in->description && strlen(in->description) > 500) {
        webhook_input_free(out);
        return fail(why, "description", "%s", "description must be at most 500 characters");
    }
    if (in->secret) {
        if (webhook_secret_check(in->secret, NULL) < 0) {
            webhook_input_free(out);
            return fail(why, "secret", "%s",
                        "secret must be \"whsec_\" followed by the base64 of 24 to 64 random bytes");
        }
        buf_appends(&out->secret, in->secret);
    } else {
        if (webhook_secret_new(&out->secret) < 0) {
            webhook_input_free(out);
            return fail(why, "secret", "%s", "no randomness to make a secret");
        }
        out->secret_made = true;
    }
    return 0;
}

/* webhook_input_free - see webhook_input.h. */
void webhook_input_free(struct webhook_checked *c)
{
    if (c->secret.data)
        OPENSSL_cleanse(c->secret.data, c->secret.len);
    buf_free(&c->secret);
    buf_free(&c->events);
}
