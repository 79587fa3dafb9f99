/*
 * test_pump - the sender's pump driven through the in-memory backend
 * (engine/send/backend_ram.c) and fake SMTP servers on loopback, all on one
 * libuv loop: every delivery sent and recorded once; claims held back by
 * max_inflight while the ledger answers slowly, and a relay's "slow down"
 * holding every message not yet started; a relay that stops answering
 * (nothing claimed beyond max_inflight, leases renewed, no delivery sent
 * twice); a stop with messages on the wire (they finish and are recorded,
 * the rest released untouched); a relay removed while it holds messages
 * (they go through the relay that remains, once); a ledger that is away
 * for a while or fails a record; a message that cannot be composed (failed
 * at once, not deferred); the last results in hand recorded at once.
 *
 * Each test runs the loop until the sender has closed, with a deadline of
 * its own far beyond what the work needs; the checks are on states and
 * counts, never on how long something took.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>
#include <uv.h>

#include "engine/net/smtp_pool.h"
#include "engine/send/backend_ram.h"
#include "engine/send/sender.h"
#include "engine/send/sender_int.h"
#include "engine/store/relays.h"
#include "engine/util/alloc.h"
#include "engine/util/buf.h"

/* ---- a fake SMTP server: accepts everything, or holds its answers, or asks to slow down ---- */

#define MAXCONN 8
#define MAXRCPT 4096

struct fake;

struct fconn {
    uv_tcp_t tcp;
    struct fake *f;
    bool open, data;
    struct buf in;
    char rcpt[320];
    int held;                 /* messages whose final answer is held (one: the client waits for it before the next content) */
    char held_rcpt[320];      /* its recipient (the next RCPT may have come since) */
    struct buf after;         /* replies to what came after a held message: a server answers in order */
};

struct fake {
    uv_loop_t *loop;
    uv_tcp_t server;
    int port;
    bool stall;               /* hold the answer to each message's end of data */
    unsigned slow_down;       /* answer this many messages "451 4.7.1 ... slow down", then accept */
    struct fconn conns[MAXCONN];
    unsigned sessions, messages, refused;
    unsigned on_wire;         /* messages whose end of data came, not yet answered */
    char *rcpts[MAXRCPT];     /* the recipient of every message accepted */
    uint64_t slowed_at;       /* ms, loop time of the first "slow down" */
    unsigned mails_in_hold;   /* MAIL commands in the second after it */
};

static void on_written(uv_write_t *w, int status)
{
    (void)status;
    xfree(w->data);
    xfree(w);
}

static void fsend(struct fconn *c, const char *s)
{
    if (!c->open)
        return;
    uv_write_t *w = xcalloc(1, sizeof(*w));
    char *copy = xstrdup(s);
    uv_buf_t b = uv_buf_init(copy, (unsigned)strlen(copy));
    w->data = copy;
    if (uv_write(w, (uv_stream_t *)&c->tcp, &b, 1, on_written) < 0) {
        xfree(copy);
        xfree(w);
    }
}

static void on_fconn_closed(uv_handle_t *h)
{
    struct fconn *c = h->data;
    buf_free(&c->in);
    memset(&c->in, 0, sizeof(c->in));
}

static void fclose_conn(struct fconn *c)
{
    if (!c->open)
        return;
    c->open = false;
    c->f->on_wire -= (unsigned)c->held;
    c->held = 0;
    buf_free(&c->after);
    uv_close((uv_handle_t *)&c->tcp, on_fconn_closed);
}

/* the final answer to a message whose data ended */
static void fake_answer(struct fconn *c, const char *rcpt)
{
    struct fake *f = c->f;
    char line[128];
    if (f->slow_down > 0) {
        f->slow_down--;
        f->refused++;
        if (!f->slowed_at)
            f->slowed_at = uv_now(f->loop);
        fsend(c, "451 4.7.1 Rate limited, slow down\r\n");
        return;
    }
    if (f->messages < MAXRCPT)
        f->rcpts[f->messages] = xstrdup(rcpt);
    f->messages++;
    snprintf(line, sizeof(line), "250 2.0.0 Ok: queued as Q%u\r\n", f->messages);
    fsend(c, line);
}

/* reply - S now, or after the held answers when there are some */
static void reply(struct fconn *c, const char *s)
{
    if (c->held > 0)
        buf_appends(&c->after, s);
    else
        fsend(c, s);
}

