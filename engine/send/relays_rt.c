/*
 * relays_rt - the relays in use, one smtp_pool each, read again every
 * [send] relay_reload and when asked (sender_relays_changed).
 *
 * relay_named    the relay in use with a name, or NULL
 * relay_new      a relay and its pool for a definition, or NULL
 * relays_reload  read the relays again through the backend
 *
 * A relay with a rate or a quota shares them with every other sender through
 * the ledger (sql/035_relay_budget.sql): its pool asks for slices of them;
 * its connection cap too (sql/038_relay_slots.sql): a connection needs a slot.
 *
 * A new relay is added, a changed one replaced, a removed one retired: its
 * pool finishes what is on the wire and gives back what waits in it. A
 * reading that fails, or finds no relay, keeps the relays in use; a relay
 * whose pool cannot be made is logged and the one in use kept.
 */
#include <stdio.h>
#include <string.h>

#include <jansson.h>
#include <uv.h>

#include "engine/net/smtp_pool.h"
#include "engine/send/relay.h"
#include "engine/send/sender_int.h"
#include "engine/store/relays.h"
#include "engine/util/alloc.h"
#include "engine/util/log.h"

/* relay_named - the relay in use named NAME, or NULL */
struct relay_rt *relay_named(struct sender *s, const char *name)
{
    for (size_t i = 0; i < s->nrelays; i++)
        if (strcmp(s->relays[i]->def->name, name) == 0)
            return s->relays[i];
    return NULL;
}

static void on_budget(void *owner, void *arg, unsigned granted, unsigned wait_ms, const char *err)
{
    (void)owner;
    struct relay_rt *r = arg;
    if (!backend_ok(err, "asking for the relay's budget"))
        wait_ms = 1000;
    smtp_pool_grant(r->pool, granted, wait_ms);
}

/* budget_ask - R's pool wants up to WANT more messages of the relay's budget, shared by every sender */
static void budget_ask(void *arg, unsigned want)
{
    struct relay_rt *r = arg;
    r->s->be->ops->budget(r->s->be, r->def->name, want, r->def->rate, r->def->quota, r->def->quota_period_s,
                          on_budget, r);
}

static void on_slots(void *owner, void *arg, unsigned held, const char *err)
{
    (void)owner;
    struct relay_rt *r = arg;
    smtp_pool_slots(r->pool, backend_ok(err, "asking for the relay's connection slots") ? held
                                                                                          : SMTP_POOL_SLOTS_UNKNOWN);
}

/* slots_ask - R's pool wants WANT connections of the relay's max_conns, shared by every sender */
static void slots_ask(void *arg, unsigned want)
{
    struct relay_rt *r = arg;
    r->s->be->ops->slots(r->s->be, r->s->name, r->def->name, (unsigned)r->def->max_conns, want, on_slots, r);
}

/*
 * budget_slice - how much of DEF's budget a sender asks for at once: a
 * quarter of a second's rate, a fiftieth of the quota, 100 at most. Small
 * slices keep the senders' shares even; each costs one statement.
 */
static unsigned budget_slice(const struct relay_def *def)
{
    double n = 100;
    if (def->rate > 0 && def->rate / 4 < n)
        n = def->rate / 4;
    if (def->quota > 0 && (double)def->quota / 50 < n)
        n = (double)def->quota / 50;
    return n < 1 ? 1 : (unsigned)n;
}

/* relay_new - a relay for DEF, whose strings it takes over (DEF is left empty); NULL when its pool cannot be made */
struct relay_rt *relay_new(struct sender *s, struct relay_def *def)
{
    struct relay_rt *r = xcalloc(1, sizeof(*r));
    struct smtp_pool_config pc;
    r->s = s;
    r->def = xmalloc(sizeof(*r->def));
    *r->def = *def;
    memset(def, 0, sizeof(*def));
    relay_pool_config(r->def, &pc);
    /* the relay's limits hold for all senders together: each message also needs a share of them */
    if ((r->def->rate > 0 || r->def->quota > 0) && s->be->ops->budget) {
        pc.budget = budget_ask;
        pc.budget_arg = r;
        pc.budget_max = budget_slice(r->def);
    }
    /* and its connection cap: a connection needs a slot */
    if (s->be->ops->slots) {
        pc.slots = slots_ask;
        pc.slots_arg = r;
    }
    if (smtp_pool_create(s->loop, &pc, &r->pool) < 0) {
        log_error("sender: cannot set up relay %s", r->def->name);
        relay_defs_free(r->def, 1);
        xfree(r);
        return NULL;
    }
    s->pools_open++;
    return r;
}

