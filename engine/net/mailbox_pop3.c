/*
 * mailbox_pop3 - the mailbox client's POP3: STLS, USER/PASS, UIDL and LIST,
 * RETR (a message too large streamed, its head kept), DELE, and QUIT, when
 * what was marked is removed.
 */
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "engine/mail/mailbox_proto.h"
#include "engine/net/mailbox_int.h"
#include "engine/util/alloc.h"
#include "engine/util/buf.h"
#include "engine/util/str.h"

/* send LINE (CRLF added) and read the status line: 1 +OK, 0 -ERR (its text in ERR), -1 error */
static int pop3_cmd(struct mailbox *mb, const char *show, const char *line, char *err, size_t errlen)
{
    struct buf cmd = BUF_INIT;
    char w[256];
    buf_appendf(&cmd, "%s\r\n", line);
    int rc = mailbox__write(mb, cmd.data, cmd.len, err, errlen);
    explicit_bzero(cmd.data, cmd.len);
    buf_free(&cmd);
    if (rc < 0)
        return -1;
    const char *l, *text;
    size_t len;
    if (mailbox__line(mb, &l, &len, err, errlen) < 0)
        return -1;
    rc = pop3_status_parse(l, len, &text);
    if (rc < 0)
        return mailbox__fail(err, errlen, "the server's answer to %s is not POP3: %s", show, mailbox__said(l, len, w, sizeof(w)));
    if (rc == 0)
        snprintf(err, errlen, "%s", mailbox__said(text, len - (size_t)(text - l), w, sizeof(w)));
    return rc;
}

/*
 * read a multi-line response's data up to its final ".", unstuffed with CRLF
 * line ends, into OUT (at most KEEP bytes kept; NULL: dropped); *TOTAL the
 * bytes it had. A line longer than the line limit is taken in pieces.
 */
static int pop3_multiline(struct mailbox *mb, struct buf *out, size_t keep, uint64_t *total, char *err,
                          size_t errlen)
{
    struct timespec dl;
    bool line_start = true;
    *total = 0;
    mailbox__deadline(&dl, mb->timeout_ms);
    for (;;) {
        const char *p = mb->in.data + mb->off;
        size_t avail = mb->in.len - mb->off;
        const char *nl = avail ? memchr(p, '\n', avail) : NULL;
        if (!nl && avail <= MAILBOX_LINE_MAX) {
            int rc = mailbox__fill(mb, &dl, err, errlen);
            if (rc < 0)
                return -1;
            if (rc == 1)
                return mailbox__fail(err, errlen, "the server did not send the message within %u seconds", mb->o.timeout_s);
            if (rc == 0)
                mailbox__deadline(&dl, mb->timeout_ms);
            continue;
        }
        size_t n = nl ? (size_t)(nl - p) + 1 : avail;
        const char *data = p;
        size_t dlen = n;
        mb->off += n;
        if (line_start && nl) {
            size_t ln = n - 1;
            if (ln > 0 && p[ln - 1] == '\r')
                ln--;
            if (pop3_unstuff(p, ln, &data, &dlen) == 1)
                return 0;
            dlen = (size_t)(nl + 1 - data);
        } else if (line_start && n > 0 && p[0] == '.') {
            data++;
            dlen--;
        }
        line_start = nl != NULL;
        *total += dlen;
        if (out && out->len < keep)
            buf_append(out, data, dlen < keep - out->len ? dlen : keep - out->len);
    }
}

/* mailbox__pop3_open - see mailbox_int.h. */
int mailbox__pop3_open(struct mailbox *mb, char *err, size_t errlen)
{
    const char *l, *text;
    size_t len;
    char w[256], msg[300];
    if (mailbox__line(mb, &l, &len, err, errlen) < 0)
        return -1;
    if (pop3_status_parse(l, len, &text) != 1)
        return mailbox__fail(err, errlen, "not a POP3 server's greeting: %s", mailbox__said(l, len, w, sizeof(w)));
    if (!mb->o.url->implicit_tls) {
        int rc = pop3_cmd(mb, "STLS", "STLS", msg, sizeof(msg));
        if (rc != 1)
            return mailbox__fail(err, errlen, "STLS refused (and the password is never sent in clear): %s", msg);
        if (mailbox__tls(mb, err, errlen) < 0)
            return -1;
    }
    if (strpbrk(mb->o.url->user, "\r\n") || strpbrk(mb->o.password, "\r\n"))
        return mailbox__fail(err, errlen, "the user or the password has a line break");
    char *cmd = xasprintf("USER %s", mb->o.url->user);
    int rc = pop3_cmd(mb, "USER", cmd, msg, sizeof(msg));
    xfree(cmd);
    if (rc == 1) {
        cmd = xasprintf("PASS %s", mb->o.password);
        rc = pop3_cmd(mb, "PASS", cmd, msg, sizeof(msg));
        explicit_bzero(cmd, strlen(cmd));
        xfree(cmd);
    }
    if (rc != 1)
        return rc < 0 ? mailbox__fail(err, errlen, "%s", msg) : mailbox__fail(err, errlen, "login refused: %s", msg);
    return 0;
}

