/*
 * dns_run - rounds of questions until the check is complete (see dns_run.h).
 */
#include <stdbool.h>
#include <string.h>

#include "engine/net/dns_run.h"
#include "engine/net/resolver.h"
#include "engine/util/alloc.h"

struct run {
    struct dns_cache cache;
    size_t inflight;
    bool expired;
};

static void on_answer(void *arg, const char *name, int type, enum dns_status status, const struct dns_rr *rr,
                      size_t n)
{
    struct run *run = arg;
    dns_cache_put(&run->cache, name, type, status, rr, n);
    run->inflight--;
}

static void on_deadline(uv_timer_t *t)
{
    ((struct run *)t->data)->expired = true;
}

/* dns_run_check - see dns_run.h. */
int dns_run_check(const struct dnscheck_in *in, const struct dns_run_opts *o, json_t **findings, char *err,
                  size_t errlen)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    struct resolver *r = resolver_new(&loop, o->servers, o->try_ms, err, errlen);
    if (!r) {
        uv_loop_close(&loop);
        return -1;
    }
    struct run run = { .inflight = 0 };
    dns_cache_init(&run.cache);
    uv_timer_t deadline;
    uv_timer_init(&loop, &deadline);
    deadline.data = &run;
    uv_timer_start(&deadline, on_deadline, o->timeout_ms ? o->timeout_ms : 10000, 0);
    for (;;) {
        run.cache.nneed = 0;
        if (dnscheck_eval(in, &run.cache, findings) == 0)
            break;
        /* copy the questions: answers arriving at once change the list */
        size_t n = run.cache.nneed;
        struct dns_question *qs = n ? xmemdup(run.cache.need, n * sizeof(*qs)) : NULL;
        for (size_t i = 0; i < n; i++) {
            if (run.expired) {
                dns_cache_put(&run.cache, qs[i].name, qs[i].type, DNS_TIMEOUT, NULL, 0);
                continue;
            }
            run.inflight++;
            if (resolver_query(r, qs[i].name, qs[i].type, on_answer, &run) < 0) {
                run.inflight--;
                dns_cache_put(&run.cache, qs[i].name, qs[i].type, DNS_SERVFAIL, NULL, 0);
            }
        }
        while (run.inflight > 0 && !run.expired)
            uv_run(&loop, UV_RUN_ONCE);
        if (run.expired)
            for (size_t i = 0; i < n; i++)
                dns_cache_put(&run.cache, qs[i].name, qs[i].type, DNS_TIMEOUT, NULL, 0);
        xfree(qs);
    }
    /* what is still under way is cancelled; its answers land in the cache, unread */
    resolver_close(r, NULL, NULL);
    uv_close((uv_handle_t *)&deadline, NULL);
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);
    dns_cache_free(&run.cache);
    return 0;
}