static void fake_line(struct fconn *c, const char *line)
{
    struct fake *f = c->f;
    if (c->data) {
        if (strcmp(line, ".") != 0)
            return;
        c->data = false;
        if (f->stall) {
            assert_int_equal(c->held, 0);
            c->held++;
            snprintf(c->held_rcpt, sizeof(c->held_rcpt), "%s", c->rcpt);
            f->on_wire++;
        } else {
            fake_answer(c, c->rcpt);
        }
        return;
    }
    if (strncasecmp(line, "EHLO", 4) == 0)
        reply(c, "250-fake\r\n250-PIPELINING\r\n250-ENHANCEDSTATUSCODES\r\n250 8BITMIME\r\n");
    else if (strncasecmp(line, "MAIL", 4) == 0) {
        if (f->slowed_at && uv_now(f->loop) < f->slowed_at + 1000)
            f->mails_in_hold++;
        reply(c, "250 2.1.0 Ok\r\n");
    } else if (strncasecmp(line, "RCPT TO:<", 9) == 0) {
        snprintf(c->rcpt, sizeof(c->rcpt), "%.*s", (int)strcspn(line + 9, ">"), line + 9);
        reply(c, "250 2.1.5 Ok\r\n");
    } else if (strncasecmp(line, "DATA", 4) == 0) {
        c->data = true;
        reply(c, "354 End data with <CR><LF>.<CR><LF>\r\n");
    } else if (strncasecmp(line, "RSET", 4) == 0 || strncasecmp(line, "NOOP", 4) == 0)
        reply(c, "250 2.0.0 Ok\r\n");
    else if (strncasecmp(line, "QUIT", 4) == 0) {
        reply(c, "221 2.0.0 Bye\r\n");
        fclose_conn(c);
    } else
        reply(c, "502 5.5.2 Error: command not recognized\r\n");
}

static void on_falloc(uv_handle_t *h, size_t n, uv_buf_t *b)
{
    (void)h;
    b->base = xmalloc(n);
    b->len = n;
}

static void on_fread(uv_stream_t *s, ssize_t n, const uv_buf_t *b)
{
    struct fconn *c = s->data;
    if (n < 0) {
        fclose_conn(c);
    } else if (n > 0) {
        buf_append(&c->in, b->base, (size_t)n);
        char *nl;
        while (c->open && c->in.len > 0 && (nl = memchr(c->in.data, '\n', c->in.len))) {
            size_t len = (size_t)(nl - c->in.data) + 1;
            char *line = xstrndup(c->in.data, len - 1);
            if (len >= 2 && line[len - 2] == '\r')
                line[len - 2] = 0;
            fake_line(c, line);
            xfree(line);
            memmove(c->in.data, c->in.data + len, c->in.len - len);
            c->in.len -= len;
        }
    }
    xfree(b->base);
}

static void on_fconnection(uv_stream_t *server, int status)
{
    struct fake *f = server->data;
    assert_int_equal(status, 0);
    struct fconn *c = NULL;
    for (int i = 0; i < MAXCONN && !c; i++)
        if (!f->conns[i].open && !uv_is_active((uv_handle_t *)&f->conns[i].tcp) && f->conns[i].in.data == NULL)
            c = &f->conns[i];
    assert_non_null(c);
    memset(c, 0, sizeof(*c));
    c->f = f;
    uv_tcp_init(f->loop, &c->tcp);
    c->tcp.data = c;
    assert_int_equal(uv_accept(server, (uv_stream_t *)&c->tcp), 0);
    c->open = true;
    f->sessions++;
    uv_read_start((uv_stream_t *)&c->tcp, on_falloc, on_fread);
    fsend(c, "220 fake ESMTP\r\n");
}

static void fake_start(struct fake *f, uv_loop_t *loop)
{
    struct sockaddr_in a;
    struct sockaddr_storage got;
    int len = sizeof(got);
    memset(f, 0, sizeof(*f));
    f->loop = loop;
    uv_tcp_init(loop, &f->server);
    f->server.data = f;
    uv_ip4_addr("127.0.0.1", 0, &a);
    assert_int_equal(uv_tcp_bind(&f->server, (const struct sockaddr *)&a, 0), 0);
    assert_int_equal(uv_listen((uv_stream_t *)&f->server, 16, on_fconnection), 0);
    uv_tcp_getsockname(&f->server, (struct sockaddr *)&got, &len);
    f->port = ntohs(((struct sockaddr_in *)&got)->sin_port);
}

/* let the held answers go */
static void fake_release(struct fake *f)
{
    f->stall = false;
    for (int i = 0; i < MAXCONN; i++)
        for (; f->conns[i].open && f->conns[i].held > 0; f->conns[i].held--) {
            f->on_wire--;
            fake_answer(&f->conns[i], f->conns[i].held_rcpt);
            if (f->conns[i].held == 1 && f->conns[i].after.len) {
                fsend(&f->conns[i], buf_cstr(&f->conns[i].after));
                buf_reset(&f->conns[i].after);
            }
        }
}

