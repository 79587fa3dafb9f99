/*
 * submit - rendered messages handed to the relay pools, and the pools'
 * answers classified (engine/mail/classify) into the result batches.
 *
 * submit_ready  hand rendered messages to the pools while they have room
 * job_ready     queue a rendered job for submission
 *
 * A relay asking to slow down holds every message not yet started
 * (back-pressure, longer while it goes on); a message that waited in a pool
 * closed because its relay changed is rendered again for the relay in use
 * now; one a pool refuses is deferred. Nothing goes while the leases are
 * unsure (leases.c), and a message whose row another sender took over
 * meanwhile is dropped.
 */
#include <stdio.h>

#include <uv.h>

#include "engine/mail/classify.h"
#include "engine/net/smtp_pool.h"
#include "engine/send/sender_int.h"
#include "engine/store/relays.h"
#include "engine/util/alloc.h"
#include "engine/util/log.h"

struct submit {
    struct sender *s;
    struct job *job;
    struct relay_rt *relay;
};

static void on_smtp_result(const struct smtp_result *res, void *arg)
{
    struct submit *sub = arg;
    struct sender *s = sub->s;
    struct job *j = sub->job;
    struct classification c;
    if (res->error == UV_ECANCELED && s->stop_begun) {
        /* never left this process: released, not recorded */
        xfree(sub);
        job_drop(s, j);
        sender_pump(s);
        return;
    }
    if (res->error == UV_ECANCELED && sub->relay->retiring) {
        /* it waited in a relay changed or removed meanwhile: made again, for the relay in use now */
        xfree(sub);
        render_job(s, j);
        sender_pump(s);
        return;
    }
    bool at_message = res->stage >= SMTP_STAGE_MAIL && res->error == 0;
    classify_smtp(res->accepted, at_message, res->code, res->enhanced, res->text, &c);
    if (c.outcome == OUTCOME_SENT) {
        add_result(s, j, "sent", res->code, res->enhanced, res->text, res->queue_id, 0, "", sub->relay->def->name);
        s->sent++;
        if (s->ratelimit_hits > 0 && uv_now(s->loop) >= s->hold_until)
            s->ratelimit_hits--;
    } else if (c.outcome == OUTCOME_FAIL) {
        add_result(s, j, "failed", res->code, res->enhanced, res->text, "", 0, bounce_class_name(c.cls),
                   sub->relay->def->name);
        s->failed++;
    } else {
        char line[600];
        if (c.rate_limited) {
            /* back-pressure: start no message for a while, longer while it goes on */
            if (uv_now(s->loop) >= s->hold_until) {
                unsigned pause = 1000u << (s->ratelimit_hits < 5 ? s->ratelimit_hits : 5);
                s->ratelimit_hits++;
                s->hold_until = uv_now(s->loop) + pause;
            }
            snprintf(s->status, sizeof(s->status), "waiting: relay %s asks to slow down (%s)", sub->relay->def->name,
                     smtp_reply_line(res->code, res->enhanced, res->text, line, sizeof(line)));
        } else if (c.relay_trouble) {
            snprintf(s->status, sizeof(s->status), "waiting: relay %s: %s %s (%s)", sub->relay->def->name,
                     smtp_stage_name(res->stage), res->code ? "failed" : "unreachable",
                     smtp_reply_line(res->code, res->enhanced, res->text, line, sizeof(line)));
        }
        add_result(s, j, "deferred", res->code, res->enhanced, res->text, "",
                   retry_delay(s, j->attempts, c.rate_limited), "", sub->relay->def->name);
        s->deferred++;
    }
    xfree(sub);
    job_free(j);
    sender_pump(s);
}

static struct relay_rt *pick_relay(struct sender *s)
{
    struct relay_rt *best = NULL;
    double best_load = 0;
    for (size_t i = 0; i < s->nrelays; i++) {
        struct relay_rt *r = s->relays[i];
        double load = (double)(smtp_pool_queued(r->pool) + smtp_pool_in_flight(r->pool)) / r->def->max_conns;
        if (!best || load < best_load)
            best = r, best_load = load;
    }
    return best;
}

static void submit_job(struct sender *s, struct job *j, struct relay_rt *r)
{
    struct submit *sub = xcalloc(1, sizeof(*sub));
    sub->s = s;
    sub->job = j;
    sub->relay = r;
    size_t len;
    char *data = buf_detach(&j->msg, &len);
    if (smtp_pool_submit_owned(r->pool, j->env_from, j->email, data, len, SMTP_SEND_READY, on_smtp_result, sub) < 0) {
        xfree(data);
        xfree(sub);
        job_defer(s, j, "relay pool closing");
        return;
    }
    /* the pool owns the message now (no 14 KB copy per message) */
}

/*
 * submit_ready - hand rendered messages to the pools while they have room
 * (three messages a connection: one in flight, one queued behind it on the
 * connection, one waiting in the pool for the next 354) and no
 * back-pressure hold is on. Keeping the rest here lets a rate-limit answer
 * stop every message that has not started yet.
 */
void submit_ready(struct sender *s)
{
    while (s->ready_head && s->stop_begun) {
        struct job *j = s->ready_head;
        s->ready_head = j->next;
        if (!s->ready_head)
            s->ready_tail = NULL;
        s->nready--;
        job_drop(s, j);
    }
    /* the claim connection down, or back and its leases not read yet: the rows may be another sender's */
    if (!leases_sure(s))
        return;
    while (s->ready_head && uv_now(s->loop) >= s->hold_until) {
        if (!lease_kept(s, s->ready_head)) {
            struct job *j = s->ready_head;
            s->ready_head = j->next;
            if (!s->ready_head)
                s->ready_tail = NULL;
            s->nready--;
            if (s->lost++ == 0)
                log_warn("sender: deliveries claimed before the database was out of reach were given to other "
                         "senders meanwhile: this one does not send them");
            job_drop(s, j);
            continue;
        }
        if (s->ready_head->camp->relay_gone) {
            struct job *j = s->ready_head;
            s->ready_head = j->next;
            if (!s->ready_head)
                s->ready_tail = NULL;
            s->nready--;
            job_defer(s, j, j->camp->err);
            continue;
        }
        struct relay_rt *r = s->ready_head->camp->relay ? s->ready_head->camp->relay : pick_relay(s);
        if (!r)
            return;
        if (smtp_pool_queued(r->pool) + smtp_pool_in_flight(r->pool) >= 3u * (unsigned)r->def->max_conns)
            return;
        struct job *j = s->ready_head;
        s->ready_head = j->next;
        if (!s->ready_head)
            s->ready_tail = NULL;
        s->nready--;
        j->next = NULL;
        submit_job(s, j, r);
    }
}

/* job_ready - J is rendered: queue it for submission, then submit what fits */
void job_ready(struct sender *s, struct job *j)
{
    j->next = NULL;
    if (s->ready_tail)
        s->ready_tail->next = j;
    else
        s->ready_head = j;
    s->ready_tail = j;
    s->nready++;
    submit_ready(s);
}
