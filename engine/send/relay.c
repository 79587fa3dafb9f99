/*
 * relay - relay definitions checked as given (the one copy of those rules),
 * stored ones turned into SMTP settings, and the two blocking helpers the
 * command line uses.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/mail/smtp_reply.h"
#include "engine/send/relay.h"
#include "engine/send/settings_send.h"

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

/* relay_per_parse - see relay.h. */
int relay_per_parse(const char *arg, bool bare_ok, double *n, long *period_s)
{
    char *end;
    long k = 1;
    *n = strtod(arg, &end);
    if (end == arg || !(*n > 0) || *n > 1e9)
        return -1;
    if (*end == 0 && bare_ok) {
        *period_s = 1;
        return 0;
    }
    if (*end++ != '/')
        return -1;
    if (*end >= '1' && *end <= '9') {
        k = strtol(end, &end, 10);
        if (k <= 0 || k > 100000)
            return -1;
    }
    long unit = strcmp(end, "s") == 0 ? 1 : strcmp(end, "m") == 0 ? 60 : strcmp(end, "h") == 0 ? 3600
              : strcmp(end, "d") == 0 ? 86400 : -1;
    *period_s = unit * k;
    return unit < 0 ? -1 : 0;
}

static int refuse(struct relay_check *err, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int refuse(struct relay_check *err, const char *field, const char *fmt, ...)
{
    va_list ap;
    err->field = field;
    va_start(ap, fmt);
    vsnprintf(err->why, sizeof(err->why), fmt, ap);
    va_end(ap);
    return -1;
}

/* a name: 1 to 100 octets, no blank, no control character, no / (it names an API path) */
static bool relay_name_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 100)
        return false;
    for (; *s; s++)
        if ((unsigned char)*s <= ' ' || *s == '/' || *s == 0x7f)
            return false;
    return true;
}

/* HOST a loopback address (127.0.0.0/8, ::1), or localhost (the connection itself is checked again: smtp.c) */
static bool host_is_loopback(const char *host)
{
    struct in_addr a4;
    struct in6_addr a6;
    if (strcmp(host, "localhost") == 0)
        return true;
    if (inet_pton(AF_INET, host, &a4) == 1)
        return (ntohl(a4.s_addr) >> 24) == 127;
    return inet_pton(AF_INET6, host, &a6) == 1 && IN6_IS_ADDR_LOOPBACK(&a6);
}

/* relay_input_check - see relay.h. */
int relay_input_check(const struct relay_input *in, struct relay_def *out, struct relay_check *err)
{
    double qn = 0;
    long per = 1;
    memset(out, 0, sizeof(*out));
    if (!in->name || !relay_name_ok(in->name))
        return refuse(err, "name", "the relay name must be 1 to 100 characters, without blanks, / or control characters");
    if (!in->host || !*in->host || strlen(in->host) > 253 || strlen(in->host) != strcspn(in->host, " \t\r\n/@"))
        return refuse(err, "host", "the host must be a host name or an IP address");
    const char *tls = in->tls ? in->tls : "starttls";
    if (strcmp(tls, "starttls") && strcmp(tls, "tls") && strcmp(tls, "none") && strcmp(tls, "auto"))
        return refuse(err, "tls", "tls must be starttls, tls, none or auto, not '%.32s'", tls);
    if (in->port != -1 && (in->port < 1 || in->port > 65535))
        return refuse(err, "port", "the port must be from 1 to 65535");
    if (!in->username != !in->password)
        return refuse(err, in->username ? "password" : "username", "a user name and a password go together");
    if (in->username && (!*in->username || strlen(in->username) > 255 || strpbrk(in->username, "\r\n")))
        return refuse(err, "username", "the user name must be one line of 1 to 255 characters");
    if (in->password && (!*in->password || strlen(in->password) > 1000 || strpbrk(in->password, "\r\n")))
        return refuse(err, "password", "the password must be one line of 1 to 1000 characters");
    if (in->allow_plain_auth && !host_is_loopback(in->host))
        return refuse(err, "allow_plain_auth",
                      "plain-text AUTH may be allowed only for a relay on this machine (127.0.0.1, ::1 or localhost)");
    if (in->password && strcmp(tls, "none") == 0 && !in->allow_plain_auth)
        return refuse(err, "tls", "with tls none the password would travel in clear: use starttls or tls "
                                  "(plain-text AUTH may be allowed for a relay on this machine)");
    if (in->ca_file && !in->tls_verify)
        return refuse(err, "ca_file", "a CA file and turning TLS verification off exclude each other");
    if (in->max_conns != -1 && (in->max_conns < 1 || in->max_conns > 1000))
        return refuse(err, "max_conns", "the connections at once must be from 1 to 1000");
    if (in->max_per_conn != -1 && (in->max_per_conn < 1 || in->max_per_conn > 100000))
        return refuse(err, "max_per_conn", "the messages per connection must be from 1 to 100000");
    if (in->rate && relay_per_parse(in->rate, true, &out->rate, &per) < 0)
        return refuse(err, "rate", "the rate takes N/s, N/m or N/h (N from 0 to 1e9), not '%.32s'", in->rate);
    if (in->quota && (relay_per_parse(in->quota, false, &qn, &out->quota_period_s) < 0 || qn != (double)(long)qn))
        return refuse(err, "quota", "the quota takes N/PERIOD (1000/h, 20000/d, 500/30m), not '%.32s'", in->quota);
    out->name = (char *)in->name;
    out->host = (char *)in->host;
    out->tls = (char *)tls;
    out->tls_verify = in->tls_verify;
    out->ca_file = (char *)in->ca_file;
    out->username = (char *)in->username;
    out->password = (char *)in->password;
    out->allow_plain_auth = in->allow_plain_auth;
    out->port = in->port != -1 ? (int)in->port : strcmp(tls, "tls") == 0 ? 465 : strcmp(tls, "starttls") == 0 ? 587 : 25;
    out->max_conns = in->max_conns != -1 ? (int)in->max_conns : 4;
    out->max_per_conn = in->max_per_conn != -1 ? (int)in->max_per_conn : 100;
    out->rate /= (double)per;
    out->quota = (long)qn;
    return 0;
}