static void fake_stop(struct fake *f)
{
    for (int i = 0; i < MAXCONN; i++)
        fclose_conn(&f->conns[i]);
    uv_close((uv_handle_t *)&f->server, NULL);
}

static void fake_free(struct fake *f)
{
    for (unsigned i = 0; i < f->messages && i < MAXRCPT; i++)
        xfree(f->rcpts[i]);
}

/* how many messages to RCPT the server accepted */
static unsigned fake_got(const struct fake *f, const char *rcpt)
{
    unsigned n = 0;
    for (unsigned i = 0; i < f->messages && i < MAXRCPT; i++)
        n += strcmp(f->rcpts[i], rcpt) == 0;
    return n;
}

/* ---- one run: a loop, a ledger in memory, a sender, and a watcher that steps the test ---- */

struct run {
    uv_loop_t loop;
    struct send_backend *be;
    struct sender *s;
    struct fake fa, fb;
    uv_timer_t watch, deadline;
    int step;
    bool timed_out;
    void (*on_watch)(struct run *r); /* each 20 ms while the sender runs */
    unsigned max_inflight_seen;
};

static struct relay_def relay(const char *name, int port, int max_conns)
{
    return (struct relay_def){ .name = xstrdup(name), .host = xstrdup("127.0.0.1"), .port = port,
                               .tls = xstrdup("none"), .max_conns = max_conns, .max_per_conn = 1000 };
}

static void add_campaign(struct run *r, uint64_t id, const char *kind, const char *relay_name)
{
    json_t *row = json_pack("{s:I, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "id", (json_int_t)id, "kind", kind,
                            "name", "pump", "subject", "Hello {{ email }}", "html",
                            "<p>Hi {{ email }}</p>", "text", "Hi {{ email }}",
                            "from_addr", "news@example.org", "from_name", "News");
    if (relay_name)
        json_object_set_new(row, "relay", json_string(relay_name));
    backend_ram_campaign(r->be, row);
    json_decref(row);
}

static void add_deliveries(struct run *r, uint64_t campaign, unsigned n)
{
    char email[64];
    for (unsigned i = 0; i < n; i++) {
        snprintf(email, sizeof(email), "r%llu-%u@example.net", (unsigned long long)campaign, i);
        backend_ram_delivery(r->be, campaign, email);
    }
}

static void on_watch(uv_timer_t *t)
{
    struct run *r = t->data;
    if (r->s->inflight > r->max_inflight_seen)
        r->max_inflight_seen = r->s->inflight;
    if (r->on_watch)
        r->on_watch(r);
    if (r->s->closed) {
        uv_timer_stop(&r->watch);
        uv_timer_stop(&r->deadline);
        fake_stop(&r->fa);
        if (r->fb.loop)
            fake_stop(&r->fb);
        uv_close((uv_handle_t *)&r->watch, NULL);
        uv_close((uv_handle_t *)&r->deadline, NULL);
    }
}

static void on_deadline(uv_timer_t *t)
{
    struct run *r = t->data;
    r->timed_out = true;
    fake_release(&r->fa);
    if (r->fb.loop)
        fake_release(&r->fb);
    sender_stop(r->s);
}

static void run_init(struct run *r, bool two_relays)
{
    memset(r, 0, sizeof(*r));
    uv_loop_init(&r->loop);
    r->be = backend_ram_new(&r->loop);
    fake_start(&r->fa, &r->loop);
    if (two_relays)
        fake_start(&r->fb, &r->loop);
}

/* start a sender with CFG through relay a (and b), run until it has closed; the deadline is 120 s */
static void run(struct run *r, struct sender_config *cfg, bool two_relays)
{
    struct relay_def defs[2] = { relay("a", r->fa.port, 2), relay("b", r->fb.port, 2) };
    size_t n = two_relays ? 2 : 1;
    backend_ram_relays(r->be, defs, n);
    cfg->name = "pump-test";
    r->s = sender_new(&r->loop, cfg, r->be, defs, n); /* takes the strings of the first N over */
    if (!two_relays)
        xfree(defs[1].name), xfree(defs[1].host), xfree(defs[1].tls);
    uv_timer_init(&r->loop, &r->watch);
    uv_timer_init(&r->loop, &r->deadline);
    r->watch.data = r->deadline.data = r;
    uv_timer_start(&r->watch, on_watch, 20, 20);
    uv_timer_start(&r->deadline, on_deadline, 120000, 0);
    uv_run(&r->loop, UV_RUN_DEFAULT);
}

