/*
 * mailbox - the IMAP and POP3 client of the bounce mailbox (see mailbox.h): a
 * session opened, read and closed; the connection is mailbox_conn.c's, the
 * protocols mailbox_imap.c's and mailbox_pop3.c's.
 */
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "engine/net/mailbox_int.h"
#include "engine/util/alloc.h"
#include "engine/util/buf.h"

/* a session with O, its defaults filled in */
static struct mailbox *mailbox_new(const struct mailbox_opts *o)
{
    struct mailbox *mb = xcalloc(1, sizeof(*mb));
    mb->o = *o;
    mb->fd = -1;
    if (!mb->o.timeout_s)
        mb->o.timeout_s = 60;
    mb->timeout_ms = mb->o.timeout_s * 1000;
    if (!mb->o.head_bytes || mb->o.head_bytes > mb->o.max_size)
        mb->o.head_bytes = mb->o.max_size;
    return mb;
}

/* the protocol's greeting, login and selection after RC (the connection's outcome); NULL when any failed */
static struct mailbox *mailbox_greet(struct mailbox *mb, int rc, char *err, size_t errlen)
{
    if (rc == 0)
        rc = mb->o.url->proto == MAILBOX_IMAP ? mailbox__imap_open(mb, err, errlen) : mailbox__pop3_open(mb, err, errlen);
    if (rc < 0) {
        mb->closed = true;
        mailbox_close(mb);
        return NULL;
    }
    return mb;
}

/* mailbox_open - see mailbox.h. */
struct mailbox *mailbox_open(const struct mailbox_opts *o, char *err, size_t errlen)
{
    struct mailbox *mb = mailbox_new(o);
    char why[300];
    mb->ctx = tls_ctx_new(o->ca_file, why, sizeof(why));
    int rc = mb->ctx ? mailbox__connect(mb, err, errlen) : mailbox__fail(err, errlen, "%s", why);
    if (rc == 0 && o->url->implicit_tls)
        rc = mailbox__tls(mb, err, errlen);
    return mailbox_greet(mb, rc, err, errlen);
}

/* mailbox__open_fd - see mailbox.h. */
struct mailbox *mailbox__open_fd(const struct mailbox_opts *o, int fd, unsigned timeout_ms, char *err, size_t errlen)
{
    struct mailbox *mb = mailbox_new(o);
    mb->fd = fd;
    mb->timeout_ms = timeout_ms;
    return mailbox_greet(mb, 0, err, errlen);
}

/* mailbox_pass - see mailbox.h. */
int mailbox_pass(struct mailbox *mb, mailbox_msg_fn fn, void *arg, unsigned *nread, unsigned *removed, char *err,
                 size_t errlen)
{
    *nread = *removed = 0;
    return mb->o.url->proto == MAILBOX_IMAP ? mailbox__imap_pass(mb, fn, arg, nread, removed, err, errlen)
                                            : mailbox__pop3_pass(mb, fn, arg, nread, removed, err, errlen);
}

/* mailbox_can_idle - see mailbox.h. */
bool mailbox_can_idle(const struct mailbox *mb)
{
    return mb->o.url->proto == MAILBOX_IMAP && (mb->caps & IMAP_CAP_IDLE);
}

/* mailbox_uidvalidity - see mailbox.h. */
uint32_t mailbox_uidvalidity(const struct mailbox *mb)
{
    return mb->uidvalidity;
}

/* mailbox_close - see mailbox.h. */
void mailbox_close(struct mailbox *mb)
{
    if (!mb)
        return;
    if (!mb->closed && mb->fd >= 0) {
        char msg[300];
        mb->timeout_ms = mb->timeout_ms < 5000 ? mb->timeout_ms : 5000;
        if (mb->o.url->proto == MAILBOX_IMAP)
            mailbox__imap_logout(mb, msg, sizeof(msg));
        /* POP3 without its pass: no QUIT, so that nothing marked is removed */
    }
    if (mb->tls) {
        tls_conn_shutdown(mb->tls);
        buf_reset(&mb->out);
        tls_conn_output(mb->tls, &mb->out);
        if (mb->out.len && mb->fd >= 0)
            (void)!send(mb->fd, mb->out.data, mb->out.len, MSG_NOSIGNAL | MSG_DONTWAIT);
        tls_conn_free(mb->tls);
    }
    if (mb->fd >= 0)
        close(mb->fd);
    if (mb->ctx)
        tls_ctx_free(mb->ctx);
    buf_free(&mb->in);
    buf_free(&mb->raw);
    buf_free(&mb->out);
    buf_free(&mb->body);
    xfree(mb->items);
    xfree(mb);
}
