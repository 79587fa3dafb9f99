/*
 * mime - one complete RFC 5322 / MIME message in one buffer.
 *
 * mime_build            the whole message: headers, multipart/alternative text + HTML
 * mime_strerror         the text of a mime_build error
 * mime_header_clean     a value as it goes into a header: line breaks and tabs made single spaces
 * mime_name_check       may a name given as input go into headers (no control characters)?
 * mime_header_fold      one header line, folded at whitespace to 78 columns
 * mime_header_text      an unstructured header (Subject): plain, or RFC 2047 when needed
 * mime_header_address   an address header with an optional display name
 * mime_rfc2047_encode   encoded-words (UTF-8, B or Q) for text at a given column
 * mime_date_format      an RFC 5322 date-time
 * mime_body_choose      the shortest safe transfer encoding for a text body
 * mime_body_write       a body in that encoding, CRLF line ends
 *
 * Output uses CRLF throughout; no line exceeds 998 octets and header lines
 * stay within 78 columns except where one unbreakable token is longer. Every
 * header writer passes its values through mime_header_clean first, so a line
 * break or tab in a value (a multi-line name from a CSV file, an attribute
 * rendered into the subject) is one space, never a new header. All
 * functions are thread-safe (no mutable shared state; randomness from a
 * per-thread pool filled by getrandom). mime_build returns 0 or a negative MIME_E* code, leaving OUT as
 * it was on error; the others cannot fail.
 */
#ifndef POSTINO_MAIL_MIME_H
#define POSTINO_MAIL_MIME_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "engine/util/buf.h"

#define MIME_LINE_FOLD 78
#define MIME_DATE_MAX 40

enum {
    MIME_EHEADER = -1,   /* a machine-made header value (URL, List-Id, extra header) with a control character,
                            blank or overlong token, or a bad extra header name */
    MIME_EUTF8 = -2,     /* a subject or display name that is not UTF-8 */
    MIME_EADDR = -3,     /* a missing or malformed address */
    MIME_ENOBODY = -4,   /* neither HTML nor text */
    MIME_EFROMNAME = -5, /* the From display name holds a control character (other than a line break or tab) */
    MIME_ETONAME = -6,   /* the recipient's name holds one */
    MIME_ESUBJECT = -7,  /* the subject holds one */
    MIME_ELISTNAME = -8, /* the list name holds one */
};

enum mime_cte { MIME_CTE_AUTO = 0, MIME_7BIT, MIME_QP, MIME_BASE64 };

struct mime_header {
    const char *name;
    const char *value; /* UTF-8; RFC 2047-encoded when not ASCII */
};

struct mime_message {
    const char *from_name;               /* display name (UTF-8) or NULL */
    const char *from_addr;               /* required */
    const char *to_name;                 /* the subscriber's name or NULL */
    const char *to_addr;                 /* required */
    const char *subject;                 /* UTF-8; NULL is empty */
    const char *reply_to;                /* address or NULL */
    const char *list_unsubscribe_url;    /* https URL for List-Unsubscribe (+ One-Click) or NULL */
    const char *list_unsubscribe_mailto; /* address or "mailto:" URL, or NULL */
    const char *list_name;               /* List-Id phrase (UTF-8) or NULL */
    const char *list_id;                 /* List-Id identifier "listid.domain"; NULL: no List-Id */
    const char *delivery_id;             /* X-Postino-Delivery value or NULL */
    const char *message_id_domain;       /* NULL: the From address's domain */
    time_t date;                         /* 0: now */
    const char *html;                    /* HTML body (UTF-8) or NULL */
    size_t html_len;
    const char *text;                    /* text body or NULL: derived from the HTML */
    size_t text_len;
    const struct mime_header *headers;   /* extra headers */
    size_t nheaders;
    enum mime_cte html_cte, text_cte;    /* MIME_QP or MIME_BASE64 to skip the choice; else chosen per body */
};

/*
 * mime_build - append the message M to OUT. With HTML the body is
 * multipart/alternative (text/plain first, derived from the HTML when M has
 * no text), with only text a single text/plain part. Returns 0, or a
 * negative MIME_E* code with OUT unchanged.
 */
int mime_build(const struct mime_message *m, struct buf *out);

/* mime_strerror - a static description of a mime_build result. */
const char *mime_strerror(int rc);

/*
 * mime_header_clean - S as it goes into a header: each run of whitespace
 * holding a CR, LF, TAB, VT or FF becomes one space, and such a run at either
 * end goes. Returns S itself when nothing changes (no allocation), else the
 * text of TMP (reset first; the caller frees TMP). NULL stays NULL. Other
 * control characters are left as they are: mime_build refuses them.
 */
const char *mime_header_clean(const char *s, struct buf *tmp);

/* What mime_name_check finds wrong. */
enum { MIME_NAME_BREAK = -1, MIME_NAME_TAB = -2, MIME_NAME_CONTROL = -3 };

/*
 * mime_name_check - the rule for a name given as input that goes into
 * headers: a From display name, a list's or a campaign's name, a
 * subscriber's name. A control character (C0 or DEL) is refused, except that
 * with BREAKS a CR, LF or TAB is allowed (a subscriber's name from a messy CSV
 * file; it is written as one space). Returns 0, or MIME_NAME_BREAK,
 * MIME_NAME_TAB or MIME_NAME_CONTROL with *WHY a static reason that follows
 * the field's name: "holds a line break", "holds a tab", "holds a control
 * character".
 */
int mime_name_check(const char *s, bool breaks, const char **why);

/* mime_header_fold - append "NAME: VALUE" CRLF, folded before whitespace to 78 columns. */
void mime_header_fold(struct buf *out, const char *name, const char *value);

/* mime_header_text - append an unstructured header, RFC 2047-encoded if VALUE needs it. */
void mime_header_text(struct buf *out, const char *name, const char *value);

/* mime_header_address - append "NAME: display <addr>" (just ADDR without a display name). */
void mime_header_address(struct buf *out, const char *name, const char *display, const char *addr);

/*
 * mime_rfc2047_encode - append LEN bytes of UTF-8 at S as encoded-words
 * ("=?UTF-8?B?…?=" or "?Q?", whichever is shorter), the first starting at
 * column COL, each at most 75 characters, lines at most 78, separated by
 * CRLF SP, never splitting a character. Returns the column after the last.
 */
size_t mime_rfc2047_encode(struct buf *out, const char *s, size_t len, size_t col);

/* mime_date_format - T as "Sat, 28 Nov 2026 08:12:43 +0000" into OUT (MIME_DATE_MAX bytes). */
void mime_date_format(char *out, time_t t);

/*
 * mime_body_choose - the transfer encoding for a text body: 7bit when it is
 * plain ASCII with short lines (and cannot contain a boundary), else
 * quoted-printable or base64, whichever comes out shorter.
 */
enum mime_cte mime_body_choose(const char *data, size_t len);

/* mime_body_write - append DATA encoded as CTE, CRLF line ends, lines <= 76. */
void mime_body_write(struct buf *out, const char *data, size_t len, enum mime_cte cte);

#endif
