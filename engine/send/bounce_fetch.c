/*
 * bounce_fetch - the bounce mailbox read into the ledger (see bounce_fetch.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "engine/send/bounce_fetch.h"
#include "engine/send/settings_send.h"
#include "engine/store/bounce_once.h"
#include "engine/store/pg.h"
#include "engine/util/alloc.h"
#include "engine/util/buf.h"
#include "engine/util/file.h"
#include "engine/util/log.h"

#define IDLE_MAX_S 1500   /* IDLE is ended and the folder read again at least this often (RFC 2177: < 29 min) */

/* bounce_fetch_config - see bounce_fetch.h. */
int bounce_fetch_config(struct bounce_fetch_config *cfg, char *err, size_t errlen)
{
    const struct mail_settings *m = &mail_settings;
    const char *why;
    memset(cfg, 0, sizeof(*cfg));
    if (!m->bounce_mailbox || !*m->bounce_mailbox) {
        snprintf(err, errlen, "[bounce] mailbox: not set (imaps://USER@HOST/FOLDER)");
        return -1;
    }
    if (mailbox_url_parse(m->bounce_mailbox, &cfg->url, &why) < 0) {
        snprintf(err, errlen, "[bounce] mailbox: %s", why);
        return -1;
    }
    if (!m->bounce_mailbox_password_file || !*m->bounce_mailbox_password_file) {
        snprintf(err, errlen, "[bounce] mailbox_password_file: required when [bounce] mailbox is set");
        return -1;
    }
    char ferr[300];
    if (file_read_secret(m->bounce_mailbox_password_file, cfg->password, sizeof(cfg->password), ferr,
                         sizeof(ferr)) < 0) {
        snprintf(err, errlen, "[bounce] mailbox_password_file: %s", ferr);
        return -1;
    }
    cfg->url_text = m->bounce_mailbox;
    cfg->interval_s = m->bounce_mailbox_interval ? m->bounce_mailbox_interval : 60;
    cfg->opts = (struct mailbox_opts){
        .url = &cfg->url,
        .password = cfg->password,
        .ca_file = m->bounce_mailbox_ca_file && *m->bounce_mailbox_ca_file ? m->bounce_mailbox_ca_file : NULL,
        .move_to = m->bounce_mailbox_move && *m->bounce_mailbox_move ? m->bounce_mailbox_move : NULL,
        .max_size = m->bounce_mailbox_max_size,
        .head_bytes = m->bounce_keep ? m->bounce_keep : BOUNCE_KEEP_DEFAULT,
        .timeout_s = m->bounce_mailbox_timeout,
        .stop_fd = -1,
    };
    return 0;
}

struct pass_ctx {
    PGconn *conn;
    const struct bounce_fetch_config *cfg;
    struct bounce_fetch_stats *st;
    struct buf lf;
    char err[800];
};

/* one message from the mailbox: recorded (or recognised) and let go, or kept when the database failed */
static int on_message(void *arg, const struct mailbox_msg *m)
{
    struct pass_ctx *x = arg;
    struct bounce_intake in = { 0 };
    in.keep_bytes = mail_settings.bounce_keep;
    in.local_part = mail_settings.bounce_local_part;
    /* line ends as the pipe has them (IMAP and POP3 send CRLF) */
    buf_reset(&x->lf);
    for (size_t i = 0; i < m->len; i++)
        if (!(m->data[i] == '\r' && i + 1 < m->len && m->data[i + 1] == '\n'))
            buf_appendc(&x->lf, m->data[i]);
    const char *data = buf_cstr(&x->lf);
    uint64_t size = m->too_large ? m->size : x->lf.len;
    json_t *out = NULL;
    struct store_err e;
    int rc = store_bounce_ingest_once(x->conn, data, x->lf.len, size, x->cfg->opts.max_size, &in, &out, &e);
    if (rc < 0) {
        snprintf(x->err, sizeof(x->err), "message %s left in the mailbox: %s", m->id, e.msg);
        return rc == STORE_ERR_DB ? -1 : 1;
    }
    json_t *b = json_object_get(out, "bounce");
    if (json_is_true(json_object_get(out, "repeat"))) {
        bool matched = json_is_true(json_object_get(out, "matched"));
        json_t *id = json_object_get(out, matched ? "bounce_id" : "unmatched_id");
        if (!id)
            id = json_object_get(b, "id");
        x->st->repeats++;
        log_info("bounce: mailbox message %s was recorded already (%s %lld)", m->id, matched ? "bounce" : "unmatched",
                 (long long)json_integer_value(id));
    } else if (json_is_true(json_object_get(out, "matched"))) {
        x->st->bounces++;
        log_info("bounce: mailbox message %s: bounce %lld %s %s", m->id,
                 (long long)json_integer_value(json_object_get(b, "id")),
                 json_string_value(json_object_get(b, "class")) ?: "-",
                 json_string_value(json_object_get(b, "email")) ?: "-");
    } else {
        x->st->unmatched++;
        log_info("bounce: mailbox message %s: unmatched %lld (%s)", m->id,
                 (long long)json_integer_value(json_object_get(out, "unmatched_id")),
                 json_string_value(json_object_get(out, "reason")) ?: "-");
    }
    json_decref(out);
    return 0;
}

