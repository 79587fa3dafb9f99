/*
 * test_smtp_postfix - the SMTP client and pool against a private Postfix
 * submission server (scripts/postfix.sh: STARTTLS, SASL AUTH, relaying to an
 * smtp-sink that writes each message to a file).
 *
 * The repository root is POSTINO_ROOT, or the nearest directory above the
 * working directory holding scripts/postfix.sh. Ports are picked free.
 */
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <uv.h>

#include "engine/net/smtp.h"
#include "engine/net/smtp_pool.h"
#include "engine/util/alloc.h"
#include "engine/util/buf.h"

#define NMSG 200
#define NCONNS 4
#define MAX_PER_CONN 60

struct env {
    char root[4096];
    char dir[256];
    int port;
    int sink_port;
    char ca[512];
};

static struct env E;

/* ---- helpers ---- */

static int free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t n = sizeof(a);
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 ||
        getsockname(fd, (struct sockaddr *)&a, &n) < 0) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    close(fd);
    return ntohs(a.sin_port);
}

static int find_root(char *out, size_t n)
{
    const char *env = getenv("POSTINO_ROOT");
    char path[4096 + 32];
    if (env && *env) {
        snprintf(out, n, "%s", env);
        return 0;
    }
    if (!getcwd(out, n))
        return -1;
    for (;;) {
        snprintf(path, sizeof(path), "%s/scripts/postfix.sh", out);
        if (access(path, R_OK) == 0)
            return 0;
        char *slash = strrchr(out, '/');
        if (!slash || slash == out)
            return -1;
        *slash = 0;
    }
}

static int run(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int run(const char *fmt, ...)
{
    char cmd[8192];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof(cmd), fmt, ap);
    va_end(ap);
    return system(cmd);
}

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    struct buf b = BUF_INIT;
    char chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
        buf_append(&b, chunk, n);
    fclose(f);
    if (!b.data)
        buf_append(&b, "", 0);
    return buf_detach(&b, len);
}

static void sleep_ms(long ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
    nanosleep(&ts, NULL);
}

/* a deadline SECS from now, times POSTINO_TEST_PATIENCE (3) as the shell tests do, on the monotonic clock */
static double deadline_in(double secs)
{
    struct timespec ts;
    const char *p = getenv("POSTINO_TEST_PATIENCE");
    double patience = p && atof(p) > 0 ? atof(p) : 3;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9 + secs * patience;
}

static bool deadline_passed(double deadline)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9 >= deadline;
}

static int group_setup(void **state)
{
    (void)state;
    if (find_root(E.root, sizeof(E.root)) < 0) {
        fprintf(stderr, "cannot find the repository root (set POSTINO_ROOT)\n");
        return -1;
    }
    snprintf(E.dir, sizeof(E.dir), "/tmp/postino-smtp-XXXXXX");
    if (!mkdtemp(E.dir))
        return -1;
    E.port = free_port();
    E.sink_port = free_port();
    while (E.sink_port == E.port)
        E.sink_port = free_port();
    snprintf(E.ca, sizeof(E.ca), "%s/tls/cert.pem", E.dir);
    if (run("sh '%s/scripts/postfix.sh' start '%s' --port %d --sink-port %d >&2", E.root, E.dir,
            E.port, E.sink_port) != 0) {
        fprintf(stderr, "scripts/postfix.sh start failed\n");
        run("sh '%s/scripts/postfix.sh' stop '%s'", E.root, E.dir);
        return -1;
    }
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    run("sh '%s/scripts/postfix.sh' stop '%s' >&2", E.root, E.dir);
    if (getenv("POSTINO_KEEP"))
        fprintf(stderr, "kept %s\n", E.dir);
    else
        run("rm -rf '%s'", E.dir);
    return 0;
}

static void base_config(struct smtp_pool_config *cfg, const char *password)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->smtp.host = "127.0.0.1";
    cfg->smtp.port = E.port;
    cfg->smtp.helo_name = "client.postino.test";
    cfg->smtp.tls = SMTP_TLS_REQUIRE;
    cfg->smtp.tls_ca_file = E.ca;
    cfg->smtp.tls_server_name = "localhost";
    cfg->smtp.username = "test";
    cfg->smtp.password = password;
    cfg->smtp.command_timeout_ms = 30000;
    cfg->max_conns = NCONNS;
    cfg->reconnect_min_ms = 100;
}

/* ---- 200 messages through the pool ---- */

