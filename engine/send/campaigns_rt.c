/*
 * campaigns_rt - the campaigns in use: each prepared once on a worker thread
 * (by the backend, which may block there), kept while jobs use it.
 *
 * campaign_get           the campaign, its preparation started when new
 * campaign_start         prepared or failed: render the jobs waiting for it, or defer them
 * campaigns_forget_idle  drop prepared campaigns no job uses, prepared more than prepared_keep ago
 *
 * A campaign that cannot be prepared is logged, its waiting jobs deferred
 * with its error, and forgotten: the next claim prepares it again. The
 * worker writes only c->prepared and the fields the loop leaves alone while
 * the campaign is CAMP_PREPARING; the loop takes the outcome into c->state
 * in prepare_done.
 */
#include <stdio.h>

#include <jansson.h>
#include <uv.h>

#include "engine/mail/address.h"
#include "engine/send/prepare.h"
#include "engine/send/sender_int.h"
#include "engine/util/alloc.h"
#include "engine/send/settings_send.h"
#include "engine/util/log.h"

static void prepare_work(uv_work_t *w)
{
    struct campaign_rt *c = w->data;
    char err[512];
    bool unsigned_warning;
    struct send_backend *be = c->s->be;
    /* only fields the loop leaves alone while the campaign is CAMP_PREPARING are written here */
    if (be->ops->prepare(be, c->id, &c->pc, &unsigned_warning, err, sizeof(err)) < 0) {
        snprintf(c->err, sizeof(c->err), "%s", err);
        c->prepared = CAMP_FAILED;
    } else {
        c->warned = !unsigned_warning;
        snprintf(c->bounce_domain, sizeof(c->bounce_domain), "%s",
                 mail_settings.bounce_domain ? mail_settings.bounce_domain : address_domain(c->pc.cc.from_addr));
        snprintf(c->bounce_local, sizeof(c->bounce_local), "%s", mail_settings.bounce_local_part);
        c->prepared = CAMP_READY;
    }
}

/*
 * campaign_start - C is prepared, or failed: find the relay it names, then
 * render the jobs waiting for it, or defer them with its error. A relay not
 * known here (added since the relays were last read) holds the jobs until
 * the relays are read again, once.
 */
void campaign_start(struct sender *s, struct campaign_rt *c)
{
    if (c->state == CAMP_READY || c->state == CAMP_RELAY) {
        const char *relay = json_string_value(json_object_get(c->pc.row, "relay"));
        c->relay = relay ? relay_named(s, relay) : NULL;
        c->state = CAMP_READY;
        if (relay && !c->relay && !c->relay_asked && !s->stop_begun) {
            c->relay_asked = true;
            c->state = CAMP_RELAY;
            relays_reload(s);
            return;
        }
        if (relay && !c->relay) {
            snprintf(c->err, sizeof(c->err), "relay %s is not one this sender knows", relay);
            campaign_prepared_free(&c->pc);
            c->state = CAMP_FAILED;
        }
    }
    if (c->state != CAMP_READY)
        log_error("campaign %llu: %s", (unsigned long long)c->id, c->err);
    struct job *j = c->waiting;
    c->waiting = NULL;
    while (j) {
        struct job *next = j->next;
        if (s->stop_begun)
            job_drop(s, j);
        else if (c->state == CAMP_READY)
            render_job(s, j);
        else
            job_defer(s, j, c->err);
        j = next;
    }
    if (c->state == CAMP_FAILED) {
        /* forget it: the next claim prepares it again (the operator may have fixed it) */
        struct campaign_rt **pp = &s->camps;
        while (*pp != c)
            pp = &(*pp)->next;
        *pp = c->next;
        xfree(c);
    }
}

static void prepare_done(uv_work_t *w, int status)
{
    struct campaign_rt *c = w->data;
    struct sender *s = c->s;
    (void)status;
    c->state = c->prepared; /* the loop sees the outcome only now, with everything the worker wrote */
    c->ready_at = uv_now(s->loop);
    if (c->state == CAMP_READY && !c->warned)
        log_warn("campaign %llu: no DKIM key for %s: messages go unsigned", (unsigned long long)c->id,
                 address_domain(c->pc.cc.from_addr));
    campaign_start(s, c);
    sender_pump(s);
}

/* campaign_get - campaign ID in use; a new one is CAMP_PREPARING, its preparation queued */
struct campaign_rt *campaign_get(struct sender *s, uint64_t id)
{
    for (struct campaign_rt *c = s->camps; c; c = c->next)
        if (c->id == id)
            return c;
    struct campaign_rt *c = xcalloc(1, sizeof(*c));
    c->s = s;
    c->id = id;
    c->state = CAMP_PREPARING;
    c->next = s->camps;
    s->camps = c;
    c->work.data = c;
    if (uv_queue_work(s->loop, &c->work, prepare_work, prepare_done) < 0)
        log_panic("sender: cannot queue campaign preparation");
    return c;
}

/*
 * campaigns_forget_idle - drop prepared campaigns that no job uses and that
 * were prepared more than [send] prepared_keep ago: the next claim prepares them
 * again, so a changed template or From reaches a long-running sender (the
 * transactional campaigns never finish), and the list does not grow for ever.
 */
void campaigns_forget_idle(struct sender *s)
{
    struct campaign_rt **pp = &s->camps;
    while (*pp) {
        struct campaign_rt *c = *pp;
        if (c->state == CAMP_READY && c->jobs == 0 && !c->waiting && uv_now(s->loop) - c->ready_at >= s->cfg.set.prepared_keep_s * 1000u) {
            *pp = c->next;
            campaign_prepared_free(&c->pc);
            xfree(c);
        } else {
            pp = &c->next;
        }
    }
}