static void run_free(struct run *r)
{
    sender_free(r->s);
    r->be->ops->free(r->be);
    fake_free(&r->fa);
    fake_free(&r->fb);
    assert_int_equal(uv_loop_close(&r->loop), 0);
}

static struct sender_config config(unsigned batch, unsigned max_inflight)
{
    struct sender_config cfg;
    sender_config_init(&cfg);
    cfg.set.batch = batch;
    cfg.set.max_inflight = max_inflight;
    cfg.set.flush_ms = 20;
    cfg.set.flush_rows = 50;
    cfg.set.retry_base_s = 1;
    cfg.set.retry_max_s = 2;
    cfg.until_done = true;
    return cfg;
}

/* every delivery of campaign 1 (N of them) was sent, recorded once, and received once */
static void expect_all_sent_once(struct run *r, unsigned n)
{
    for (uint64_t id = 1; id <= n; id++) {
        const struct ram_delivery *d = backend_ram_get(r->be, id);
        assert_non_null(d);
        if (strcmp(d->state, "sent") != 0 || fake_got(&r->fa, d->email) + fake_got(&r->fb, d->email) != 1)
            fail_msg("delivery %llu to %s: %s, received %u times", (unsigned long long)id, d->email, d->state,
                     fake_got(&r->fa, d->email) + fake_got(&r->fb, d->email));
    }
    assert_int_equal(backend_ram_stats(r->be)->stale, 0);
}

/* ---- the tests ---- */

static void test_pump_sends_every_delivery_once_within_max_inflight(void **state)
{
    (void)state;
    struct run r;
    struct sender_config cfg = config(40, 100);
    run_init(&r, false);
    add_campaign(&r, 1, "campaign", NULL);
    add_deliveries(&r, 1, 600);
    run(&r, &cfg, false);
    assert_false(r.timed_out);
    expect_all_sent_once(&r, 600);
    assert_int_equal(r.fa.messages, 600);
    assert_int_equal(r.s->sent, 600);
    assert_true(backend_ram_stats(r.be)->leased_max <= 100);
    assert_true(r.max_inflight_seen <= 100);
    assert_true(backend_ram_stats(r.be)->released);
    run_free(&r);
}

/* a claim's rows go to the worker threads eight at a time, also once the bytes bound is reached and messages
 * go out one at a time (composing each alone cost a worker thread's wake-up a message) */
static void test_pump_composes_in_batches_under_the_bytes_bound(void **state)
{
    (void)state;
    struct run r;
    struct sender_config cfg = config(200, 1000);
    cfg.set.max_inflight_kb = 64;
    run_init(&r, false);
    add_campaign(&r, 1, "campaign", NULL);
    add_deliveries(&r, 1, 1000);
    run(&r, &cfg, false);
    assert_false(r.timed_out);
    expect_all_sent_once(&r, 1000);
    assert_int_equal(r.s->render_jobs, 1000);
    if (r.s->render_jobs < 6 * r.s->render_batches)
        fail_msg("%lu jobs in %lu batches: %.1f a batch, want at least 6", r.s->render_jobs, r.s->render_batches,
                 (double)r.s->render_jobs / (double)r.s->render_batches);
    run_free(&r);
}

/* the ledger answers slowly: claims wait for records, never more than max_inflight held */
static void test_pump_slow_ledger_holds_claims_at_max_inflight(void **state)
{
    (void)state;
    struct run r;
    struct sender_config cfg = config(20, 30);
    run_init(&r, false);
    backend_ram_latency(r.be, 150);
    add_campaign(&r, 1, "campaign", NULL);
    add_deliveries(&r, 1, 200);
    run(&r, &cfg, false);
    assert_false(r.timed_out);
    expect_all_sent_once(&r, 200);
    assert_true(backend_ram_stats(r.be)->leased_max <= 30);
    assert_true(r.max_inflight_seen <= 30);
    /* records waited for: more claims than one could take */
    assert_true(backend_ram_stats(r.be)->claims >= 200 / 30);
    run_free(&r);
}