struct batch {
    struct smtp_pool *pool;
    char marker[64];
    struct buf bodies[NMSG]; /* each message's body as the sink should hold it (LF line ends) */
    int done;
    int accepted;
    int bad;
    unsigned max_conns_seen;
    char qids[NMSG][64];
    char first_error[512];
    int closed;
};

struct one {
    struct batch *b;
    int i;
};

static struct one ones[NMSG];

static void on_pool_closed(void *arg)
{
    ((struct batch *)arg)->closed = 1;
}

static void on_result(const struct smtp_result *res, void *arg)
{
    struct one *o = arg;
    struct batch *b = o->b;
    b->done++;
    unsigned c = smtp_pool_conns(b->pool);
    if (c > b->max_conns_seen)
        b->max_conns_seen = c;
    if (res->accepted && res->stage == SMTP_STAGE_DATA && res->code == 250 && *res->queue_id) {
        b->accepted++;
        snprintf(b->qids[o->i], sizeof(b->qids[o->i]), "%s", res->queue_id);
    } else if (!b->first_error[0]) {
        snprintf(b->first_error, sizeof(b->first_error), "message %d: stage %s code %d error %d: %s",
                 o->i, smtp_stage_name(res->stage), res->code, res->error, res->text);
    }
    if (b->done == NMSG)
        smtp_pool_close(b->pool, on_pool_closed, b);
}

/* make_message - message I: headers, then a body with dot lines and 8-bit text. */
static void make_message(struct batch *b, int i, struct buf *msg)
{
    struct buf *body = &b->bodies[i];
    buf_init(body);
    buf_appendf(body, "marker %s-%03d\n", b->marker, i);
    buf_appends(body, ".a line that starts with a dot\n");
    buf_appends(body, ".\n");
    buf_appends(body, "..two dots\n");
    buf_appends(body, "caf\xc3\xa9 8-bit text\n");
    for (int k = 0; k < i % 7; k++)
        buf_appendf(body, "filler line %d of message %d\n", k, i);
    buf_appendf(body, "end %s-%03d\n", b->marker, i);

    buf_appendf(msg, "From: Postino Test <sender@postino.test>\r\n"
                     "To: <rcpt%03d@example.com>\r\n"
                     "Subject: message %d\r\n"
                     "Message-ID: <%s-%03d@postino.test>\r\n"
                     "MIME-Version: 1.0\r\n"
                     "Content-Type: text/plain; charset=utf-8\r\n"
                     "Content-Transfer-Encoding: 8bit\r\n"
                     "\r\n",
                i, i, b->marker, i);
    /* The body with CRLF line ends. */
    for (const char *p = body->data; *p; p++) {
        if (*p == '\n')
            buf_appendc(msg, '\r');
        buf_appendc(msg, *p);
    }
}

/* sink_check - compare every file in DIR/sink with the bodies sent; returns how many matched. */
static int sink_check(struct batch *b, int *files, char *why, size_t whylen)
{
    char sinkdir[512];
    snprintf(sinkdir, sizeof(sinkdir), "%s/sink", E.dir);
    DIR *d = opendir(sinkdir);
    if (!d)
        return 0;
    int seen[NMSG] = { 0 };
    int matched = 0;
    *files = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.')
            continue;
        char path[1024];
        snprintf(path, sizeof(path), "%s/%s", sinkdir, de->d_name);
        struct stat st;
        if (stat(path, &st) < 0 || !S_ISREG(st.st_mode))
            continue;
        (*files)++;
        size_t len;
        char *text = slurp(path, &len);
        if (!text)
            continue;
        char key[80];
        snprintf(key, sizeof(key), "\n\nmarker %s-", b->marker);
        char *start = strstr(text, key);
        if (start) {
            start += 2;
            int i = atoi(start + strlen(key) - 2);
            /* smtp-sink ends each dump with one empty line. */
            size_t blen = len - (size_t)(start - text);
            if (i >= 0 && i < NMSG && blen == b->bodies[i].len + 1 &&
                memcmp(start, b->bodies[i].data, b->bodies[i].len) == 0 && start[blen - 1] == '\n') {
                if (seen[i]++ == 0)
                    matched++;
            } else if (!why[0]) {
                snprintf(why, whylen, "%s: body of message %d differs", path, i);
            }
        } else if (!why[0]) {
            snprintf(why, whylen, "%s: no marker", path);
        }
        xfree(text);
    }
    closedir(d);
    return matched;
}

