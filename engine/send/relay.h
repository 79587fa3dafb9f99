/*
 * relay - using a stored relay: pool settings, a probe, one message now.
 *
 * relay_pool_config  the smtp_pool settings for a relay definition
 * relay_probe        connect, EHLO, STARTTLS, AUTH, QUIT; report each step
 * relay_send_one     send one message at once and wait for the answer
 *
 * relay_probe and relay_send_one run a loop of their own and block: they are
 * for the command line (relay test, campaign test), never for the engine.
 */
#ifndef POSTINO_SEND_RELAY_H
#define POSTINO_SEND_RELAY_H

#include <stdbool.h>
#include <stddef.h>

#include "engine/net/smtp_pool.h"
#include "engine/store/relays.h"
#include "engine/util/buf.h"

struct relay_answer {
    bool ok;
    char stage[16];
    int code;
    char enhanced[16];
    char text[512];
    char queue_id[64];
};

void relay_pool_config(const struct relay_def *r, struct smtp_pool_config *pc);
int relay_probe(const struct relay_def *r, struct buf *report, struct relay_answer *ans);
int relay_send_one(const struct relay_def *r, const char *env_from, const char *rcpt, const char *data, size_t len,
                   struct relay_answer *ans);

#endif