/* a relay asking to slow down: those messages deferred, no message started for a while, then all sent */
static void test_pump_slow_down_answer_holds_new_messages(void **state)
{
    (void)state;
    struct run r;
    struct sender_config cfg = config(20, 40);
    run_init(&r, false);
    r.fa.slow_down = 3;
    add_campaign(&r, 1, "campaign", NULL);
    add_deliveries(&r, 1, 60);
    run(&r, &cfg, false);
    assert_false(r.timed_out);
    assert_int_equal(r.fa.refused, 3);
    expect_all_sent_once(&r, 60);
    /* at least one delivery was deferred with the relay's words, then sent on a later attempt */
    unsigned retried = 0;
    for (uint64_t id = 1; id <= 60; id++)
        retried += backend_ram_get(r.be, id)->attempts > 1;
    assert_true(retried >= 1);
    assert_int_equal(r.s->deferred, 3);
    /*
     * The hold: for the first pause (1 s) after the first "slow down" no
     * message starts but those already handed to the pool (at most two per
     * connection); without it the rest would follow at once.
     */
    assert_true(r.fa.mails_in_hold <= 4);
    run_free(&r);
}

static void stalled_watch(struct run *r)
{
    const struct ram_stats *st = backend_ram_stats(r->be);
    /* step 0: stalled; wait for the pool to fill and two lease renewals to pass */
    if (r->step == 0 && r->fa.on_wire >= 2 && st->renewals >= 2) {
        size_t leased;
        backend_ram_count(r->be, "queued", &leased);
        assert_true(leased <= 30);
        assert_int_equal(r->fa.messages, 0);
        assert_true(strncmp(st->status, "sending", 7) == 0 || strncmp(st->status, "waiting", 7) == 0);
        r->step = 1;
        fake_release(&r->fa);
    }
}

/* the relay stops answering: nothing claimed beyond max_inflight, leases kept alive, then all sent once */
static void test_pump_stalled_relay_keeps_leases_and_claims_no_more(void **state)
{
    (void)state;
    struct run r;
    struct sender_config cfg = config(10, 30);
    cfg.set.lease_s = 6; /* renewed every 2 s */
    run_init(&r, false);
    r.fa.stall = true;
    r.on_watch = stalled_watch;
    add_campaign(&r, 1, "campaign", NULL);
    add_deliveries(&r, 1, 100);
    run(&r, &cfg, false);
    assert_false(r.timed_out);
    assert_int_equal(r.step, 1);
    expect_all_sent_once(&r, 100);
    assert_true(backend_ram_stats(r.be)->leased_max <= 30);
    run_free(&r);
}

static void stop_watch(struct run *r)
{
    /* step 0: messages on the wire, others waiting behind them: stop */
    if (r->step == 0 && r->fa.on_wire >= 2 && r->s->inflight > r->fa.on_wire) {
        r->step = 1;
        sender_stop(r->s);
    } else if (r->step == 1 && r->s->stop_begun) {
        /* the pools cancel what waits; what is on the wire is answered now */
        r->step = 2;
        fake_release(&r->fa);
    }
}

/* a stop with messages on the wire: they finish and are recorded; the rest are released untouched */
static void test_pump_stop_finishes_the_wire_and_releases_the_rest(void **state)
{
    (void)state;
    struct run r;
    struct sender_config cfg = config(20, 40);
    cfg.until_done = false;
    run_init(&r, false);
    r.fa.stall = true;
    r.on_watch = stop_watch;
    add_campaign(&r, 1, "campaign", NULL);
    add_deliveries(&r, 1, 100);
    run(&r, &cfg, false);
    assert_false(r.timed_out);
    assert_int_equal(r.step, 2);
    size_t leased;
    size_t sent = backend_ram_count(r.be, "sent", NULL);
    size_t queued = backend_ram_count(r.be, "queued", &leased);
    /* what was on the wire (at least the two seen) went, and was recorded */
    assert_true(sent >= 2);
    assert_int_equal(sent, r.fa.messages);
    assert_int_equal(sent + queued, 100);
    assert_int_equal(leased, 0);
    assert_true(backend_ram_stats(r.be)->released);
    for (uint64_t id = 1; id <= 100; id++) {
        const struct ram_delivery *d = backend_ram_get(r.be, id);
        assert_int_equal(fake_got(&r.fa, d->email), strcmp(d->state, "sent") == 0 ? 1 : 0);
        if (strcmp(d->state, "queued") == 0)
            assert_int_equal(d->attempts, 0);
    }
    run_free(&r);
}

static void drain_watch(struct run *r)
{
    if (r->step == 0 && r->fa.on_wire >= 2) {
        r->step = 1;
        sender_stop(r->s);
    }
}

/*
 * a stop whose wire never finishes: after [send] drain_timeout the messages on
 * it are given up, every claimed row is released to the ledger untouched, and
 * the loop is let go with the cut connections in it (the process is ending:
 * the run stays reachable, as a process's memory does until it exits)
 */