/* relay_pool_config - fill PC for relay R: TLS mode, credentials, limits, [send] timeouts. */
void relay_pool_config(const struct relay_def *r, struct smtp_pool_config *pc)
{
    memset(pc, 0, sizeof(*pc));
    pc->smtp.host = r->host;
    pc->smtp.port = r->port;
    pc->smtp.helo_name = send_settings.helo_name;
    pc->smtp.tls = tls_mode(r->tls);
    pc->smtp.tls_ca_file = r->ca_file;
    pc->smtp.tls_no_verify = !r->tls_verify;
    pc->smtp.username = r->username;
    pc->smtp.password = r->password;
    pc->smtp.allow_plain_auth = r->allow_plain_auth;
    pc->smtp.max_messages = (unsigned)r->max_per_conn;
    pc->smtp.connect_timeout_ms = send_settings.connect_timeout_ms;
    pc->smtp.command_timeout_ms = send_settings.command_timeout_ms;
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
    pc->reconnect_min_ms = send_settings.reconnect_min_ms;
    pc->reconnect_max_ms = send_settings.reconnect_max_ms;
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

/* the report's lines for the steps of C's session before STAGE, all of which went well */
static void probe_steps_ok(struct probe *p, struct smtp_conn *c, enum smtp_stage stage)
{
    if (stage > SMTP_STAGE_CONNECT)
        buf_appendf(p->report, "connect: %s port %d: ok\n", p->r->host, p->r->port);
    if (stage > SMTP_STAGE_EHLO) {
        const struct smtp_ext *ext = smtp_conn_ext(c);
        buf_appendf(p->report, "ehlo: ok:%s%s%s%s%s%s\n", ext->flags & SMTP_EXT_PIPELINING ? " PIPELINING" : "",
                    ext->flags & SMTP_EXT_SIZE ? " SIZE" : "", ext->flags & SMTP_EXT_8BITMIME ? " 8BITMIME" : "",
                    ext->flags & SMTP_EXT_ENHANCEDSTATUSCODES ? " ENHANCEDSTATUSCODES" : "",
                    ext->flags & SMTP_EXT_SMTPUTF8 ? " SMTPUTF8" : "", ext->flags & SMTP_EXT_DSN ? " DSN" : "");
    }
    if (stage > SMTP_STAGE_TLS)
        buf_appendf(p->report, "tls: %s\n", smtp_conn_tls(c) ? "encrypted" : "not encrypted");
}

static void probe_opened(struct smtp_conn *c, int status, const struct smtp_result *res, void *arg)
{
    struct probe *p = arg;
    if (p->done)
        return;
    p->done = true;
    if (status < 0) {
        char line[600];
        answer_from(p->ans, res);
        p->ans->ok = false;
        probe_steps_ok(p, c, res->stage);
        buf_appendf(p->report, "%s: failed: %s\n", smtp_stage_name(res->stage),
                    smtp_reply_line(res->code, res->enhanced, res->text, line, sizeof(line)));
    } else {
        probe_steps_ok(p, c, SMTP_STAGE_AUTH);
        buf_appendf(p->report, "auth: %s\n", p->r->username ? "accepted" : "not used (no user configured)");
        p->ans->ok = true;
        snprintf(p->ans->stage, sizeof(p->ans->stage), "auth");
    }
    smtp_conn_close(c, probe_closed, p);
}

/*
 * relay_probe - open one session to R and close it; REPORT gets a line per
 * step ("connect: HOST port N: ok", "ehlo: ok: EXTENSIONS", "tls: encrypted",
 * "auth: accepted"), up to the one that failed with the server's reply as it
 * came ("auth: failed: 535 5.7.8 …"). 0 when it all worked.
 */
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
