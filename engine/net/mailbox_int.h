/*
 * mailbox_int - what the files of the mailbox client share (see mailbox.h):
 * the session, the connection's reading and writing (mailbox_conn.c), and
 * each protocol's open and pass (mailbox_imap.c, mailbox_pop3.c).
 *
 * mailbox__fail      format a one-line error into ERR; -1
 * mailbox__said      the server's words, printable and short, for an error line
 * mailbox__deadline  a deadline MS from now; mailbox__ms_left what is left of one
 * mailbox__connect   the TCP connection, bounded by the timeout
 * mailbox__tls       the TLS handshake, the certificate verified for the host
 * mailbox__write     send plaintext
 * mailbox__fill      read what the socket has: 0, 1 timed out, 2 stopped, -1
 * mailbox__line      the next line, without its CRLF (bounded by MAILBOX_LINE_MAX)
 * mailbox__bytes     N bytes, the first KEEP of them kept
 */
#ifndef POSTINO_NET_MAILBOX_INT_H
#define POSTINO_NET_MAILBOX_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <openssl/ssl.h>

#include "engine/net/mailbox.h"
#include "engine/net/tls.h"
#include "engine/util/buf.h"

#define LITERAL_SKIP_MAX (1u << 20)   /* a literal nobody asked for, read and dropped, at most */

struct mailbox {
    struct mailbox_opts o;
    int fd;
    SSL_CTX *ctx;
    struct tls_conn *tls;
    struct buf in;        /* plaintext read and not yet taken */
    size_t off;           /* taken up to here */
    struct buf raw, out;  /* scratch for the socket's bytes */
    unsigned timeout_ms;  /* any one wait on the server */
    bool watch_stop;      /* a read also returns when stop_fd is readable */
    bool stopped, closed;
    /* IMAP */
    unsigned caps, tag;
    uint32_t exists, uidvalidity;
    bool uidvalidity_changed, new_mail;
    struct buf body;      /* the literal of the message being fetched */
    bool body_seen;
    uint64_t body_len;
    struct fetch_item {
        uint32_t uid;
        uint64_t size;
    } *items;
    size_t nitems;
    char code[32];        /* the tagged response's code, e.g. TRYCREATE */
};

int mailbox__fail(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
const char *mailbox__said(const char *s, size_t len, char *out, size_t outlen);
int mailbox__ms_left(const struct timespec *deadline);
void mailbox__deadline(struct timespec *d, unsigned ms);
int mailbox__connect(struct mailbox *mb, char *err, size_t errlen);
int mailbox__tls(struct mailbox *mb, char *err, size_t errlen);
int mailbox__write(struct mailbox *mb, const char *p, size_t len, char *err, size_t errlen);
int mailbox__fill(struct mailbox *mb, const struct timespec *deadline, char *err, size_t errlen);
int mailbox__line(struct mailbox *mb, const char **line, size_t *len, char *err, size_t errlen);
int mailbox__bytes(struct mailbox *mb, uint64_t n, struct buf *out, size_t keep, char *err, size_t errlen);

int mailbox__imap_open(struct mailbox *mb, char *err, size_t errlen);
int mailbox__imap_pass(struct mailbox *mb, mailbox_msg_fn fn, void *arg, unsigned *nread, unsigned *removed,
                       char *err, size_t errlen);
void mailbox__imap_logout(struct mailbox *mb, char *err, size_t errlen);
int mailbox__pop3_open(struct mailbox *mb, char *err, size_t errlen);
int mailbox__pop3_pass(struct mailbox *mb, mailbox_msg_fn fn, void *arg, unsigned *nread, unsigned *removed,
                       char *err, size_t errlen);

#endif
