/*
 * leases - after the claim connection came back: which rows are still this
 * sender's.
 *
 * leases_check  the claim connection is a new one: take the lock again, read the leases kept
 * leases_sure   may messages go to the relays now (the leases known since the connection opened)
 * lease_kept    is J's row still this sender's (a row another sender took over is not)
 *
 * A sender's lock lives on its claim connection. When that connection is
 * lost (the network to the database cut, the server restarted), PostgreSQL
 * lets the lock go once it notices, and another sender gives the rows back
 * and sends them. So while the claim connection is down, and once it is up
 * again until the lock is had anew and the leases read, nothing more goes to
 * a relay; then a claimed message whose row is no longer leased to this
 * sender is dropped, unsent and unrecorded (another sender has it). What was
 * on the wire or waiting in a relay pool when the link went may still go:
 * those are the duplicates in flight.
 */
#include <stdlib.h>
#include <string.h>

#include "engine/send/sender_int.h"
#include "engine/util/alloc.h"
#include "engine/util/log.h"

/* when the lock is still held by the lost session (the server has not noticed yet), ask again after this */
#define LEASES_RETRY_MS 1000

static int id_cmp(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static void on_held(void *owner, bool locked, const uint64_t *ids, size_t n, const char *err)
{
    struct sender *s = owner;
    s->held_busy = false;
    if (err || !locked) {
        if (err)
            backend_ok(err, "reading the leases kept");
        s->held_after = uv_now(s->loop) + LEASES_RETRY_MS;
        return;
    }
    xfree(s->held_ids);
    s->held_ids = xmalloc((n ? n : 1) * sizeof(*ids));
    memcpy(s->held_ids, ids, n * sizeof(*ids));
    s->nheld = n;
    s->session_checked = s->held_for;
    log_info("sender: the database is back; %zu deliveries still leased to this sender", n);
    sender_pump(s);
}

/* leases_check - see above: a new claim connection with rows in hand sends the lock and the leases' question */
void leases_check(struct sender *s)
{
    if (!s->be->ops->session)
        return;
    unsigned cur = s->be->ops->session(s->be);
    if (cur == 0 || cur == s->session_checked || s->held_busy || s->stop_begun)
        return;
    if (s->inflight == 0) {   /* nothing in hand to lose: the rows claimed from now on are this session's */
        s->session_checked = cur;
        return;
    }
    if (uv_now(s->loop) < s->held_after)
        return;
    s->held_busy = true;
    s->held_for = cur;
    s->be->ops->held(s->be, s->name, on_held);
}

/* leases_sure - whether messages may go to the relays: the claim connection is up and its leases known */
bool leases_sure(struct sender *s)
{
    if (!s->be->ops->session)
        return true;
    unsigned cur = s->be->ops->session(s->be);
    return cur != 0 && cur == s->session_checked;
}

/* lease_kept - whether J's row is still leased to S (J claimed on an older connection: looked up in the leases read) */
bool lease_kept(struct sender *s, struct job *j)
{
    if (!s->be->ops->session || j->session == s->session_checked)
        return true;
    if (!s->held_ids || !bsearch(&j->id, s->held_ids, s->nheld, sizeof(*s->held_ids), id_cmp))
        return false;
    j->session = s->session_checked;
    return true;
}
