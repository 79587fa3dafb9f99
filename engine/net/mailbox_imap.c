/*
 * mailbox_imap - the mailbox client's IMAP: CAPABILITY, STARTTLS, LOGIN,
 * SELECT (UIDVALIDITY noted), a pass by UID (sizes first, then each body or
 * the head of one too large), UID MOVE or COPY/STORE/EXPUNGE, IDLE.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "engine/mail/mailbox_proto.h"
#include "engine/net/mailbox_int.h"
#include "engine/util/alloc.h"
#include "engine/util/buf.h"

/* handle one untagged response R (its literal, if any, read here) */
static int imap_untagged(struct mailbox *mb, const struct imap_resp *r, char *err, size_t errlen)
{
    if (r->status == IMAP_BYE)
        return mailbox__fail(err, errlen, "the server closed the session: %s", r->text);
    if (strcmp(r->code, "CAPABILITY") == 0)
        mb->caps = imap_caps_parse(r->code_args, r->code_args_len);
    if (strcmp(r->code, "UIDVALIDITY") == 0) {
        if (mb->uidvalidity && r->code_number != mb->uidvalidity)
            mb->uidvalidity_changed = true;
        mb->uidvalidity = r->code_number;
    }
    if (r->status == IMAP_NONE && strcmp(r->word, "CAPABILITY") == 0)
        mb->caps = imap_caps_parse(r->text, strlen(r->text));
    if (r->has_number && strcmp(r->word, "EXISTS") == 0) {
        if (r->number > mb->exists)
            mb->new_mail = true;
        mb->exists = r->number;
    }
    if (r->has_number && strcmp(r->word, "EXPUNGE") == 0 && mb->exists > 0)
        mb->exists--;
    if (r->has_number && strcmp(r->word, "FETCH") == 0) {
        struct imap_fetch f;
        if (imap_fetch_parse(r->text, strlen(r->text), r->has_literal, r->literal, &f) < 0)
            return mailbox__fail(err, errlen, "the server sent a FETCH response postino cannot read");
        if (f.has_body) {
            uint64_t limit = mb->o.max_size + 1024;
            if (f.literal > limit)
                return mailbox__fail(err, errlen, "the server sent %llu bytes for a message it said was smaller",
                            (unsigned long long)f.literal);
            buf_reset(&mb->body);
            if (mailbox__bytes(mb, f.literal, &mb->body, (size_t)f.literal, err, errlen) < 0)
                return -1;
            mb->body_seen = true;
            mb->body_len = f.literal;
            return 1;   /* the literal is taken */
        }
        if (f.has_uid && f.has_size && mb->items && mb->nitems < MAILBOX_PASS_MAX) {
            mb->items[mb->nitems].uid = f.uid;
            mb->items[mb->nitems].size = f.size;
            mb->nitems++;
        }
    }
    return 0;
}

/*
 * send one tagged command (FMT, arguments) and read responses up to its
 * tagged answer: 0 OK, 1 NO or BAD (the server's words in ERR, its code in
 * mb->code), -1 on a connection or protocol error. SHOW is the command as it
 * may appear in an error (never the LOGIN line).
 */
