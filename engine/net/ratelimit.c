/*
 * ratelimit - token bucket and PolicyD-style decaying quota in integers.
 *
 * Bucket: credit grows by COUNT per elapsed millisecond up to CAP; a token
 * costs PERIOD_MS. Quota: the counter shrinks by LIMIT per elapsed
 * millisecond down to 0; a recipient adds PERIOD_MS; the ceiling is
 * LIMIT * PERIOD_MS. Waits are rounded up to whole milliseconds.
 */
#include "engine/net/ratelimit.h"

static uint64_t ceil_div(uint64_t a, uint64_t b)
{
    return a / b + (a % b != 0);
}

/* sat_mul - A * B, or UINT64_MAX when that overflows. */
static uint64_t sat_mul(uint64_t a, uint64_t b)
{
    if (a != 0 && b > UINT64_MAX / a)
        return UINT64_MAX;
    return a * b;
}

static uint64_t elapsed(uint64_t *last_ms, uint64_t now_ms)
{
    if (now_ms <= *last_ms)
        return 0;
    uint64_t e = now_ms - *last_ms;
    *last_ms = now_ms;
    return e;
}

/*
 * ratelimit_bucket_init - COUNT tokens every PERIOD_MS, at most BURST held
 * (BURST 0 means COUNT; at least 1). The bucket starts full at NOW_MS.
 */
void ratelimit_bucket_init(struct ratelimit_bucket *b, uint64_t count, uint64_t period_ms,
                           uint64_t burst, uint64_t now_ms)
{
    b->count = count ? count : 1;
    b->period_ms = period_ms ? period_ms : 1000;
    if (burst == 0)
        burst = b->count;
    b->cap = sat_mul(burst, b->period_ms);
    b->credit = b->cap;
    b->last_ms = now_ms;
}

static void bucket_refill(struct ratelimit_bucket *b, uint64_t now_ms)
{
    uint64_t add = sat_mul(elapsed(&b->last_ms, now_ms), b->count);
    b->credit = add >= b->cap - b->credit ? b->cap : b->credit + add;
}

/* ratelimit_bucket_wait - milliseconds until N tokens are there at NOW_MS; takes none. */
uint64_t ratelimit_bucket_wait(struct ratelimit_bucket *b, uint64_t n, uint64_t now_ms)
{
    bucket_refill(b, now_ms);
    uint64_t need = sat_mul(n, b->period_ms);
    if (need > b->cap)
        return UINT64_MAX;
    if (b->credit >= need)
        return 0;
    return ceil_div(need - b->credit, b->count);
}

/* ratelimit_bucket_take - take N tokens and return 0, or return the wait and take none. */
uint64_t ratelimit_bucket_take(struct ratelimit_bucket *b, uint64_t n, uint64_t now_ms)
{
    uint64_t w = ratelimit_bucket_wait(b, n, now_ms);
    if (w == 0)
        b->credit -= n * b->period_ms;
    return w;
}

/* ratelimit_bucket_tokens - whole tokens in the bucket at NOW_MS. */
uint64_t ratelimit_bucket_tokens(struct ratelimit_bucket *b, uint64_t now_ms)
{
    bucket_refill(b, now_ms);
    return b->credit / b->period_ms;
}

/* ratelimit_quota_init - LIMIT recipients per PERIOD_MS (0: an hour), counter 0 at NOW_MS. */
void ratelimit_quota_init(struct ratelimit_quota *q, uint64_t limit, uint64_t period_ms,
                          uint64_t now_ms)
{
    q->limit = limit ? limit : 1;
    q->period_ms = period_ms ? period_ms : 3600000;
    q->used = 0;
    q->last_ms = now_ms;
}

static void quota_decay(struct ratelimit_quota *q, uint64_t now_ms)
{
    uint64_t sub = sat_mul(elapsed(&q->last_ms, now_ms), q->limit);
    q->used = sub >= q->used ? 0 : q->used - sub;
}

/* ratelimit_quota_wait - milliseconds until N more recipients fit at NOW_MS; counts none. */
uint64_t ratelimit_quota_wait(struct ratelimit_quota *q, uint64_t n, uint64_t now_ms)
{
    quota_decay(q, now_ms);
    uint64_t ceiling = sat_mul(q->limit, q->period_ms);
    uint64_t add = sat_mul(n, q->period_ms);
    if (add > ceiling)
        return UINT64_MAX;
    if (q->used <= ceiling - add)
        return 0;
    return ceil_div(q->used - (ceiling - add), q->limit);
}

/* ratelimit_quota_take - count N recipients and return 0, or return the wait and count none. */
uint64_t ratelimit_quota_take(struct ratelimit_quota *q, uint64_t n, uint64_t now_ms)
{
    uint64_t w = ratelimit_quota_wait(q, n, now_ms);
    if (w == 0)
        q->used += n * q->period_ms;
    return w;
}

/* ratelimit_quota_used - the decayed counter at NOW_MS, rounded up to whole recipients. */
uint64_t ratelimit_quota_used(struct ratelimit_quota *q, uint64_t now_ms)
{
    quota_decay(q, now_ms);
    return ceil_div(q->used, q->period_ms);
}

/* ratelimit_init - the bucket and quota CFG asks for (either may be off), at NOW_MS. */
void ratelimit_init(struct ratelimit *rl, const struct ratelimit_config *cfg, uint64_t now_ms)
{
    rl->has_bucket = cfg->rate_count > 0;
    rl->has_quota = cfg->quota > 0;
    ratelimit_bucket_init(&rl->bucket, cfg->rate_count, cfg->rate_period_ms, cfg->burst, now_ms);
    ratelimit_quota_init(&rl->quota, cfg->quota, cfg->quota_period_ms, now_ms);
}

/*
 * ratelimit_acquire - N messages (of one recipient each) at NOW_MS: returns 0
 * after counting them in the bucket and the quota, or the longer of the two
 * waits, counting nothing.
 */
uint64_t ratelimit_acquire(struct ratelimit *rl, uint64_t n, uint64_t now_ms)
{
    uint64_t wb = rl->has_bucket ? ratelimit_bucket_wait(&rl->bucket, n, now_ms) : 0;
    uint64_t wq = rl->has_quota ? ratelimit_quota_wait(&rl->quota, n, now_ms) : 0;
    if (wb || wq)
        return wb > wq ? wb : wq;
    if (rl->has_bucket)
        ratelimit_bucket_take(&rl->bucket, n, now_ms);
    if (rl->has_quota)
        ratelimit_quota_take(&rl->quota, n, now_ms);
    return 0;
}
