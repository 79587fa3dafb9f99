/*
 * relay - stored relay definitions turned into SMTP settings, and the two
 * blocking helpers the command line uses.
 */
#include <stdio.h>
#include <string.h>

#include "engine/send/relay.h"
#include "engine/util/conf.h"

static enum smtp_tls_mode tls_mode(const char *tls)
{
    if (strcmp(tls, "tls") == 0)
        return SMTP_TLS_WRAPPER;
    if (strcmp(tls, "none") == 0)
        return SMTP_TLS_NONE;
    if (strcmp(tls, "auto") == 0)
        return SMTP_TLS_MAY;
    return SMTP_TLS_REQUIRE;
}

/* relay_pool_config - fill PC for relay R: TLS mode, credentials, limits, [send] timeouts. */
void relay_pool_config(const struct relay_def *r, struct smtp_pool_config *pc)
{
    memset(pc, 0, sizeof(*pc));
    pc->smtp.host = r->host;
    pc->smtp.port = r->port;
    pc->smtp.helo_name = conf_get("send", "helo_name", NULL);
    pc->smtp.tls = tls_mode(r->tls);
    pc->smtp.tls_ca_file = r->ca_file;
    pc->smtp.tls_no_verify = !r->tls_verify;
    pc->smtp.username = r->username;
    pc->smtp.password = r->password;
    pc->smtp.max_messages = (unsigned)r->max_per_conn;
    pc->smtp.connect_timeout_ms = (unsigned)conf_get_long("send", "connect_timeout_ms", 30000, 100, 600000);
    pc->smtp.command_timeout_ms = (unsigned)conf_get_long("send", "command_timeout_ms", 120000, 100, 3600000);
    pc->max_conns = (unsigned)r->max_conns;
    if (r->rate > 0) {
        /* messages per second as a count per 1000 s, so fractions of a message per second work */
        pc->limits.rate_count = (unsigned long)(r->rate * 1000.0 + 0.5);
        pc->limits.rate_period_ms = 1000000;
        pc->limits.burst = (unsigned long)(r->rate < 1 ? 1 : r->rate);
    }
    if (r->quota > 0) {
        pc->limits.quota = (unsigned long)r->quota;
        pc->limits.quota_period_ms = (unsigned long)r->quota_period_s * 1000;
    }
    pc->reconnect_min_ms = (unsigned)conf_get_long("send", "reconnect_min_ms", 1000, 10, 600000);
    pc->reconnect_max_ms = (unsigned)conf_get_long("send", "reconnect_max_ms", 60000, 10, 3600000);
}

static void answer_from(struct relay_answer *ans, const struct smtp_result *res)
{
    ans->ok = res->accepted;
    snprintf(ans->stage, sizeof(ans->stage), "%s", smtp_stage_name(res->stage));
    ans->code = res->code;
    snprintf(ans->enhanced, sizeof(ans->enhanced), "%s", res->enhanced);
    snprintf(ans->text, sizeof(ans->text), "%s", res->text);
    snprintf(ans->queue_id, sizeof(ans->queue_id), "%s", res->queue_id);
}

struct probe {
    struct buf *report;
    struct relay_answer *ans;
    const struct relay_def *r;
    bool done;
};

static void probe_closed(void *arg)
{
    (void)arg;
}

static void probe_opened(struct smtp_conn *c, int status, const struct smtp_result *res, void *arg)
{
    struct probe *p = arg;
    if (p->done)
        return;
    p->done = true;
    if (status < 0) {
        answer_from(p->ans, res);
        p->ans->ok = false;
        if (res->code)
            buf_appendf(p->report, "%s: failed: %d %s %s\n", smtp_stage_name(res->stage), res->code, res->enhanced,
                        res->text);
        else
            buf_appendf(p->report, "%s: failed: %s\n", smtp_stage_name(res->stage), res->text);
    } else {
        const struct smtp_ext *ext = smtp_conn_ext(c);
        buf_appendf(p->report, "connect: %s port %d: ok\n", p->r->host, p->r->port);
        buf_appendf(p->report, "ehlo: ok:%s%s%s%s%s%s\n", ext->flags & SMTP_EXT_PIPELINING ? " PIPELINING" : "",
                    ext->flags & SMTP_EXT_SIZE ? " SIZE" : "", ext->flags & SMTP_EXT_8BITMIME ? " 8BITMIME" : "",
                    ext->flags & SMTP_EXT_ENHANCEDSTATUSCODES ? " ENHANCEDSTATUSCODES" : "",
                    ext->flags & SMTP_EXT_SMTPUTF8 ? " SMTPUTF8" : "", ext->flags & SMTP_EXT_DSN ? " DSN" : "");
        buf_appendf(p->report, "tls: %s\n", smtp_conn_tls(c) ? "encrypted" : "not encrypted");
        buf_appendf(p->report, "auth: %s\n", p->r->username ? "accepted" : "not used (no user configured)");
        p->ans->ok = true;
        snprintf(p->ans->stage, sizeof(p->ans->stage), "auth");
    }
    smtp_conn_close(c, probe_closed, p);
}

/* relay_probe - open one session to R and close it; REPORT gets a line per step. 0 when it all worked. */
int relay_probe(const struct relay_def *r, struct buf *report, struct relay_answer *ans)
{
    struct smtp_pool_config pc;
    uv_loop_t loop;
    struct smtp_conn *conn;
    struct probe p = { report, ans, r, false };
    memset(ans, 0, sizeof(*ans));
    relay_pool_config(r, &pc);
    uv_loop_init(&loop);
    int rc = smtp_conn_open(&loop, &pc.smtp, probe_opened, &p, &conn);
    if (rc < 0) {
        snprintf(ans->text, sizeof(ans->text), "%s", uv_strerror(rc));
        buf_appendf(report, "connect: failed: %s\n", uv_strerror(rc));
    } else {
        uv_run(&loop, UV_RUN_DEFAULT);
    }
    uv_loop_close(&loop);
    return ans->ok ? 0 : -1;
}

struct one {
    struct relay_answer *ans;
    struct smtp_pool *pool;
};

static void one_closed(void *arg)
{
    (void)arg;
}

static void one_done(const struct smtp_result *res, void *arg)
{
    struct one *o = arg;
    answer_from(o->ans, res);
    smtp_pool_close(o->pool, one_closed, o);
}

/* relay_send_one - send DATA from ENV_FROM to RCPT through R now; 0 when accepted, ANS says what happened. */
int relay_send_one(const struct relay_def *r, const char *env_from, const char *rcpt, const char *data, size_t len,
                   struct relay_answer *ans)
{
    struct smtp_pool_config pc;
    uv_loop_t loop;
    struct one o = { ans, NULL };
    memset(ans, 0, sizeof(*ans));
    relay_pool_config(r, &pc);
    pc.max_conns = 1;
    pc.max_connect_failures = 1;
    memset(&pc.limits, 0, sizeof(pc.limits));
    uv_loop_init(&loop);
    if (smtp_pool_create(&loop, &pc, &o.pool) < 0 ||
        smtp_pool_submit(o.pool, env_from, rcpt, data, len, one_done, &o) < 0) {
        snprintf(ans->text, sizeof(ans->text), "cannot set up a connection to %s", r->host);
    }
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);
    return ans->ok ? 0 : -1;
}
