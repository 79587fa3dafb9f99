/*
 * results - the outcomes of deliveries, gathered in two ledger batches and
 * recorded through the backend (on its record lane): one batch fills while the other is
 * being recorded.
 *
 * add_result     add one outcome; record when the batch is full or it is the last in hand, else within flush_ms
 * flush_results  record the full batch, or the current one
 * retry_delay    how long a deferred delivery waits before its next try
 *
 * A batch that cannot be recorded is logged and kept, and recorded again at
 * the next flush.
 */
#include <stdbool.h>

#include <uv.h>

#include "engine/send/sender_int.h"
#include "engine/store/ledger.h"

/* all_results - the outcomes waiting in both batches */
static size_t all_results(const struct sender *s)
{
    return s->batches[0].n + s->batches[1].n;
}

/*
 * last_in_hand - S's last claim found nothing due and none is asked, and all
 * it holds is outcomes (the end of a campaign, a lone transactional
 * message). Not while claims go on: a sender that runs dry between two
 * claims records in batches, and its claim lane is not taken by housekeeping.
 */
static bool last_in_hand(const struct sender *s)
{
    return !s->claim_busy && s->claim_after != 0 && s->inflight == all_results(s);
}

static void on_recorded(void *owner, void *arg, const char *err)
{
    struct sender *s = owner;
    struct ledger_batch *b = arg;
    s->flushing = false;
    if (!backend_ok(err, "recording results"))
        return; /* kept; retried on the next flush */
    s->inflight -= (unsigned)b->n;
    ledger_batch_reset(b);
    if (last_in_hand(s)) {
        if (s->inflight > 0)
            flush_results(s); /* recorded now, not after flush_ms */
        else
            housekeeping(s); /* all recorded: a campaign that has just sent its last finishes now */
    }
    sender_pump(s);
}

/*
 * flush_results - record the full batch (or the current one) on the record
 * connection. Its commits stay synchronous (synchronous_commit is left as the
 * server has it): with it off, a crash of PostgreSQL or of its machine could
 * forget records already committed, up to about three wal_writer_delay (600 ms
 * by default, some 2,000 messages at this sender's speed), and every "sent"
 * among them would go out again once its lease expires; the promise is that
 * only what was accepted and not yet recorded can be sent twice. It would buy
 * no CPU either: the record connection runs beside sending, so the wait for
 * the WAL flush holds up neither rendering nor the SMTP connections.
 */
void flush_results(struct sender *s)
{
    if (s->flushing)
        return;
    struct ledger_batch *b = &s->batches[1 - s->active];
    if (b->n == 0) {
        if (s->batches[s->active].n == 0)
            return;
        s->active = 1 - s->active; /* results now go to the other, empty batch */
        b = &s->batches[1 - s->active];
    }
    s->flushing = true;
    s->be->ops->record(s->be, b, s->name, s->cfg.set.max_age_s, on_recorded, b);
}

static void on_flush_timer(uv_timer_t *t)
{
    flush_results(t->data);
}

/* retry_delay - seconds a deferral waits after ATTEMPTS tries: retry_base (half, plus one, when RATE_LIMITED),
 * doubled for each try, at most retry_max */
long retry_delay(struct sender *s, int attempts, bool rate_limited)
{
    long d = rate_limited ? (long)s->cfg.set.retry_base_s / 2 + 1 : (long)s->cfg.set.retry_base_s;
    for (int i = 0; i < attempts && d < (long)s->cfg.set.retry_max_s; i++)
        d *= 2;
    return d > (long)s->cfg.set.retry_max_s ? (long)s->cfg.set.retry_max_s : d;
}

/* add_result - J's outcome into the batch results go to; recorded when full, else within flush_ms */
void add_result(struct sender *s, struct job *j, const char *state, int code, const char *enhanced,
                const char *reply, const char *queue_id, long delay, const char *cls, const char *relay)
{
    struct ledger_batch *b = &s->batches[s->active];
    struct ledger_result r = { .id = j->id, .state = state, .code = code, .enhanced = enhanced, .reply = reply,
                               .queue_id = queue_id, .delay_s = delay, .cls = cls, .relay = relay };
    ledger_batch_add(b, &r);
    /* full, or the last of what this sender had in hand (the end of a campaign, a lone transactional message) */
    if (b->n >= s->cfg.set.flush_rows || last_in_hand(s))
        flush_results(s);
    else if (!uv_is_active((uv_handle_t *)&s->flush_timer))
        uv_timer_start(&s->flush_timer, on_flush_timer, s->cfg.set.flush_ms, 0);
}
