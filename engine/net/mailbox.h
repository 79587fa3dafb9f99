/*
 * mailbox - a small blocking IMAP and POP3 client over TLS, for reading a
 * bounce mailbox on a thread of its own (never on a libuv loop).
 *
 * mailbox_open      connect (implicit TLS or STARTTLS/STLS, the certificate
 *                   verified), log in, select the folder; NULL with ERR
 * mailbox_pass      read the messages there (at most MAILBOX_PASS_MAX), hand each
 *                   to a callback, remove (move or delete) those it is done with
 * mailbox_idle      IMAP IDLE: wait for new mail, for a timeout or for STOP_FD
 * mailbox_can_idle  whether the server offered IDLE (POP3: never)
 * mailbox_uidvalidity  the selected folder's UIDVALIDITY (IMAP; 0 for POP3)
 * mailbox_close     log out (POP3: QUIT, which is when deletions take effect), free
 *
 * A message is removed only after its callback returned 0, and only in a
 * later command: IMAP moves or deletes the done messages in groups (UID MOVE,
 * else UID COPY and \Deleted and EXPUNGE), POP3 marks them (DELE) and QUIT
 * removes them. Every wait on the server is bounded by TIMEOUT_S; a message
 * larger than MAX_SIZE is never held whole: its first HEAD_BYTES are handed
 * over with too_large set. The server is untrusted: its lines are parsed by
 * mailbox_proto. Errors are one line in ERR naming the server's words; the
 * password never appears in them or in any log.
 */
#ifndef POSTINO_NET_MAILBOX_H
#define POSTINO_NET_MAILBOX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/mail/mailbox_proto.h"

#define MAILBOX_PASS_MAX 1000     /* messages read in one pass, at most */
#define MAILBOX_REMOVE_GROUP 100  /* done messages removed together, at most */

struct mailbox_opts {
    const struct mailbox_url *url;
    const char *password;
    const char *ca_file;      /* NULL: the system's trust store */
    const char *move_to;      /* IMAP: the folder done messages go to; NULL: deleted */
    size_t max_size;          /* larger messages are handed over as their head */
    size_t head_bytes;        /* how much of such a message */
    unsigned timeout_s;       /* any one wait on the server */
    int stop_fd;              /* readable: mailbox_idle returns (-1: none) */
};

struct mailbox_msg {
    char id[64];              /* "UIDVALIDITY/UID" (IMAP) or the UIDL (POP3), for logs */
    const char *data;         /* the message as the server sent it, or its head */
    size_t len;
    uint64_t size;            /* the whole message's size as the server gave it */
    bool too_large;
};

/* a message read: 0 done with it (it is removed), 1 leave it there, -1 stop the pass (leave it and the rest) */
typedef int (*mailbox_msg_fn)(void *arg, const struct mailbox_msg *m);

struct mailbox;

struct mailbox *mailbox_open(const struct mailbox_opts *o, char *err, size_t errlen);

/*
 * mailbox_pass - one pass over the folder. 0 when every message there was
 * read, 1 when more remain (MAILBOX_PASS_MAX reached: call again; POP3:
 * reopen), -2 when the callback stopped it, -1 with ERR on a mailbox error
 * (the session is then unusable). *READ and *REMOVED count the messages.
 * POP3's session ends with its pass (QUIT).
 */
int mailbox_pass(struct mailbox *mb, mailbox_msg_fn fn, void *arg, unsigned *read, unsigned *removed, char *err,
                 size_t errlen);

/* mailbox_idle - 1 new mail, 0 SECONDS passed, 2 STOP_FD became readable, -1 with ERR. */
int mailbox_idle(struct mailbox *mb, unsigned seconds, char *err, size_t errlen);
bool mailbox_can_idle(const struct mailbox *mb);
uint32_t mailbox_uidvalidity(const struct mailbox *mb);
void mailbox_close(struct mailbox *mb);

/*
 * mailbox__open_fd - a session on the connected socket FD with no TLS at
 * all and every wait bounded by TIMEOUT_MS (0: what has arrived only), for
 * the fuzz target and tests; the session closes FD. Never for a real server.
 */
struct mailbox *mailbox__open_fd(const struct mailbox_opts *o, int fd, unsigned timeout_ms, char *err, size_t errlen);

#endif