/* log_sessions - sum the Postfix session summaries of clients that sent mail. */
static void log_sessions(int *sessions, int *tls_auth, int *data_total, int *max_mail)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/postfix.log", E.dir);
    *sessions = *tls_auth = *data_total = *max_mail = 0;
    size_t len;
    char *text = slurp(path, &len);
    if (!text)
        return;
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
        if (!strstr(line, "submission/smtpd") || !strstr(line, "disconnect from"))
            continue;
        char *m = strstr(line, " mail=");
        if (!m)
            continue;
        (*sessions)++;
        if (strstr(line, " ehlo=2 starttls=1 auth=1 "))
            (*tls_auth)++;
        int mails = atoi(m + 6);
        if (mails > *max_mail)
            *max_mail = mails;
        char *dd = strstr(line, " data=");
        if (dd)
            *data_total += atoi(dd + 6);
    }
    xfree(text);
}

static void test_smtp_pool_delivers_200_messages_over_4_connections(void **state)
{
    (void)state;
    struct batch *b = test_calloc(1, sizeof(*b));
    snprintf(b->marker, sizeof(b->marker), "pm%ld-%ld", (long)getpid(), (long)time(NULL));
    uv_loop_t loop;
    uv_loop_init(&loop);
    struct smtp_pool_config cfg;
    base_config(&cfg, "secret");
    cfg.smtp.max_messages = MAX_PER_CONN;
    assert_int_equal(smtp_pool_create(&loop, &cfg, &b->pool), 0);
    for (int i = 0; i < NMSG; i++) {
        struct buf msg = BUF_INIT;
        make_message(b, i, &msg);
        ones[i].b = b;
        ones[i].i = i;
        char rcpt[64];
        snprintf(rcpt, sizeof(rcpt), "rcpt%03d@example.com", i);
        assert_int_equal(smtp_pool_submit(b->pool, "bounces@postino.test", rcpt, msg.data, msg.len,
                                          on_result, &ones[i]),
                         0);
        buf_free(&msg);
    }
    assert_int_equal(smtp_pool_queued(b->pool), NMSG);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&loop), 0);
    if (b->first_error[0])
        fprintf(stderr, "%s\n", b->first_error);
    assert_int_equal(b->done, NMSG);
    assert_int_equal(b->accepted, NMSG);
    assert_int_equal(b->closed, 1);
    if (b->max_conns_seen > NCONNS)
        fprintf(stderr, "%u connections at once\n", b->max_conns_seen);
    assert_true(b->max_conns_seen >= 1 && b->max_conns_seen <= NCONNS);
    /* Every queue id is different. */
    for (int i = 0; i < NMSG; i++)
        for (int j = i + 1; j < NMSG; j++)
            assert_string_not_equal(b->qids[i], b->qids[j]);

    /* smtp-sink has each message, body byte for byte. */
    int files = 0, matched = 0;
    char why[1200] = "";
    for (double end = deadline_in(30);;) {
        why[0] = 0;
        matched = sink_check(b, &files, why, sizeof(why));
        if ((matched == NMSG && files == NMSG) || deadline_passed(end))
            break;
        sleep_ms(100);
    }
    if (matched != NMSG)
        fprintf(stderr, "sink: %d files, %d matched; %s\n", files, matched, why);
    assert_int_equal(files, NMSG);
    assert_int_equal(matched, NMSG);

    /* Postfix saw TLS and AUTH in every session, 200 DATA in all, at most 60 per session. */
    int sessions = 0, tls_auth = 0, data_total = 0, max_mail = 0;
    for (double end = deadline_in(10);;) {
        log_sessions(&sessions, &tls_auth, &data_total, &max_mail);
        if (data_total >= NMSG || deadline_passed(end))
            break;
        sleep_ms(100);
    }
    assert_int_equal(data_total, NMSG);
    assert_true(sessions >= NMSG / MAX_PER_CONN + 1);
    assert_int_equal(tls_auth, sessions);
    assert_true(max_mail <= MAX_PER_CONN);

    for (int i = 0; i < NMSG; i++)
        buf_free(&b->bodies[i]);
    test_free(b);
}

/* ---- failures ---- */

struct failure {
    struct smtp_result res;
    char text[512];
    char enhanced[16];
    int results;
    int closed;
    struct smtp_pool *pool;
};

static void on_failure_closed(void *arg)
{
    ((struct failure *)arg)->closed = 1;
}

static void on_failure(const struct smtp_result *res, void *arg)
{
    struct failure *f = arg;
    f->results++;
    f->res = *res;
    snprintf(f->text, sizeof(f->text), "%s", res->text);
    snprintf(f->enhanced, sizeof(f->enhanced), "%s", res->enhanced);
    f->res.text = f->text;
    f->res.enhanced = f->enhanced;
    smtp_pool_close(f->pool, on_failure_closed, f);
}