struct pop3_item {
    uint32_t n;
    char uidl[72];
    uint64_t size;
};

/* a listing (UIDL or LIST) into ITEMS: UIDL fills them, LIST their sizes */
static int pop3_listing(struct mailbox *mb, bool uidl, struct pop3_item *items, size_t *nitems, char *err,
                        size_t errlen)
{
    char msg[300];
    int rc = pop3_cmd(mb, uidl ? "UIDL" : "LIST", uidl ? "UIDL" : "LIST", msg, sizeof(msg));
    if (rc != 1)
        return rc < 0 ? mailbox__fail(err, errlen, "%s", msg) : mailbox__fail(err, errlen, "%s refused: %s", uidl ? "UIDL" : "LIST", msg);
    for (;;) {
        const char *l, *data;
        size_t len, dlen;
        if (mailbox__line(mb, &l, &len, err, errlen) < 0)
            return -1;
        if (pop3_unstuff(l, len, &data, &dlen) == 1)
            return 0;
        uint32_t n;
        char word[72];
        if (pop3_pair_parse(data, dlen, &n, word, sizeof(word)) < 0)
            return mailbox__fail(err, errlen, "the server's %s listing has a line postino cannot read", uidl ? "UIDL" : "LIST");
        if (uidl) {
            if (*nitems < MAILBOX_PASS_MAX) {
                items[*nitems].n = n;
                snprintf(items[*nitems].uidl, sizeof(items[*nitems].uidl), "%s", word);
                items[*nitems].size = UINT64_MAX;
                (*nitems)++;
            }
        } else {
            long v;
            if (str_parse_long(word, 0, LONG_MAX, &v) == 0)
                for (size_t i = 0; i < *nitems; i++)
                    if (items[i].n == n)
                        items[i].size = (uint64_t)v;
        }
    }
}

/* mailbox__pop3_pass - see mailbox_int.h. */
int mailbox__pop3_pass(struct mailbox *mb, mailbox_msg_fn fn, void *arg, unsigned *nread, unsigned *removed, char *err,
                     size_t errlen)
{
    char msg[300], cmd[64];
    if (mb->closed)
        return mailbox__fail(err, errlen, "a POP3 session reads its mailbox once");
    struct pop3_item *items = xcalloc(MAILBOX_PASS_MAX, sizeof(*items));
    size_t nitems = 0;
    int result = 0;
    if (pop3_listing(mb, true, items, &nitems, err, errlen) < 0 ||
        pop3_listing(mb, false, items, &nitems, err, errlen) < 0) {
        xfree(items);
        return -1;
    }
    if (nitems == MAILBOX_PASS_MAX)
        result = 1;
    unsigned marked = 0;
    for (size_t i = 0; i < nitems; i++) {
        snprintf(cmd, sizeof(cmd), "RETR %u", items[i].n);
        int rc = pop3_cmd(mb, "RETR", cmd, msg, sizeof(msg));
        if (rc == 0)
            continue;   /* gone meanwhile */
        if (rc < 0) {
            snprintf(err, errlen, "%s", msg);
            result = -1;
            break;
        }
        bool big = items[i].size > mb->o.max_size;
        uint64_t total;
        buf_reset(&mb->body);
        if (pop3_multiline(mb, &mb->body, big ? mb->o.head_bytes : mb->o.max_size, &total, err, errlen) < 0) {
            result = -1;
            break;
        }
        big = big || total > mb->o.max_size;
        struct mailbox_msg m = { .data = buf_cstr(&mb->body), .len = mb->body.len,
                                 .size = items[i].size == UINT64_MAX || total > items[i].size ? total : items[i].size,
                                 .too_large = big };
        if (big && m.len > mb->o.head_bytes)
            m.len = mb->o.head_bytes;
        snprintf(m.id, sizeof(m.id), "%s", items[i].uidl);
        (*nread)++;
        int x = fn(arg, &m);
        if (x < 0) {
            result = -2;
            break;
        }
        if (x == 0) {
            snprintf(cmd, sizeof(cmd), "DELE %u", items[i].n);
            if ((rc = pop3_cmd(mb, "DELE", cmd, msg, sizeof(msg))) != 1) {
                result = rc < 0 ? mailbox__fail(err, errlen, "%s", msg) : mailbox__fail(err, errlen, "DELE refused: %s", msg);
                break;
            }
            marked++;
        }
    }
    xfree(items);
    buf_free(&mb->body);
    if (result == -1)
        return -1;
    /* the deletions take effect at QUIT, after every row they follow was committed */
    int rc = pop3_cmd(mb, "QUIT", "QUIT", msg, sizeof(msg));
    mb->closed = true;
    if (rc != 1)
        return rc < 0 ? mailbox__fail(err, errlen, "QUIT: %s", msg) : mailbox__fail(err, errlen, "QUIT refused: %s", msg);
    *removed += marked;
    return result;
}