/* read the folder until nothing is left in it: 0, or -1 with ERR */
static int passes(struct mailbox *mb, PGconn *conn, const struct bounce_fetch_config *cfg,
                  struct bounce_fetch_stats *st, char *err, size_t errlen)
{
    struct pass_ctx x = { conn, cfg, st, BUF_INIT, "" };
    int rc;
    do {
        unsigned nread = 0, removed = 0;
        rc = mailbox_pass(mb, on_message, &x, &nread, &removed, err, errlen);
        st->read += nread;
        st->removed += removed;
        if (rc == -2)
            snprintf(err, errlen, "%s", x.err);
        else if (rc == 0 && x.err[0])
            log_warn("bounce: %s", x.err);
    } while (rc == 1 && cfg->url.proto == MAILBOX_IMAP);
    buf_free(&x.lf);
    return rc < 0 ? -1 : 0;
}

/* bounce_fetch_once - see bounce_fetch.h. */
int bounce_fetch_once(PGconn *conn, const struct bounce_fetch_config *cfg, struct bounce_fetch_stats *st, char *err,
                      size_t errlen)
{
    char why[600];
    int rc;
    do {
        struct mailbox *mb = mailbox_open(&cfg->opts, why, sizeof(why));
        if (!mb) {
            snprintf(err, errlen, "mailbox %s: %s", cfg->url_text, why);
            return -1;
        }
        unsigned before = st->read;
        rc = passes(mb, conn, cfg, st, why, sizeof(why));
        mailbox_close(mb);
        if (rc < 0) {
            snprintf(err, errlen, "mailbox %s: %s", cfg->url_text, why);
            return -1;
        }
        /* POP3 reads at most MAILBOX_PASS_MAX a session: another one for the rest */
        if (cfg->url.proto != MAILBOX_POP3 || st->read - before < MAILBOX_PASS_MAX)
            break;
    } while (1);
    return 0;
}

struct bounce_fetch {
    pthread_t thread;
    int stop_pipe[2];
    char *conninfo;
    struct bounce_fetch_config cfg;
};

/* wait SECONDS or until stopped: true when stopped */
static bool wait_or_stop(struct bounce_fetch *f, unsigned seconds)
{
    struct pollfd pf = { f->stop_pipe[0], POLLIN, 0 };
    return poll(&pf, 1, (int)(seconds > 86400 ? 86400 : seconds) * 1000) > 0;
}

/*
 * a folder whose UIDVALIDITY changed was made anew: its UIDs name other
 * messages. Nothing is kept by UID between sessions (a message is known by
 * its key), so this is only said.
 */
static void uidvalidity_note(const struct bounce_fetch *f, uint32_t now, uint32_t *last)
{
    if (*last && now && now != *last)
        log_info("bounce: mailbox %s: UIDVALIDITY changed from %u to %u (the folder was made anew)", f->cfg.url_text,
                 *last, now);
    if (now)
        *last = now;
}

static void summary(const struct bounce_fetch *f, struct bounce_fetch_stats *st)
{
    if (st->read)
        log_info("bounce: mailbox %s: %u read, %u bounces, %u unmatched, %u recorded already, %u removed",
                 f->cfg.url_text, st->read, st->bounces, st->unmatched, st->repeats, st->removed);
    memset(st, 0, sizeof(*st));
}

