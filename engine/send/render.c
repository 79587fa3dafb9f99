/*
 * render - messages composed and signed on libuv's worker threads.
 *
 * render_job  queue J to be composed on a worker thread once the bytes
 *             held allow ([send] max_inflight_kb)
 * render_more start what waits for room (each caller's sender_pump)
 *
 * Jobs go to the worker threads in batches of up to RENDER_BATCH (fewer when
 * few wait, so that every thread gets some): a message costs the loop and the
 * threads one hand-over less (a lock, a wake-up, an eventfd write) for each
 * one in a batch, and the batch's DKIM body hashes are taken together
 * (compose_batch, sha256_many: eight lanes where the CPU has AVX-512VL). Each
 * worker thread keeps its own compose scratch. A message that cannot
 * be made of its values (COMPOSE_EVALUES) fails for good with the reason
 * (job_unsendable): it would fail the same way at every retry. One that
 * could not be signed, or whose work was cancelled, is logged and deferred;
 * a rendered one goes to submission (job_ready); while stopping it is dropped.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <uv.h>

#include "engine/mail/compose.h"
#include "engine/mail/token.h"
#include "engine/net/smtp_data.h"
#include "engine/send/prepare.h"
#include "engine/send/sender_int.h"
#include "engine/util/alloc.h"
#include "engine/util/buf.h"
#include "engine/util/log.h"
#include "engine/util/str.h"

/* The most jobs one hand-over to a worker thread carries, and over how many batches at least the jobs waiting are
 * spread (the worker threads: one more than the cores, on the usual two) */
#define RENDER_BATCH COMPOSE_BATCH_MAX
#define RENDER_SPREAD 3

struct render_batch {
    uv_work_t work;
    struct sender *s;
    size_t n;
    struct job *jobs[RENDER_BATCH];
};

static __thread struct compose_scratch *thread_scratch;

/* render_work - compose the jobs of a batch (on a worker thread), their DKIM body hashes taken together */
static void render_work(uv_work_t *w)
{
    struct render_batch *b = w->data;
    char delivery[RENDER_BATCH][STR_U64_MAX];
    struct compose_recipient r[RENDER_BATCH];
    const struct compose_recipient *rp[RENDER_BATCH];
    const struct compose_campaign *c[RENDER_BATCH];
    struct buf *out[RENDER_BATCH];
    int rc[RENDER_BATCH];
    const char *why[RENDER_BATCH];

    if (!thread_scratch)
        thread_scratch = xcalloc(1, sizeof(*thread_scratch));
    for (size_t i = 0; i < b->n; i++) {
        struct job *j = b->jobs[i];
        str_u64(delivery[i], (unsigned long long)j->id, 10);
        r[i] = (struct compose_recipient){
            .subscriber_id = j->subscriber_id,
            .email = j->email,
            .name = j->name,
            .attribs = j->attribs,
            .list_id = j->list_id,
            .list_name = j->list_name,
            .delivery_id = delivery[i],
            .delivery_header = j->delivery_header,
        };
        rp[i] = &r[i];
        c[i] = campaign_variant(&j->camp->pc, j->variant);
        out[i] = &j->msg;
        why[i] = NULL;
    }
    compose_batch(c, rp, b->n, (long long)time(NULL), thread_scratch, out, rc, why);
    for (size_t i = 0; i < b->n; i++) {
        struct job *j = b->jobs[i];
        j->rc = rc[i];
        j->why = why[i];
        if (j->rc == 0)
            smtp_data_ready(&j->msg); /* here, while the message is in this core's cache (submitted SMTP_SEND_READY) */
    }
}

/* one_done - J's composing is over (STATUS < 0: it was cancelled); on the loop's thread */
static void one_done(struct sender *s, struct job *j, int status)
{
    s->rendering--;
    if (s->stop_begun) {
        job_drop(s, j);
    } else if (status == 0 && j->rc == COMPOSE_EVALUES) {
        job_unsendable(s, j, j->why);
    } else if (status < 0 || j->rc < 0) {
        log_error("sender: cannot compose delivery %llu: %s", (unsigned long long)j->id,
                  status < 0 ? "cancelled" : j->why);
        job_defer(s, j, status == 0 && j->why ? j->why : "compose failed");
    } else {
        j->bytes = j->msg.len;
        s->msg_bytes += j->bytes;
        s->msg_guess = j->bytes;
        job_ready(s, j);
    }
}

static void render_done(uv_work_t *w, int status)
{
    struct render_batch *b = w->data;
    struct sender *s = b->s;
    for (size_t i = 0; i < b->n; i++)
        one_done(s, b->jobs[i], status);
    xfree(b);
    sender_pump(s);
}

