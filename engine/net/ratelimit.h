/*
 * ratelimit - pacing for a relay: a token bucket and a decaying quota, over a
 * clock the caller supplies (milliseconds), so they are exact and testable.
 *
 * ratelimit_bucket_init   a token bucket: COUNT messages per PERIOD_MS, BURST at most at once
 * ratelimit_bucket_wait   how long until N tokens are there (0: now); takes none
 * ratelimit_bucket_take   take N tokens if they are there (0), else how long to wait
 * ratelimit_quota_init    a quota of LIMIT recipients per PERIOD_MS, decaying as PolicyD's does
 * ratelimit_quota_wait    how long until N more recipients fit (0: now); counts none
 * ratelimit_quota_take    count N recipients if they fit (0), else how long to wait
 * ratelimit_quota_used    the decayed count now (rounded up)
 * ratelimit_init          both, from a configuration (either may be off)
 * ratelimit_acquire       both at once: 0 and N counted by each, or the longest wait
 *
 * The bucket holds credit in token-milliseconds and the quota its counter in
 * recipient-milliseconds, so every step is integer arithmetic: COUNT tokens are
 * added every PERIOD_MS without rounding drift. PolicyD's quota counter decays
 * linearly, by LIMIT every PERIOD_MS, and a request passes when counter + N <=
 * LIMIT. A clock that goes backwards is treated as standing still. A wait is
 * UINT64_MAX when the request can never pass (N above the burst or the limit).
 */
#ifndef POSTINO_NET_RATELIMIT_H
#define POSTINO_NET_RATELIMIT_H

#include <stdbool.h>
#include <stdint.h>

struct ratelimit_bucket {
    uint64_t count;     /* tokens added per period */
    uint64_t period_ms;
    uint64_t cap;       /* the most credit held: burst * period_ms */
    uint64_t credit;    /* one token is period_ms of credit */
    uint64_t last_ms;
};

struct ratelimit_quota {
    uint64_t limit;     /* recipients per period */
    uint64_t period_ms;
    uint64_t used;      /* one recipient is period_ms of counter */
    uint64_t last_ms;
};

struct ratelimit_config {
    unsigned long rate_count;      /* messages per rate_period_ms; 0: no token bucket */
    unsigned long rate_period_ms;  /* 0: 1000 */
    unsigned long burst;           /* 0: rate_count */
    unsigned long quota;           /* recipients per quota_period_ms; 0: no quota */
    unsigned long quota_period_ms; /* 0: 3600000 (an hour) */
};

struct ratelimit {
    bool has_bucket;
    bool has_quota;
    struct ratelimit_bucket bucket;
    struct ratelimit_quota quota;
};

void ratelimit_bucket_init(struct ratelimit_bucket *b, uint64_t count, uint64_t period_ms,
                           uint64_t burst, uint64_t now_ms);
uint64_t ratelimit_bucket_wait(struct ratelimit_bucket *b, uint64_t n, uint64_t now_ms);
uint64_t ratelimit_bucket_take(struct ratelimit_bucket *b, uint64_t n, uint64_t now_ms);
uint64_t ratelimit_bucket_tokens(struct ratelimit_bucket *b, uint64_t now_ms);

void ratelimit_quota_init(struct ratelimit_quota *q, uint64_t limit, uint64_t period_ms,
                          uint64_t now_ms);
uint64_t ratelimit_quota_wait(struct ratelimit_quota *q, uint64_t n, uint64_t now_ms);
uint64_t ratelimit_quota_take(struct ratelimit_quota *q, uint64_t n, uint64_t now_ms);
uint64_t ratelimit_quota_used(struct ratelimit_quota *q, uint64_t now_ms);

void ratelimit_init(struct ratelimit *rl, const struct ratelimit_config *cfg, uint64_t now_ms);
uint64_t ratelimit_acquire(struct ratelimit *rl, uint64_t n, uint64_t now_ms);

#endif