/* IDLE: the server says when mail arrives, and the folder is read again then; -1 with ERR, 0 when stopped */
static int idle_loop(struct bounce_fetch *f, struct mailbox *mb, PGconn *conn, char *err, size_t errlen)
{
    struct bounce_fetch_stats st = { 0 };
    for (;;) {
        int r = mailbox_idle(mb, IDLE_MAX_S, err, errlen);
        if (r == 2)
            return 0;
        if (r < 0 || passes(mb, conn, &f->cfg, &st, err, errlen) < 0)
            return -1;
        summary(f, &st);
    }
}

static void *fetch_main(void *arg)
{
    struct bounce_fetch *f = arg;
    PGconn *conn = NULL;
    char err[700], last[700] = "";
    uint32_t uidvalidity = 0;
    bool stop = false, said_no_idle = false;
    while (!stop) {
        struct bounce_fetch_stats st = { 0 };
        struct mailbox *mb = NULL;
        int rc = -1;
        if (!conn)
            conn = pg_connect(f->conninfo, err, sizeof(err));
        if (conn && (mb = mailbox_open(&f->cfg.opts, err, sizeof(err)))) {
            uidvalidity_note(f, mailbox_uidvalidity(mb), &uidvalidity);
            rc = passes(mb, conn, &f->cfg, &st, err, sizeof(err));
            summary(f, &st);
            if (rc == 0 && !mailbox_can_idle(mb) && !said_no_idle) {
                log_info("bounce: mailbox %s: the server offers no IDLE: read every %u s", f->cfg.url_text,
                         f->cfg.interval_s);
                said_no_idle = true;
            }
            if (rc == 0 && mailbox_can_idle(mb)) {
                last[0] = 0;
                rc = idle_loop(f, mb, conn, err, sizeof(err));
                stop = rc == 0;
            }
            mailbox_close(mb);
        }
        if (rc < 0) {
            if (strcmp(err, last) != 0)
                log_warn("bounce: mailbox %s: %s (trying again every %u s)", f->cfg.url_text, err, f->cfg.interval_s);
            snprintf(last, sizeof(last), "%s", err);
            if (conn && PQstatus(conn) != CONNECTION_OK) {
                PQfinish(conn);
                conn = NULL;
            }
        } else {
            last[0] = 0;
        }
        if (!stop)
            stop = wait_or_stop(f, f->cfg.interval_s);
    }
    if (conn)
        PQfinish(conn);
    return NULL;
}

/* bounce_fetch_start - see bounce_fetch.h. */
struct bounce_fetch *bounce_fetch_start(const char *conninfo, const struct bounce_fetch_config *cfg, char *err,
                                        size_t errlen)
{
    struct bounce_fetch *f = xcalloc(1, sizeof(*f));
    if (pipe2(f->stop_pipe, O_CLOEXEC | O_NONBLOCK) < 0) {
        snprintf(err, errlen, "cannot start the mailbox reader: %s", strerror(errno));
        xfree(f);
        return NULL;
    }
    f->conninfo = xstrdup(conninfo ? conninfo : "");
    f->cfg = *cfg;
    f->cfg.opts.url = &f->cfg.url;
    f->cfg.opts.password = f->cfg.password;
    f->cfg.opts.stop_fd = f->stop_pipe[0];
    int rc = pthread_create(&f->thread, NULL, fetch_main, f);
    if (rc != 0) {
        snprintf(err, errlen, "cannot start the mailbox reader: %s", strerror(rc));
        close(f->stop_pipe[0]);
        close(f->stop_pipe[1]);
        explicit_bzero(f->cfg.password, sizeof(f->cfg.password));
        xfree(f->conninfo);
        xfree(f);
        return NULL;
    }
    log_info("bounce: reading mailbox %s", cfg->url_text);
    return f;
}

/* bounce_fetch_stop - see bounce_fetch.h. */
void bounce_fetch_stop(struct bounce_fetch *f)
{
    if (!f)
        return;
    (void)!write(f->stop_pipe[1], "x", 1);
    pthread_join(f->thread, NULL);
    close(f->stop_pipe[0]);
    close(f->stop_pipe[1]);
    explicit_bzero(f->cfg.password, sizeof(f->cfg.password));
    xfree(f->conninfo);
    xfree(f);
}