static void test_pump_stop_releases_the_wire_after_drain_timeout(void **state)
{
    (void)state;
    static struct run r;
    struct sender_config cfg = config(20, 40);
    cfg.until_done = false;
    cfg.set.drain_timeout_s = 1;
    run_init(&r, false);
    r.fa.stall = true;
    r.on_watch = drain_watch;
    add_campaign(&r, 1, "campaign", NULL);
    add_deliveries(&r, 1, 100);
    run(&r, &cfg, false);
    assert_false(r.timed_out);
    assert_int_equal(r.step, 1);
    assert_true(r.s->drain_expired);
    assert_true(r.s->abandoned);
    size_t leased;
    assert_int_equal(backend_ram_count(r.be, "queued", &leased), 100);
    assert_int_equal(leased, 0);
    assert_true(backend_ram_stats(r.be)->released);
    for (uint64_t id = 1; id <= 100; id++)
        assert_int_equal(backend_ram_get(r.be, id)->attempts, 0);
}

/* relays a and b hold their answers until a holds two messages on its wire and more in its pool; then a is removed */
static void remove_watch(struct run *r)
{
    if (r->step == 0 && r->fa.on_wire >= 2 && smtp_pool_queued(relay_named(r->s, "a")->pool) > 0) {
        struct relay_def only_b = relay("b", r->fb.port, 2);
        backend_ram_relays(r->be, &only_b, 1);
        xfree(only_b.name), xfree(only_b.host), xfree(only_b.tls);
        r->step = 1;
        relays_reload(r->s);
    } else if (r->step == 1 && !relay_named(r->s, "a")) {
        /* retired: what waited in its pool comes back; what is on its wire finishes */
        r->step = 2;
        fake_release(&r->fb);
        fake_release(&r->fa);
    }
}

/* a relay removed while it holds messages: they go out through the other one, each once */
static void test_pump_relay_removed_under_load_loses_nothing(void **state)
{
    (void)state;
    struct run r;
    struct sender_config cfg = config(20, 60);
    run_init(&r, true);
    r.fa.stall = r.fb.stall = true;
    r.on_watch = remove_watch;
    add_campaign(&r, 1, "campaign", NULL);
    add_deliveries(&r, 1, 150);
    run(&r, &cfg, true);
    assert_false(r.timed_out);
    assert_int_equal(r.step, 2);
    expect_all_sent_once(&r, 150);
    assert_int_equal(r.fa.messages, 2); /* only what was on its wire */
    assert_int_equal(r.fb.messages, 148);
    for (uint64_t id = 1; id <= 150; id++) {
        const struct ram_delivery *d = backend_ram_get(r.be, id);
        assert_string_equal(d->relay, fake_got(&r.fa, d->email) ? "a" : "b");
    }
    run_free(&r);
}

static void removed_named_watch(struct run *r)
{
    remove_watch(r);
    /* step 2: once the messages that waited in relay a are deferred and nothing is in flight, stop */
    if (r->step == 2 && backend_ram_count(r->be, "deferred", NULL) > 0 && r->s->inflight == 0) {
        r->step = 3;
        sender_stop(r->s);
    }
}

/* a transactional campaign naming a relay that is removed: what waited for it is deferred with the reason */
static void test_pump_campaign_naming_a_removed_relay_defers(void **state)
{
    (void)state;
    struct run r;
    struct sender_config cfg = config(20, 40);
    cfg.until_done = false;
    cfg.set.retry_base_s = cfg.set.retry_max_s = 600; /* deferred ones stay deferred for this test */
    run_init(&r, true);
    r.fa.stall = r.fb.stall = true;
    r.on_watch = removed_named_watch;
    add_campaign(&r, 1, "tx", "a");
    add_deliveries(&r, 1, 30);
    run(&r, &cfg, true);
    assert_false(r.timed_out);
    assert_int_equal(r.step, 3);
    assert_int_equal(r.fb.messages, 0); /* never through another relay */
    assert_int_equal(r.fa.messages, 2);
    size_t deferred = 0;
    for (uint64_t id = 1; id <= 30; id++) {
        const struct ram_delivery *d = backend_ram_get(r.be, id);
        if (strcmp(d->state, "deferred") == 0) {
            assert_string_equal(d->reply, "relay a was removed");
            deferred++;
        } else if (strcmp(d->state, "sent") == 0) {
            assert_int_equal(fake_got(&r.fa, d->email), 1);
        } else {
            assert_string_equal(d->state, "queued");
            assert_int_equal(d->attempts, 0);
        }
    }
    assert_true(deferred >= 1);
    assert_int_equal(backend_ram_stats(r.be)->stale, 0);
    run_free(&r);
}