static int imap_cmd(struct mailbox *mb, const char *show, char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
static int imap_cmd(struct mailbox *mb, const char *show, char *err, size_t errlen, const char *fmt, ...)
{
    struct buf cmd = BUF_INIT;
    char tag[16], w[256];
    va_list ap;
    snprintf(tag, sizeof(tag), "p%u", ++mb->tag);
    buf_appendf(&cmd, "%s ", tag);
    va_start(ap, fmt);
    buf_vappendf(&cmd, fmt, ap);
    va_end(ap);
    buf_appends(&cmd, "\r\n");
    int rc = mailbox__write(mb, cmd.data, cmd.len, err, errlen);
    explicit_bzero(cmd.data, cmd.len);
    buf_free(&cmd);
    if (rc < 0)
        return -1;
    for (;;) {
        const char *line;
        size_t len;
        struct imap_resp r;
        if (mailbox__line(mb, &line, &len, err, errlen) < 0)
            return -1;
        char copy[MAILBOX_LINE_MAX + 1];
        memcpy(copy, line, len);
        copy[len] = 0;
        if (imap_resp_parse(copy, len, &r) < 0)
            return mailbox__fail(err, errlen, "the server's answer to %s is not IMAP: %s", show, mailbox__said(line, len, w, sizeof(w)));
        if (r.kind == IMAP_TAGGED) {
            if (strcmp(r.tag, tag) != 0)
                return mailbox__fail(err, errlen, "the server answered a command never sent (%s)", r.tag);
            snprintf(mb->code, sizeof(mb->code), "%s", r.code);
            if (r.status == IMAP_OK)
                return 0;
            snprintf(err, errlen, "%s", mailbox__said(r.text, strlen(r.text), w, sizeof(w)));
            return 1;
        }
        if (r.kind == IMAP_CONTINUE)
            return mailbox__fail(err, errlen, "the server asked for more of %s", show);
        int took = imap_untagged(mb, &r, err, errlen);
        if (took < 0)
            return -1;
        /* a literal this code did not ask for is read and dropped, then the rest of its line */
        bool lit = r.has_literal && took == 0;
        uint64_t n = r.literal;
        for (;;) {
            if (lit) {
                if (n > LITERAL_SKIP_MAX)
                    return mailbox__fail(err, errlen, "the server sent an unexpected literal of %llu bytes",
                                (unsigned long long)n);
                if (mailbox__bytes(mb, n, NULL, 0, err, errlen) < 0)
                    return -1;
            } else if (!r.has_literal) {
                break;
            }
            if (mailbox__line(mb, &line, &len, err, errlen) < 0)
                return -1;
            struct imap_resp rest = { 0 };
            memcpy(copy, line, len);
            copy[len] = 0;
            if (len >= 3 && copy[len - 1] == '}') {
                imap_resp_parse(copy, len, &rest);
                lit = rest.has_literal;
                n = rest.literal;
                if (lit)
                    continue;
            }
            break;
        }
    }
}

/* mailbox__imap_open - see mailbox_int.h. */
int mailbox__imap_open(struct mailbox *mb, char *err, size_t errlen)
{
    const char *line;
    size_t len;
    struct imap_resp r;
    char w[256], msg[300];
    if (mailbox__line(mb, &line, &len, err, errlen) < 0)
        return -1;
    char copy[MAILBOX_LINE_MAX + 1];
    memcpy(copy, line, len);
    copy[len] = 0;
    if (imap_resp_parse(copy, len, &r) < 0 || r.kind != IMAP_UNTAGGED || (r.status != IMAP_OK && r.status != IMAP_PREAUTH))
        return mailbox__fail(err, errlen, "not an IMAP server's greeting: %s", mailbox__said(line, len, w, sizeof(w)));
    int rc = imap_cmd(mb, "CAPABILITY", msg, sizeof(msg), "CAPABILITY");
    if (rc != 0)
        return mailbox__fail(err, errlen, "CAPABILITY: %s", msg);
    if (!mb->o.url->implicit_tls) {
        if (!(mb->caps & IMAP_CAP_STARTTLS))
            return mailbox__fail(err, errlen, "the server does not offer STARTTLS (and the password is never sent in clear)");
        if ((rc = imap_cmd(mb, "STARTTLS", msg, sizeof(msg), "STARTTLS")) != 0)
            return mailbox__fail(err, errlen, "STARTTLS refused: %s", msg);
        if (mailbox__tls(mb, err, errlen) < 0)
            return -1;
        mb->caps = 0;
        if (imap_cmd(mb, "CAPABILITY", msg, sizeof(msg), "CAPABILITY") != 0)
            return mailbox__fail(err, errlen, "CAPABILITY: %s", msg);
    }
    if (r.status != IMAP_PREAUTH) {
        struct buf login = BUF_INIT;
        if (imap_quote(&login, mb->o.url->user) < 0 || (buf_appendc(&login, ' '), imap_quote(&login, mb->o.password)) < 0) {
            buf_free(&login);
            return mailbox__fail(err, errlen, "the user or the password has a line break");
        }
        rc = imap_cmd(mb, "LOGIN", msg, sizeof(msg), "LOGIN %s", buf_cstr(&login));
        explicit_bzero(login.data, login.len);
        buf_free(&login);
        if (rc != 0)
            return rc < 0 ? mailbox__fail(err, errlen, "LOGIN: %s", msg) : mailbox__fail(err, errlen, "login refused: %s", msg);
        if (!(mb->caps & (IMAP_CAP_IDLE | IMAP_CAP_MOVE | IMAP_CAP_UIDPLUS)) &&
            imap_cmd(mb, "CAPABILITY", msg, sizeof(msg), "CAPABILITY") != 0)
            return mailbox__fail(err, errlen, "CAPABILITY: %s", msg);
    }
    struct buf folder = BUF_INIT;
    imap_quote(&folder, mb->o.url->folder);
    mb->uidvalidity = 0;
    rc = imap_cmd(mb, "SELECT", msg, sizeof(msg), "SELECT %s", buf_cstr(&folder));
    buf_free(&folder);
    if (rc != 0)
        return mailbox__fail(err, errlen, "cannot select %s: %s", mb->o.url->folder, msg);
    mb->uidvalidity_changed = false;
    return 0;
}

/* move or delete the done messages in SET ("4,7,9") */
static int imap_remove(struct mailbox *mb, const char *set, char *err, size_t errlen)
{
    char msg[300];
    int rc;
    if (mb->o.move_to) {
        struct buf to = BUF_INIT;
        imap_quote(&to, mb->o.move_to);
        for (int attempt = 0; attempt < 2; attempt++) {
            rc = (mb->caps & IMAP_CAP_MOVE) ? imap_cmd(mb, "UID MOVE", msg, sizeof(msg), "UID MOVE %s %s", set, buf_cstr(&to))
                                            : imap_cmd(mb, "UID COPY", msg, sizeof(msg), "UID COPY %s %s", set, buf_cstr(&to));
            if (rc == 1 && attempt == 0 && strcmp(mb->code, "TRYCREATE") == 0) {
                if (imap_cmd(mb, "CREATE", msg, sizeof(msg), "CREATE %s", buf_cstr(&to)) != 0)
                    break;
                continue;
            }
            break;
        }
        buf_free(&to);
        if (rc != 0)
            return mailbox__fail(err, errlen, "cannot move messages to %s: %s", mb->o.move_to, msg);
        if (mb->caps & IMAP_CAP_MOVE)
            return 0;
    }
    if (imap_cmd(mb, "UID STORE", msg, sizeof(msg), "UID STORE %s +FLAGS.SILENT (\\Deleted)", set) != 0)
        return mailbox__fail(err, errlen, "cannot mark messages deleted: %s", msg);
    rc = (mb->caps & IMAP_CAP_UIDPLUS) ? imap_cmd(mb, "UID EXPUNGE", msg, sizeof(msg), "UID EXPUNGE %s", set)
                                       : imap_cmd(mb, "EXPUNGE", msg, sizeof(msg), "EXPUNGE");
    return rc != 0 ? mailbox__fail(err, errlen, "cannot expunge: %s", msg) : 0;
}

/* mailbox__imap_pass - see mailbox_int.h. */
int mailbox__imap_pass(struct mailbox *mb, mailbox_msg_fn fn, void *arg, unsigned *nread, unsigned *removed, char *err,
                     size_t errlen)
{
    char msg[300];
    if (imap_cmd(mb, "NOOP", msg, sizeof(msg), "NOOP") != 0)
        return mailbox__fail(err, errlen, "NOOP: %s", msg);
    mb->new_mail = false;
    if (mb->exists == 0)
        return 0;
    uint32_t n = mb->exists < MAILBOX_PASS_MAX ? mb->exists : MAILBOX_PASS_MAX;
    bool more = mb->exists > MAILBOX_PASS_MAX;
    mb->items = xcalloc(MAILBOX_PASS_MAX, sizeof(*mb->items));
    mb->nitems = 0;
    int rc = imap_cmd(mb, "FETCH", msg, sizeof(msg), "FETCH 1:%u (UID RFC822.SIZE)", n);
    struct fetch_item *items = mb->items;
    size_t nitems = mb->nitems;
    mb->items = NULL;
    if (rc != 0) {
        xfree(items);
        return mailbox__fail(err, errlen, "FETCH: %s", msg);
    }
    struct buf set = BUF_INIT;
    unsigned in_set = 0;
    int result = more ? 1 : 0;
    for (size_t i = 0; i < nitems && result >= 0; i++) {
        bool big = items[i].size > mb->o.max_size;
        mb->body_seen = false;
        rc = big ? imap_cmd(mb, "UID FETCH", msg, sizeof(msg), "UID FETCH %u (UID BODY.PEEK[]<0.%zu>)", items[i].uid,
                            mb->o.head_bytes)
                 : imap_cmd(mb, "UID FETCH", msg, sizeof(msg), "UID FETCH %u (UID BODY.PEEK[])", items[i].uid);
        if (rc != 0) {
            result = rc < 0 ? mailbox__fail(err, errlen, "%s", msg) : mailbox__fail(err, errlen, "UID FETCH %u: %s", items[i].uid, msg);
            break;
        }
        if (mb->uidvalidity_changed) {
            result = mailbox__fail(err, errlen, "the folder's UIDVALIDITY changed: its messages are read again");
            break;
        }
        if (!mb->body_seen)
            continue;   /* gone meanwhile */
        struct mailbox_msg m = { .data = buf_cstr(&mb->body), .len = mb->body.len, .size = items[i].size,
                                 .too_large = big };
        snprintf(m.id, sizeof(m.id), "%u/%u", mb->uidvalidity, items[i].uid);
        (*nread)++;
        int x = fn(arg, &m);
        if (x < 0) {
            result = -2;
            break;
        }
        if (x == 0) {
            buf_appendf(&set, "%s%u", in_set ? "," : "", items[i].uid);
            if (++in_set == MAILBOX_REMOVE_GROUP) {
                if (imap_remove(mb, buf_cstr(&set), err, errlen) < 0) {
                    result = -1;
                    in_set = 0;
                    break;
                }
                *removed += in_set;
                buf_reset(&set);
                in_set = 0;
            }
        }
    }
    if (in_set > 0) {
        char err2[300];
        if (imap_remove(mb, buf_cstr(&set), result == -1 ? err2 : err, result == -1 ? sizeof(err2) : errlen) < 0) {
            if (result != -1)
                result = -1;
        } else {
            *removed += in_set;
        }
    }
    buf_free(&set);
    buf_free(&mb->body);
    xfree(items);
    return result;
}

/* mailbox_idle - see mailbox.h. */
int mailbox_idle(struct mailbox *mb, unsigned seconds, char *err, size_t errlen)
{
    char tag[16], w[256];
    if (!mailbox_can_idle(mb))
        return mailbox__fail(err, errlen, "the server does not offer IDLE");
    if (mb->new_mail)
        return 1;
    snprintf(tag, sizeof(tag), "p%u", ++mb->tag);
    char cmd[32];
    snprintf(cmd, sizeof(cmd), "%s IDLE\r\n", tag);
    if (mailbox__write(mb, cmd, strlen(cmd), err, errlen) < 0)
        return -1;
    const char *line;
    size_t len;
    struct imap_resp r;
    char copy[MAILBOX_LINE_MAX + 1];
    for (;;) {   /* up to "+ idling" */
        if (mailbox__line(mb, &line, &len, err, errlen) < 0)
            return -1;
        memcpy(copy, line, len);
        copy[len] = 0;
        if (imap_resp_parse(copy, len, &r) < 0)
            return mailbox__fail(err, errlen, "the server's answer to IDLE is not IMAP: %s", mailbox__said(line, len, w, sizeof(w)));
        if (r.kind == IMAP_CONTINUE)
            break;
        if (r.kind == IMAP_TAGGED)
            return mailbox__fail(err, errlen, "IDLE refused: %s", mailbox__said(r.text, strlen(r.text), w, sizeof(w)));
        if (r.has_literal || imap_untagged(mb, &r, err, errlen) < 0)
            return -1;
    }
    struct timespec dl;
    mailbox__deadline(&dl, seconds * 1000);
    int result = 0;
    mb->watch_stop = true;
    for (;;) {
        size_t avail = mb->in.len - mb->off;
        const char *nl = avail ? memchr(mb->in.data + mb->off, '\n', avail) : NULL;
        if (nl) {
            if (mailbox__line(mb, &line, &len, err, errlen) < 0) {
                result = -1;
                break;
            }
            memcpy(copy, line, len);
            copy[len] = 0;
            if (imap_resp_parse(copy, len, &r) < 0 || r.kind != IMAP_UNTAGGED || r.has_literal) {
                result = mailbox__fail(err, errlen, "unexpected while idle: %s", mailbox__said(line, len, w, sizeof(w)));
                break;
            }
            if (imap_untagged(mb, &r, err, errlen) < 0) {
                result = -1;
                break;
            }
            if (mb->new_mail) {
                result = 1;
                break;
            }
            continue;
        }
        if (avail > MAILBOX_LINE_MAX) {
            result = mailbox__fail(err, errlen, "the server sent a line longer than %d bytes", MAILBOX_LINE_MAX);
            break;
        }
        int rc = mailbox__fill(mb, &dl, err, errlen);
        if (rc < 0) {
            result = -1;
            break;
        }
        if (rc == 1)
            break;
        if (rc == 2) {
            result = 2;
            break;
        }
    }
    mb->watch_stop = false;
    if (result < 0)
        return -1;
    if (mailbox__write(mb, "DONE\r\n", 6, err, errlen) < 0)
        return -1;
    for (;;) {
        if (mailbox__line(mb, &line, &len, err, errlen) < 0)
            return -1;
        memcpy(copy, line, len);
        copy[len] = 0;
        if (imap_resp_parse(copy, len, &r) < 0 || r.has_literal)
            return mailbox__fail(err, errlen, "the server's answer to DONE is not IMAP: %s", mailbox__said(line, len, w, sizeof(w)));
        if (r.kind == IMAP_TAGGED) {
            if (strcmp(r.tag, tag) != 0 || r.status != IMAP_OK)
                return mailbox__fail(err, errlen, "IDLE ended badly: %s", mailbox__said(r.text, strlen(r.text), w, sizeof(w)));
            break;
        }
        if (imap_untagged(mb, &r, err, errlen) < 0)
            return -1;
    }
    return result == 0 && mb->new_mail ? 1 : result;
}

/* mailbox__imap_logout - LOGOUT, its answer waited for (ERR: what went wrong) */
void mailbox__imap_logout(struct mailbox *mb, char *err, size_t errlen)
{
    imap_cmd(mb, "LOGOUT", err, errlen, "LOGOUT");
}
