/*
 * smtp_pool - the connections to one relay, a queue of messages, and its pace.
 *
 * smtp_pool_create     a pool for one relay (opens connections only when there is mail)
 * smtp_pool_submit     queue one message (copied); CB gets its result
 * smtp_pool_submit_owned  the same, taking the caller's buffer over (no copy)
 * smtp_pool_queued     messages waiting for a connection
 * smtp_pool_in_flight  messages being sent
 * smtp_pool_conns      connections open or opening (at most max_conns)
 * smtp_pool_hold       give no message to a connection for a while (back-pressure)
 * smtp_pool_grant      the answer to a budget request: N more messages, or a wait
 * smtp_pool_allowance  messages granted and not yet given to a connection
 * smtp_pool_paced      does the budget hold its messages back now (asking, or told to wait)
 * smtp_pool_starved    messages wait and every connection slot is held by other senders
 * smtp_pool_ask_slots  ask for slots now (its owner, at each heartbeat: that gives back what is not wanted)
 * smtp_pool_slots      the answer to a slots request: how many connections it may have now
 *                      (SMTP_POOL_SLOTS_UNKNOWN: the request failed, nothing changes)
 * smtp_pool_wanted     how many connections it wants: for its messages, or open (idle ones until they close)
 * smtp_pool_close      cancel what waits, let what is in flight finish, QUIT, free
 *
 * At most max_conns connections carry messages, each up to max_messages before
 * it QUITs and another opens. Before each message the pool asks its rate
 * limiter (engine/net/ratelimit) and, when told to wait, waits on a timer. A
 * connection that fails to open, drops, or gets a 421 is replaced after a
 * backoff that doubles from reconnect_min_ms to reconnect_max_ms. A message's
 * result is the server's answer, as smtp_conn_send reports it; the pool never
 * resends a message a server may have seen. After max_connect_failures setups
 * in a row fail with no connection working, every queued message gets that
 * setup failure as its result. Nothing here decides bounce or defer.
 *
 * A pool with a budget (a relay's rate and quota shared by several senders)
 * also needs an allowance for each message: when it has none and messages
 * wait, it asks BUDGET(BUDGET_ARG, WANT) once for up to budget_max more, and
 * sends nothing further until smtp_pool_grant answers (with 0 and a wait,
 * it asks again after that wait).
 *
 * A pool with slots (a relay's connection cap shared by several senders)
 * opens no more connections than it holds slots: when it wants more it asks
 * SLOTS(SLOTS_ARG, WANT) (at most once a second, unless the last answer
 * gave all it asked for and it wants more now), and smtp_pool_slots says
 * how many it holds now; with fewer than are open, idle connections close
 * and busy ones close once their message is done.
 */
#ifndef POSTINO_NET_SMTP_POOL_H
#define POSTINO_NET_SMTP_POOL_H

#include <stdbool.h>
#include <stddef.h>

#include <uv.h>

#include "engine/net/ratelimit.h"
#include "engine/net/smtp.h"

struct smtp_pool_config {
    struct smtp_config smtp;        /* every connection's settings (copied) */
    unsigned max_conns;             /* 0: 4 */
    struct ratelimit_config limits; /* zeros: no pacing */
    unsigned reconnect_min_ms;      /* 0: 1000 */
    unsigned reconnect_max_ms;      /* 0: 60000 */
    unsigned max_connect_failures;  /* 0: 5 */
    unsigned idle_timeout_ms;       /* an idle connection QUITs after this; 0: 5000 */
    void (*budget)(void *arg, unsigned want); /* NULL: no budget (the limits alone pace) */
    void *budget_arg;
    unsigned budget_max;            /* the most asked at once; 0: 100 */
    void (*slots)(void *arg, unsigned want); /* NULL: max_conns alone caps the connections */
    void *slots_arg;
};

struct smtp_pool;

/* The result of one message; its strings are valid only during the call. */
typedef void (*smtp_pool_cb)(const struct smtp_result *res, void *arg);

int smtp_pool_create(uv_loop_t *loop, const struct smtp_pool_config *cfg, struct smtp_pool **out);
int smtp_pool_submit(struct smtp_pool *p, const char *env_from, const char *rcpt, const void *data,
                     size_t len, smtp_pool_cb cb, void *arg);
int smtp_pool_submit_owned(struct smtp_pool *p, const char *env_from, const char *rcpt, char *data,
                           size_t len, unsigned flags, smtp_pool_cb cb, void *arg);
size_t smtp_pool_queued(const struct smtp_pool *p);
size_t smtp_pool_in_flight(const struct smtp_pool *p);
unsigned smtp_pool_conns(const struct smtp_pool *p);
void smtp_pool_hold(struct smtp_pool *p, unsigned ms);
void smtp_pool_grant(struct smtp_pool *p, unsigned n, unsigned wait_ms);
unsigned long smtp_pool_allowance(const struct smtp_pool *p);
bool smtp_pool_paced(const struct smtp_pool *p);
#define SMTP_POOL_SLOTS_UNKNOWN 0xffffffffu
bool smtp_pool_starved(const struct smtp_pool *p);
void smtp_pool_ask_slots(struct smtp_pool *p);
void smtp_pool_slots(struct smtp_pool *p, unsigned held);
unsigned smtp_pool_wanted(const struct smtp_pool *p);
void smtp_pool_close(struct smtp_pool *p, smtp_close_cb cb, void *arg);

#endif