static void ledger_away_watch(struct run *r)
{
    static unsigned claims_when_down;
    const struct ram_stats *st = backend_ram_stats(r->be);
    /* step 0: some sent; the ledger goes away */
    if (r->step == 0 && r->fa.messages >= 20) {
        backend_ram_down(r->be, true);
        claims_when_down = st->claims;
        r->step = 1;
    } else if (r->step == 1 && r->s->inflight > 0 && r->s->nready == 0 && r->s->rendering == 0 &&
               r->s->inflight == r->s->batches[0].n + r->s->batches[1].n) {
        /* everything claimed has its answer and waits to be recorded; nothing was claimed meanwhile */
        assert_int_equal(st->claims, claims_when_down);
        backend_ram_down(r->be, false);
        r->step = 2;
    }
}

/* the ledger away for a while, and a record that fails: every delivery still recorded exactly once */
static void test_pump_ledger_away_and_failed_record_lose_nothing(void **state)
{
    (void)state;
    struct run r;
    struct sender_config cfg = config(20, 60);
    run_init(&r, false);
    backend_ram_fail(r.be, 2);
    r.on_watch = ledger_away_watch;
    add_campaign(&r, 1, "campaign", NULL);
    add_deliveries(&r, 1, 300);
    run(&r, &cfg, false);
    assert_false(r.timed_out);
    assert_int_equal(r.step, 2);
    expect_all_sent_once(&r, 300);
    assert_true(backend_ram_stats(r.be)->leased_max <= 60);
    run_free(&r);
}

static unsigned lost_sent_at_cut, lost_unrecorded_at_cut;

static void lock_lost_watch(struct run *r)
{
    struct smtp_pool *pool = relay_named(r->s, "a")->pool;
    /* step 0: some sent, rows in hand; the database goes away, and another sender gives those rows back */
    if (r->step == 0 && r->fa.messages >= 20 && r->s->nready > 0) {
        backend_ram_down(r->be, true);
        backend_ram_take_over(r->be, "pump-test");
        lost_sent_at_cut = r->fa.messages;
        lost_unrecorded_at_cut = (unsigned)(r->s->batches[0].n + r->s->batches[1].n);
        r->step = 1;
    } else if (r->step == 1 && r->s->rendering == 0 && smtp_pool_queued(pool) == 0 && smtp_pool_in_flight(pool) == 0) {
        /* what was in the pool went; nothing more, though messages are ready */
        assert_true(r->s->nready > 0);
        assert_true(r->fa.messages - lost_sent_at_cut <= 3 * 2);
        backend_ram_down(r->be, false);
        r->step = 2;
    }
}

/*
 * the database out of reach while the sender's rows are given to another
 * sender (its lock went with its connection): nothing more goes to the relay
 * until it is back and the leases are read, then the rows it no longer holds
 * are dropped, not sent; only what was in the relay pool (3 per connection)
 * or sent and not yet recorded at the cut goes twice, and every delivery is sent
 */
static void test_pump_rows_taken_over_while_the_ledger_was_away_are_not_sent(void **state)
{
    (void)state;
    struct run r;
    struct sender_config cfg = config(20, 60);
    run_init(&r, false);
    backend_ram_locks(r.be);
    r.on_watch = lock_lost_watch;
    add_campaign(&r, 1, "campaign", NULL);
    add_deliveries(&r, 1, 300);
    run(&r, &cfg, false);
    assert_false(r.timed_out);
    assert_int_equal(r.step, 2);
    unsigned twice = 0;
    for (uint64_t id = 1; id <= 300; id++) {
        const struct ram_delivery *d = backend_ram_get(r.be, id);
        assert_string_equal(d->state, "sent");
        assert_true(fake_got(&r.fa, d->email) >= 1);
        twice += fake_got(&r.fa, d->email) - 1;
    }
    assert_true(twice <= 3 * 2 + lost_unrecorded_at_cut);
    assert_int_equal(r.fa.messages, 300 + twice);
    assert_true(r.s->lost > 0);
    run_free(&r);
}

/*
 * a recipient whose message cannot be composed (a control character in the
 * name, as stored before names were checked) fails at once with the reason,
 * never deferred, and the sender that runs until done ends; a multi-line
 * name (as the importer keeps it) is sent
 */
