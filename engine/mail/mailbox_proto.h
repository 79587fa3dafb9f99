/*
 * mailbox_proto - what a bounce mailbox's server says, read as data: IMAP
 * response lines and POP3 lines, and the [bounce] mailbox URL. No I/O.
 *
 * mailbox_url_parse     "imaps://user@host:993/INBOX" into its parts; -1 with a reason
 * imap_resp_parse       one IMAP response line (without its CRLF) into a struct imap_resp
 * imap_caps_parse       the capability words of a CAPABILITY line or [CAPABILITY ...] code
 * imap_fetch_parse      UID, RFC822.SIZE and the body literal of a FETCH response's line
 * imap_quote            a string as an IMAP quoted string; -1 for CR, LF or NUL in it
 * pop3_status_parse     "+OK ..." (1) or "-ERR ..." (0), else -1
 * pop3_pair_parse       "N WORD" of a LIST or UIDL listing
 * pop3_unstuff          a multi-line response's line: 1 the final ".", 0 data (dot removed)
 *
 * Everything here reads untrusted input (the server is not trusted): lengths
 * are bounded, numbers are checked for overflow, and nothing reads past LEN.
 * The reasons returned are static strings.
 */
#ifndef POSTINO_MAIL_MAILBOX_PROTO_H
#define POSTINO_MAIL_MAILBOX_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/util/buf.h"

#define MAILBOX_LINE_MAX 8192   /* a response line longer than this is refused */

enum mailbox_proto { MAILBOX_IMAP, MAILBOX_POP3 };

struct mailbox_url {
    enum mailbox_proto proto;
    bool implicit_tls;   /* imaps, pop3s; else STARTTLS / STLS is required */
    char user[256];
    char host[256];
    unsigned port;
    char folder[256];    /* IMAP's; "INBOX" when the URL names none; "" for POP3 */
};

/* mailbox_url_parse - URL into *U: 0, or -1 with *WHY saying what is wrong. */
int mailbox_url_parse(const char *url, struct mailbox_url *u, const char **why);

enum imap_kind { IMAP_UNTAGGED, IMAP_CONTINUE, IMAP_TAGGED };
enum imap_status { IMAP_NONE, IMAP_OK, IMAP_NO, IMAP_BAD, IMAP_BYE, IMAP_PREAUTH };

struct imap_resp {
    enum imap_kind kind;
    char tag[32];              /* IMAP_TAGGED */
    enum imap_status status;   /* OK/NO/BAD/BYE/PREAUTH, or IMAP_NONE */
    bool has_number;           /* "* 12 EXISTS": number 12, word EXISTS */
    uint32_t number;
    char word[32];             /* the keyword after "*" or "* N", upper-cased */
    char code[32];             /* the response code's name: [UIDVALIDITY 5] -> UIDVALIDITY */
    uint32_t code_number;      /* its number when it has one */
    const char *code_args;     /* the code's arguments in the line (capabilities), or NULL */
    size_t code_args_len;
    const char *text;          /* what follows the status, code and keyword */
    bool has_literal;          /* the line ends with {N}: N bytes follow */
    uint64_t literal;
};

/* imap_resp_parse - LINE (LEN bytes, no CRLF) into *R: 0, or -1 when it is not an IMAP response. */
int imap_resp_parse(const char *line, size_t len, struct imap_resp *r);

enum {
    IMAP_CAP_IDLE = 1 << 0,
    IMAP_CAP_MOVE = 1 << 1,
    IMAP_CAP_UIDPLUS = 1 << 2,
    IMAP_CAP_STARTTLS = 1 << 3,
    IMAP_CAP_LOGINDISABLED = 1 << 4,
    IMAP_CAP_IMAP4REV1 = 1 << 5,
};

/* imap_caps_parse - the IMAP_CAP_* bits named in the LEN bytes at WORDS (space-separated). */
unsigned imap_caps_parse(const char *words, size_t len);

struct imap_fetch {
    bool has_uid, has_size, has_body;
    uint32_t uid;
    uint64_t size;       /* RFC822.SIZE */
    uint64_t literal;    /* the body's length: its bytes follow the line */
};

/* imap_fetch_parse - the attributes in TEXT (after "* N FETCH") of LEN bytes: 0, or -1 when malformed. */
int imap_fetch_parse(const char *text, size_t len, bool has_literal, uint64_t literal, struct imap_fetch *f);

/* imap_quote - append S as a quoted string ("a\"b") to OUT: 0, or -1 (nothing appended) for CR, LF or NUL. */
int imap_quote(struct buf *out, const char *s);

/* pop3_status_parse - 1 for "+OK", 0 for "-ERR" (LINE of LEN bytes), -1 for anything else; *TEXT the rest. */
int pop3_status_parse(const char *line, size_t len, const char **text);

/* pop3_pair_parse - "N WORD": *N and WORD (at most WORDLEN-1 bytes, printable) into WORD: 0 or -1. */
int pop3_pair_parse(const char *line, size_t len, uint32_t *n, char *word, size_t wordlen);

/* pop3_unstuff - a multi-line response's LINE: 1 when it is the final ".", else 0 with *DATA, *DLEN the line unstuffed. */
int pop3_unstuff(const char *line, size_t len, const char **data, size_t *dlen);

#endif