/* send_one - one message through a fresh pool configured by CFG; the result in F. */
static void send_one(struct smtp_pool_config *cfg, struct failure *f)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    cfg->max_connect_failures = 1;
    memset(f, 0, sizeof(*f));
    assert_int_equal(smtp_pool_create(&loop, cfg, &f->pool), 0);
    const char msg[] = "Subject: x\r\n\r\nx\r\n";
    assert_int_equal(smtp_pool_submit(f->pool, "a@postino.test", "b@example.com", msg,
                                      sizeof(msg) - 1, on_failure, f),
                     0);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&loop), 0);
    assert_int_equal(f->results, 1);
    assert_int_equal(f->closed, 1);
}

static void test_smtp_wrong_password_fails_at_auth_with_535(void **state)
{
    (void)state;
    struct smtp_pool_config cfg;
    struct failure f;
    base_config(&cfg, "not-the-password");
    send_one(&cfg, &f);
    assert_false(f.res.accepted);
    assert_int_equal(f.res.stage, SMTP_STAGE_AUTH);
    assert_int_equal(f.res.code, 535);
    assert_string_equal(f.res.enhanced, "5.7.8");
    assert_int_equal(f.res.error, 0);
    /* The password is nowhere in the result. */
    assert_null(strstr(f.text, "not-the-password"));
}

static void test_smtp_auth_is_not_offered_before_starttls(void **state)
{
    (void)state;
    struct smtp_pool_config cfg;
    struct failure f;
    /* postino sends no password without TLS at all */
    base_config(&cfg, "secret");
    cfg.smtp.tls = SMTP_TLS_NONE;
    send_one(&cfg, &f);
    assert_int_equal(f.res.stage, SMTP_STAGE_AUTH);
    assert_int_equal(f.res.error, UV_EACCES);
    assert_int_equal(f.res.code, 0);
    /* and, with plain-text AUTH allowed to this machine, Postfix offers none before STARTTLS */
    base_config(&cfg, "secret");
    cfg.smtp.tls = SMTP_TLS_NONE;
    cfg.smtp.allow_plain_auth = true;
    send_one(&cfg, &f);
    assert_int_equal(f.res.stage, SMTP_STAGE_AUTH);
    assert_int_equal(f.res.error, UV_ENOTSUP);
    assert_int_equal(f.res.code, 0);
}

static void test_smtp_self_signed_certificate_fails_verification(void **state)
{
    (void)state;
    struct smtp_pool_config cfg;
    struct failure f;
    base_config(&cfg, "secret");
    cfg.smtp.tls_ca_file = NULL; /* the system's CAs do not know it */
    send_one(&cfg, &f);
    assert_int_equal(f.res.stage, SMTP_STAGE_TLS);
    assert_int_equal(f.res.error, UV_EPROTO);
    assert_non_null(strstr(f.text, "certificate verification failed"));

    /* Named otherwise than the certificate says: refused even with the right CA. */
    base_config(&cfg, "secret");
    cfg.smtp.tls_server_name = "mx.elsewhere.example";
    send_one(&cfg, &f);
    assert_int_equal(f.res.stage, SMTP_STAGE_TLS);
    assert_int_equal(f.res.error, UV_EPROTO);

    /* With verification off (tests only) the same server is accepted. */
    base_config(&cfg, "secret");
    cfg.smtp.tls_ca_file = NULL;
    cfg.smtp.tls_no_verify = true;
    send_one(&cfg, &f);
    assert_true(f.res.accepted);
}

static void test_smtp_connection_refused_is_reported_at_connect(void **state)
{
    (void)state;
    struct smtp_pool_config cfg;
    struct failure f;
    base_config(&cfg, "secret");
    cfg.smtp.port = free_port();
    send_one(&cfg, &f);
    assert_int_equal(f.res.stage, SMTP_STAGE_CONNECT);
    assert_int_equal(f.res.error, UV_ECONNREFUSED);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_smtp_pool_delivers_200_messages_over_4_connections),
        cmocka_unit_test(test_smtp_wrong_password_fails_at_auth_with_535),
        cmocka_unit_test(test_smtp_auth_is_not_offered_before_starttls),
        cmocka_unit_test(test_smtp_self_signed_certificate_fails_verification),
        cmocka_unit_test(test_smtp_connection_refused_is_reported_at_connect),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