/* put - append S to DST[0..CAP) at *AT, cut to fit with its NUL (what snprintf would write, without its cost) */
static void put(char *dst, size_t cap, size_t *at, const char *s, size_t n)
{
    if (*at + n >= cap)
        n = cap - 1 - *at;
    memcpy(dst + *at, s, n);
    *at += n;
    dst[*at] = 0;
}

/* envelope - J's envelope sender (LOCAL+TOKEN@DOMAIN) and X-Postino-Delivery value (ID.TOKEN), from its campaign */
static void envelope(struct job *j)
{
    char tok[TOKEN_MAX + 1], id[STR_U64_MAX];
    int tn = token_make(j->camp->pc.token_key, 'b', j->id, j->camp->id, tok, sizeof(tok));
    size_t t = tn > 0 ? (size_t)tn : 0, at = 0;
    const char *local = j->camp->bounce_local, *domain = j->camp->bounce_domain;
    put(j->env_from, sizeof(j->env_from), &at, local, strlen(local));
    put(j->env_from, sizeof(j->env_from), &at, "+", 1);
    put(j->env_from, sizeof(j->env_from), &at, tok, t);
    put(j->env_from, sizeof(j->env_from), &at, "@", 1);
    put(j->env_from, sizeof(j->env_from), &at, domain, strlen(domain));
    at = 0;
    put(j->delivery_header, sizeof(j->delivery_header), &at, id, str_u64(id, (unsigned long long)j->id, 10));
    put(j->delivery_header, sizeof(j->delivery_header), &at, ".", 1);
    put(j->delivery_header, sizeof(j->delivery_header), &at, tok, t);
}

/* start - compose the N jobs of B on a worker thread now (render_done) */
static void start(struct sender *s, struct render_batch *b)
{
    b->s = s;
    b->work.data = b;
    s->rendering += (unsigned)b->n;
    s->render_batches++;
    s->render_jobs += b->n;
    if (uv_queue_work(s->loop, &b->work, render_work, render_done) < 0) {
        s->rendering -= (unsigned)b->n;
        for (size_t i = 0; i < b->n; i++)
            job_defer(s, b->jobs[i], "cannot queue rendering");
        xfree(b);
    }
}

/*
 * fits - how many more messages may be composed: the bytes of those composed
 * and not yet sent, and of those being composed (guessed from the last one),
 * stay under [send] max_inflight_kb; one at a time always may, however large.
 * *MOST: how many the bound holds in all.
 */
static size_t fits(const struct sender *s, size_t *most)
{
    size_t cap = (size_t)s->cfg.set.max_inflight_kb * 1024;
    size_t guess = s->msg_guess ? s->msg_guess : 16384;
    size_t held = s->msg_bytes + s->rendering * guess;
    *most = cap / guess;
    if (held + guess <= cap)
        return (cap - held) / guess;
    return s->msg_bytes == 0 && s->rendering == 0;
}

/* render_job - J queued to be composed when the bytes held allow (the caller's sender_pump: render_more) */
void render_job(struct sender *s, struct job *j)
{
    /* made again (its relay changed): the message it had is gone with the old pool */
    s->msg_bytes -= j->bytes;
    j->bytes = 0;
    buf_free(&j->msg);
    j->next = NULL;
    if (s->torender_tail)
        s->torender_tail->next = j;
    else
        s->torender_head = j;
    s->torender_tail = j;
    s->ntorender++;
}

/* torender_pop - the first job waiting to be composed, taken off the queue */
static struct job *torender_pop(struct sender *s)
{
    struct job *j = s->torender_head;
    s->torender_head = j->next;
    if (!s->torender_head)
        s->torender_tail = NULL;
    s->ntorender--;
    j->next = NULL;
    return j;
}

/*
 * render_more - see sender_int.h. A batch waits until room for all of it is
 * free (or for half of what the bound holds, when that is less), unless
 * nothing is being composed or waits to be sent: as messages go out one at a
 * time, composing them one at a time would cost a worker thread's wake-up
 * each.
 */
void render_more(struct sender *s)
{
    while (s->torender_head && s->stop_begun)
        job_drop(s, torender_pop(s));
    while (s->torender_head) {
        size_t want = s->ntorender / RENDER_SPREAD;
        want = want < 1 ? 1 : want > RENDER_BATCH ? RENDER_BATCH : want;
        size_t most, n = fits(s, &most);
        if (n == 0 || (n < want && n < most / 2 && (s->rendering > 0 || s->nready > 0)))
            break;
        if (n > want)
            n = want;
        struct render_batch *b = xmalloc(sizeof(*b));
        b->n = 0;
        while (b->n < n) {
            struct job *j = torender_pop(s);
            envelope(j);
            b->jobs[b->n++] = j;
        }
        start(s, b);
    }
}