static void on_relay_retired(void *arg)
{
    struct relay_rt *r = arg;
    struct sender *s = r->s;
    s->pools_open--;
    relay_defs_free(r->def, 1);
    xfree(r);
    if (s->stop_begun)
        sender_maybe_stop(s);
}

/*
 * relay_retire - R, no longer in s->relays, closes: what is on the wire
 * finishes, what waits in it is made again for the relay in use now (see
 * on_smtp_result in submit.c). Campaigns naming it move to its successor of the same
 * name, or, when it was removed, defer their messages.
 */
static void relay_retire(struct sender *s, struct relay_rt *r)
{
    struct relay_rt *now = relay_named(s, r->def->name);
    r->retiring = true;
    for (struct campaign_rt *c = s->camps; c; c = c->next) {
        if (c->relay != r)
            continue;
        c->relay = now;
        if (!now) {
            c->relay_gone = true;
            snprintf(c->err, sizeof(c->err), "relay %s was removed", r->def->name);
        }
    }
    log_info("sender: relay %s %s", r->def->name, now ? "changed: its new settings apply from now on" : "removed");
    smtp_pool_close(r->pool, on_relay_retired, r);
}

/* relays_apply - make DEFS[0..N) the relays in use: new ones added, changed ones replaced, others retired */
static void relays_apply(struct sender *s, struct relay_def *defs, size_t n)
{
    struct relay_rt **next = xcalloc(n, sizeof(*next));
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        struct relay_rt *old = relay_named(s, defs[i].name);
        if (old && relay_def_same(old->def, &defs[i])) {
            next[k++] = old;
            continue;
        }
        struct relay_rt *r = relay_new(s, &defs[i]);
        if (!r) {
            if (old)
                next[k++] = old; /* keep what works */
            continue;
        }
        if (!old) {
            log_info("sender: relay %s added", r->def->name);
            /* back under a name campaigns still name: theirs again */
            for (struct campaign_rt *c = s->camps; c; c = c->next) {
                const char *named = c->relay_gone ? json_string_value(json_object_get(c->pc.row, "relay")) : NULL;
                if (named && strcmp(named, r->def->name) == 0)
                    c->relay = r, c->relay_gone = false;
            }
        }
        next[k++] = r;
    }
    if (k == 0) {
        xfree(next); /* none could be set up: keep those in use */
        return;
    }
    struct relay_rt **gone = s->relays;
    size_t ngone = s->nrelays;
    s->relays = next;
    s->nrelays = k;
    for (size_t i = 0; i < ngone; i++) {
        bool kept = false;
        for (size_t m = 0; m < k && !kept; m++)
            kept = next[m] == gone[i];
        if (!kept)
            relay_retire(s, gone[i]);
    }
    xfree(gone);
}

static void on_relays_loaded(void *owner, struct relay_def *defs, size_t n, const char *err)
{
    struct sender *s = owner;
    s->relays_loading = false;
    s->relays_loaded_at = uv_now(s->loop);
    if (backend_ok(err, "reading relays") && !s->stop_begun) {
        if (n > 0)
            relays_apply(s, defs, n);
        else if (!s->relays_none_warned && s->nrelays > 0)
            log_warn("sender: no relay is defined any more; still sending through the ones in use");
        else if (!s->relays_none_warned)
            log_warn("sender: no relay is configured; waiting for one ('postino relay add' or POST /api/v1/relays)");
        s->relays_none_warned = n == 0;
    }
    relay_defs_free(defs, n);
    /* campaigns that waited for a relay: it is known now, or it is not */
    for (struct campaign_rt *c = s->camps, *next; c; c = next) {
        next = c->next;
        if (c->state == CAMP_RELAY)
            campaign_start(s, c);
    }
    if (s->relays_wanted) {
        s->relays_wanted = false;
        relays_reload(s);
    }
    sender_pump(s);
}

/* relays_reload - read the relays again (once more after the reading in progress, if one is) */
void relays_reload(struct sender *s)
{
    if (s->relays_loading) {
        s->relays_wanted = true;
        return;
    }
    s->relays_loading = true;
    s->be->ops->relays(s->be, on_relays_loaded);
}

