/*
 * hooks - the email services' webhook messages already taken (hook_seen,
 * sql/030_provider_webhooks.sql), so that a message sent again is refused.
 *
 * store_hook_seen  note one message as taken, in the caller's transaction
 */
#ifndef POSTINO_STORE_HOOKS_H
#define POSTINO_STORE_HOOKS_H

#include <libpq-fe.h>
#include <stdbool.h>

#include "engine/store/store.h"

/*
 * store_hook_seen - record that PROVIDER's message ID (1 to 200 bytes) was
 * taken, kept KEEP_S seconds; rows already past their time are deleted first.
 * *FRESH is false when the message was taken before (and is still kept): the
 * caller refuses it. Runs in the caller's transaction, so that the row goes
 * with the bounces the message records, or with none of them. 0 or STORE_ERR_DB.
 */
int store_hook_seen(PGconn *conn, const char *provider, const char *id, unsigned keep_s, bool *fresh,
                    struct store_err *e);

#endif
