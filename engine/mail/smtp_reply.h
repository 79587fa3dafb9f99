/*
 * smtp_reply - SMTP server replies and EHLO extensions, parsed (RFC 5321 4.2,
 * RFC 2034 and RFC 3463 enhanced codes, RFC 1869 EHLO).
 *
 * smtp_reply_init      make an empty reply
 * smtp_reply_free      release a reply's text
 * smtp_reply_parse     parse one complete reply at the start of a byte range
 * smtp_reply_queue_id  the queue id a server named when it accepted a message
 * smtp_reply_line      a reply on one line as it came: "535 5.7.8 Authentication failed"
 * smtp_ehlo_parse      the extensions an EHLO reply announces
 *
 * Pure functions: no I/O, no policy. Nothing here says whether a reply is a
 * bounce or a deferral (engine/mail/classify.c alone decides that).
 * smtp_reply_parse reports a malformed reply as -1; the others do not fail.
 */
#ifndef POSTINO_MAIL_SMTP_REPLY_H
#define POSTINO_MAIL_SMTP_REPLY_H

#include <stdbool.h>
#include <stddef.h>

#include "engine/util/buf.h"

/* A reply line longer than this (without its line end) is malformed. RFC 5321
 * allows 512 octets; real servers send longer ones, so we are lenient. */
#define SMTP_REPLY_LINE_MAX 4096
/* A multi-line reply with more lines than this is malformed. */
#define SMTP_REPLY_LINES_MAX 1000

struct smtp_reply {
    int code;            /* 200..599 */
    char enhanced[16];   /* "5.1.1" when the first line starts with one, else "" */
    struct buf text;     /* every line's text, enhanced code removed, joined by "\n" */
    unsigned lines;      /* how many lines the reply had */
};

/* EHLO extensions (struct smtp_ext.flags). */
enum {
    SMTP_EXT_STARTTLS = 1 << 0,
    SMTP_EXT_AUTH = 1 << 1,
    SMTP_EXT_PIPELINING = 1 << 2,
    SMTP_EXT_SIZE = 1 << 3,
    SMTP_EXT_8BITMIME = 1 << 4,
    SMTP_EXT_ENHANCEDSTATUSCODES = 1 << 5,
    SMTP_EXT_SMTPUTF8 = 1 << 6,
    SMTP_EXT_CHUNKING = 1 << 7,
    SMTP_EXT_DSN = 1 << 8,
};

/* SASL mechanisms announced with AUTH (struct smtp_ext.auth). */
enum {
    SMTP_AUTH_PLAIN = 1 << 0,
    SMTP_AUTH_LOGIN = 1 << 1,
    SMTP_AUTH_CRAM_MD5 = 1 << 2,
    SMTP_AUTH_XOAUTH2 = 1 << 3,
    SMTP_AUTH_OTHER = 1 << 4,
};

struct smtp_ext {
    unsigned flags;          /* SMTP_EXT_* */
    unsigned auth;           /* SMTP_AUTH_* */
    unsigned long long size; /* SIZE limit; 0 when SIZE was announced without one, or not at all */
};

void smtp_reply_init(struct smtp_reply *r);
void smtp_reply_free(struct smtp_reply *r);
int smtp_reply_parse(const char *data, size_t len, struct smtp_reply *r, size_t *consumed);
size_t smtp_reply_queue_id(const char *text, char *out, size_t outlen);
const char *smtp_reply_line(int code, const char *enhanced, const char *text, char *out, size_t outlen);
void smtp_ehlo_parse(const struct smtp_reply *r, struct smtp_ext *ext);

#endif