static void test_pump_compose_failure_fails_the_delivery_at_once(void **state)
{
    (void)state;
    struct run r;
    struct sender_config cfg = config(20, 40);
    run_init(&r, false);
    add_campaign(&r, 1, "campaign", NULL);
    add_deliveries(&r, 1, 20);
    backend_ram_name(r.be, 3, "Bad\x01Name");
    backend_ram_name(r.be, 4, "Ann\r\n\tLee");
    run(&r, &cfg, false);
    assert_false(r.timed_out);
    const struct ram_delivery *bad = backend_ram_get(r.be, 3);
    assert_string_equal(bad->state, "failed");
    assert_int_equal(bad->attempts, 1);
    assert_int_equal(bad->code, 0);
    assert_string_equal(bad->reply, "cannot compose: the recipient's name holds a control character");
    assert_string_equal(bad->cls, "local");
    assert_string_equal(bad->relay, "");
    assert_int_equal(fake_got(&r.fa, bad->email), 0);
    for (uint64_t id = 1; id <= 20; id++) {
        const struct ram_delivery *d = backend_ram_get(r.be, id);
        if (id != 3 && (strcmp(d->state, "sent") != 0 || fake_got(&r.fa, d->email) != 1))
            fail_msg("delivery %llu: %s, received %u times", (unsigned long long)id, d->state, fake_got(&r.fa, d->email));
    }
    assert_int_equal(r.s->sent, 19);
    assert_int_equal(r.s->failed, 1);
    assert_int_equal(r.s->deferred, 0);
    run_free(&r);
}

/* the sender's tick stopped before it first fires: claims, records and the end come from the sender's own events */
static void without_tick(struct run *r)
{
    if (r->step == 0) {
        r->step = 1;
        uv_timer_stop(&r->s->tick);
        sender_pump(r->s);
    }
}

/*
 * the last results in hand are recorded at once, and once all is recorded
 * the housekeeping that ends a campaign runs: with the sender's tick stopped
 * (it flushes results and runs housekeeping every second) and flush_ms a
 * minute, a sender that runs until done sends ten messages, records them
 * and ends, long before the deadline
 */
static void test_pump_last_results_recorded_at_once(void **state)
{
    (void)state;
    struct run r;
    struct sender_config cfg = config(40, 100);
    cfg.set.flush_ms = 60000;
    run_init(&r, false);
    add_campaign(&r, 1, "campaign", NULL);
    add_deliveries(&r, 1, 10);
    r.on_watch = without_tick;
    run(&r, &cfg, false);
    assert_false(r.timed_out);
    expect_all_sent_once(&r, 10);
    run_free(&r);
}

/* the backend's connection set up once the sender runs, its tick stopped before it first fires */
static void up_without_tick(struct run *r)
{
    if (r->step == 0) {
        r->step = 1;
        uv_timer_stop(&r->s->tick);
        backend_ram_down(r->be, false);
    }
}

/*
 * a sender claims as soon as its backend says its connection is set up
 * (on_ready), not at its next tick: the backend is down when the sender
 * starts and comes up with the tick stopped; the ten messages go and the run
 * ends long before the deadline (without the call it claims nothing)
 */
static void test_pump_claims_when_the_backend_is_ready(void **state)
{
    (void)state;
    struct run r;
    struct sender_config cfg = config(40, 100);
    run_init(&r, false);
    add_campaign(&r, 1, "campaign", NULL);
    add_deliveries(&r, 1, 10);
    backend_ram_down(r.be, true);
    r.on_watch = up_without_tick;
    run(&r, &cfg, false);
    assert_int_equal(r.step, 1);
    assert_false(r.timed_out);
    expect_all_sent_once(&r, 10);
    run_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pump_sends_every_delivery_once_within_max_inflight),
        cmocka_unit_test(test_pump_composes_in_batches_under_the_bytes_bound),
        cmocka_unit_test(test_pump_slow_ledger_holds_claims_at_max_inflight),
        cmocka_unit_test(test_pump_slow_down_answer_holds_new_messages),
        cmocka_unit_test(test_pump_stalled_relay_keeps_leases_and_claims_no_more),
        cmocka_unit_test(test_pump_stop_finishes_the_wire_and_releases_the_rest),
        cmocka_unit_test(test_pump_stop_releases_the_wire_after_drain_timeout),
        cmocka_unit_test(test_pump_relay_removed_under_load_loses_nothing),
        cmocka_unit_test(test_pump_campaign_naming_a_removed_relay_defers),
        cmocka_unit_test(test_pump_ledger_away_and_failed_record_lose_nothing),
        cmocka_unit_test(test_pump_rows_taken_over_while_the_ledger_was_away_are_not_sent),
        cmocka_unit_test(test_pump_compose_failure_fails_the_delivery_at_once),
        cmocka_unit_test(test_pump_last_results_recorded_at_once),
        cmocka_unit_test(test_pump_claims_when_the_backend_is_ready),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
