/*
 * webhooks - the worker that delivers the outbox (sql/025_webhooks.sql), and
 * its settings ([webhooks]).
 *
 * webhooks_table, webhooks_settings  [webhooks]: allow_private, timeouts, how many requests at
 *                      once, claims, backoff, retry window, when an endpoint is disabled
 * webhooks_settings_check  is allow_private true or false; -1 with ERR otherwise
 * webhooks_allow_private   its value
 * webhooks_run         the worker on this thread until SIGINT or SIGTERM (postino webhooks)
 * webhooks_thread_start  the worker on a thread of its own (postino serve); NULL on failure
 * webhooks_thread_stop   let it finish what is in flight, record it, and join it
 * webhook_probe        send one signed "webhook.test" event to URL now and wait for the answer
 *
 * The worker claims due events (webhook_claim) up to [webhooks] concurrency
 * requests in flight, sends each as one POST signed per Standard Webhooks
 * (webhook-id msg_<event id>, webhook-timestamp, webhook-signature), and records
 * the outcomes in batches (webhook_record): at least once, in order per subject.
 * One event per request.
 */
#ifndef POSTINO_SEND_WEBHOOKS_H
#define POSTINO_SEND_WEBHOOKS_H

#include <stdbool.h>
#include <stddef.h>

#include "engine/net/http_client.h"
#include "engine/util/settings.h"

struct webhooks_settings {
    const char *allow_private;     /* "true" or "false" */
    unsigned connect_timeout_s, timeout_s, concurrency, batch, backoff_s, retry_window_s;
    unsigned disable_after_failures, disable_after_s, poll_ms, keep_days;
    const char *ca_file;           /* NULL: the system's CAs */
};

extern const struct setting webhooks_table[];
extern struct webhooks_settings webhooks_settings;

struct webhooks_thread;

int webhooks_settings_check(char *err, size_t errlen);
bool webhooks_allow_private(void);
int webhooks_run(const char *conninfo);
struct webhooks_thread *webhooks_thread_start(const char *conninfo);
void webhooks_thread_stop(struct webhooks_thread *t);
int webhook_probe(long long endpoint_id, const char *url, const char *secret, struct http_result *res);

#endif
