/*
 * mime - build a complete message: headers (RFC 5322, 2047, 2369, 2919,
 * 8058) and a multipart/alternative body (RFC 2045/2046) in one buffer.
 *
 * Headers are written through a small folding writer that remembers the
 * last whitespace of the current line and breaks there when the line grows
 * past 78 columns. Every value goes through mime_header_clean on its way in:
 * a line break or tab in it is one space, so no value can end a header or
 * start another. Bodies are 7bit, quoted-printable or base64, chosen by one
 * scan. Boundaries start with "=_", which neither quoted-printable nor base64
 * can produce, and a 7bit body is only chosen when it does not contain it.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>

#include "engine/util/base64.h"
#include "engine/util/buf.h"
#include "engine/util/qp.h"
#include "engine/util/str.h"
#include "engine/mail/html2text.h"
#include "engine/mail/mime.h"

#define TOKEN_MAX 900     /* longest unbreakable run allowed in a header value */
#define EW_MAX 75         /* RFC 2047 encoded-word length limit */
#define EW_OVERHEAD 12    /* "=?UTF-8?B?" and "?=" */

static const char hexdig[] = "0123456789ABCDEF";

/* ---- header writer ---- */

struct hw {
    struct buf *out;
    size_t line;    /* offset where the current line starts */
    size_t last_ws; /* offset of the last foldable whitespace, or SIZE_MAX */
};

static void hw_begin(struct hw *h, struct buf *out, const char *name)
{
    h->out = out;
    h->line = out->len;
    h->last_ws = SIZE_MAX;
    buf_appends(out, name);
    buf_append(out, ": ", 2);
}

/* hw_fold - break the line before the whitespace at LAST_WS. */
static void hw_fold(struct hw *h)
{
    struct buf *b = h->out;
    size_t at = h->last_ws;
    buf_reserve(b, 2);
    memmove(b->data + at + 2, b->data + at, b->len - at);
    b->data[at] = '\r';
    b->data[at + 1] = '\n';
    b->len += 2;
    b->data[b->len] = 0;
    h->line = at + 2;
    h->last_ws = SIZE_MAX;
}

/* hw_append - append N bytes of header text (no CR or LF), folding as needed. */
static void hw_append(struct hw *h, const char *s, size_t n)
{
    struct buf *b = h->out;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == ' ' || c == '\t') {
            if (b->len - h->line > MIME_LINE_FOLD && h->last_ws != SIZE_MAX)
                hw_fold(h);
            h->last_ws = b->len;
        }
        buf_appendc(b, c);
    }
    if (b->len - h->line > MIME_LINE_FOLD && h->last_ws != SIZE_MAX)
        hw_fold(h);
}

static void hw_appends(struct hw *h, const char *s)
{
    hw_append(h, s, strlen(s));
}

/* hw_encoded - append encoded-words for S; no fold point inside them. */
static void hw_encoded(struct hw *h, const char *s, size_t n)
{
    if (h->last_ws != SIZE_MAX && h->out->len - h->line > MIME_LINE_FOLD - 20)
        hw_fold(h);
    size_t col = mime_rfc2047_encode(h->out, s, n, h->out->len - h->line);
    h->line = h->out->len - col;
    h->last_ws = SIZE_MAX;
}

static void hw_end(struct hw *h)
{
    if (h->out->len - h->line > MIME_LINE_FOLD && h->last_ws != SIZE_MAX)
        hw_fold(h);
    buf_append(h->out, "\r\n", 2);
}

/* ---- RFC 2047 ---- */

/* q_safe - may byte C stand for itself in a Q-encoded word in a phrase (RFC 2047 5(3))? */
static bool q_safe(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '!' ||
           c == '*' || c == '+' || c == '-' || c == '/' || c == ' ';
}

static size_t utf8_char_len(const char *s, size_t left)
{
    size_t k = 1;
    while (k < left && ((unsigned char)s[k] & 0xC0) == 0x80)
        k++;
    return k;
}

/* mime_rfc2047_encode - encoded-words for S starting at column COL; returns the end column. */
size_t mime_rfc2047_encode(struct buf *out, const char *s, size_t len, size_t col)
{
    size_t qlen = 0;
    for (size_t i = 0; i < len; i++)
        qlen += q_safe((unsigned char)s[i]) ? 1 : 3;
    bool b64 = base64_encoded_len(len) < qlen;
    size_t i = 0;
    do {
        size_t room = MIME_LINE_FOLD > col ? MIME_LINE_FOLD - col : 0;
        if (room > EW_MAX)
            room = EW_MAX;
        if (room < EW_OVERHEAD + 12 && col > 1) {
            buf_append(out, "\r\n ", 3);
            col = 1;
            continue;
        }
        size_t payload = room - EW_OVERHEAD, used = 0, j = i;
        size_t sp_j = 0, sp_used = 0; /* the word up to and including its last space */
        while (j < len) {
            size_t k = utf8_char_len(s + j, len - j), w;
            if (b64) {
                w = base64_encoded_len(j + k - i) - used;
            } else {
                w = 0;
                for (size_t x = 0; x < k; x++)
                    w += q_safe((unsigned char)s[j + x]) ? 1 : 3;
            }
            if (used + w > payload && j > i)
                break;
            used += w;
            j += k;
            if (s[j - 1] == ' ')
                sp_j = j, sp_used = used;
        }
        /* end a word that is not the last after a space, so that decoders that
           wrongly keep the whitespace between encoded-words (Python's
           phrase parser) split between words rather than inside one */
        if (j < len && sp_j > i && (sp_j - i) * 2 >= j - i)
            j = sp_j, used = sp_used;
        buf_append(out, b64 ? "=?UTF-8?B?" : "=?UTF-8?Q?", 10);
        if (b64) {
            base64_encode(out, s + i, j - i);
        } else {
            for (size_t x = i; x < j; x++) {
                unsigned char c = (unsigned char)s[x];
                if (c == ' ') {
                    buf_appendc(out, '_');
                } else if (q_safe(c)) {
                    buf_appendc(out, (char)c);
                } else {
                    char e[3] = { '=', hexdig[c >> 4], hexdig[c & 15] };
                    buf_append(out, e, 3);
                }
            }
        }
        buf_append(out, "?=", 2);
        col += EW_OVERHEAD + used;
        i = j;
        if (i < len) {
            buf_append(out, "\r\n ", 3);
            col = 1;
        }
    } while (i < len);
    return col;
}

/*
 * needs_encoding - is S anything but printable ASCII words short enough to
 * fold within 78 columns, the first starting at COL? In a PHRASE, quotes and
 * backslashes count twice (they may need escaping).
 */
static bool needs_encoding(const char *s, size_t col, bool phrase)
{
    size_t run = 0, max = col + 2 < MIME_LINE_FOLD ? MIME_LINE_FOLD - col - 2 : 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p >= 0x7F || (*p < 0x20 && *p != '\t'))
            return true;
        if (p[0] == '=' && p[1] == '?')
            return true;
        run = (*p == ' ' || *p == '\t') ? 0 : run + 1 + (phrase && (*p == '"' || *p == '\\'));
        if (run > max)
            return true;
    }
    return false;
}

/* the whitespace controls a header value may bring, each run of them written as one space */
#define WS_CONTROLS "\t\n\v\f\r"

/* mime_header_clean - S with each run of whitespace holding a line break or tab made one space. */
const char *mime_header_clean(const char *s, struct buf *tmp)
{
    if (!s || !s[strcspn(s, WS_CONTROLS)])
        return s;
    buf_reset(tmp);
    buf_reserve(tmp, strlen(s));
    const char *p = s;
    while (*p) {
        size_t text = strcspn(p, " " WS_CONTROLS);
        buf_append(tmp, p, text);
        p += text;
        size_t run = strspn(p, " " WS_CONTROLS);
        if (run == 0)
            continue;
        if (strspn(p, " ") == run)
            buf_append(tmp, p, run);  /* spaces alone stay as they are */
        else if (tmp->len > 0 && p[run])
            buf_appendc(tmp, ' ');    /* one space inside; nothing at either end */
        p += run;
    }
    return buf_cstr(tmp);
}

/* mime_name_check - no control characters in a name given as input (CR, LF and TAB allowed with BREAKS). */
int mime_name_check(const char *s, bool breaks, const char **why)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p >= 0x20 && *p != 0x7F)
            continue;
        if (breaks && (*p == '\r' || *p == '\n' || *p == '\t'))
            continue;
        if (*p == '\r' || *p == '\n') {
            *why = "holds a line break";
            return MIME_NAME_BREAK;
        }
        *why = *p == '\t' ? "holds a tab" : "holds a control character";
        return *p == '\t' ? MIME_NAME_TAB : MIME_NAME_CONTROL;
    }
    return 0;
}

/* mime_header_fold - "NAME: VALUE" folded at whitespace, CRLF-terminated. */
void mime_header_fold(struct buf *out, const char *name, const char *value)
{
    struct buf tmp = BUF_INIT;
    struct hw h;
    hw_begin(&h, out, name);
    hw_appends(&h, mime_header_clean(value, &tmp));
    hw_end(&h);
    buf_free(&tmp);
}

/* mime_header_text - an unstructured header, RFC 2047-encoded when not plain ASCII. */
void mime_header_text(struct buf *out, const char *name, const char *value)
{
    struct buf tmp = BUF_INIT;
    struct hw h;
    value = mime_header_clean(value, &tmp);
    hw_begin(&h, out, name);
    if (needs_encoding(value, strlen(name) + 2, false))
        hw_encoded(&h, value, strlen(value));
    else
        hw_appends(&h, value);
    hw_end(&h);
    buf_free(&tmp);
}

/* is_atext_phrase - can DISPLAY go unquoted (atoms and single spaces)? */
static bool is_atext_phrase(const char *s)
{
    static const char specials[] = "()<>[]:;@\\,.\"";
    if (*s == ' ' || *s == 0)
        return false;
    for (; *s; s++) {
        if (strchr(specials, *s) || *s == '\t' || (s[0] == ' ' && (s[1] == ' ' || s[1] == 0)))
            return false;
    }
    return true;
}

/* hw_phrase - a display name (already through mime_header_clean): atoms, a quoted string, or encoded-words. */
static void hw_phrase(struct hw *h, const char *display)
{
    if (needs_encoding(display, h->out->len - h->line, true)) {
        hw_encoded(h, display, strlen(display));
    } else if (is_atext_phrase(display)) {
        hw_appends(h, display);
    } else {
        hw_append(h, "\"", 1);
        for (const char *p = display; *p; p++) {
            if (*p == '"' || *p == '\\')
                hw_append(h, "\\", 1);
            hw_append(h, p, 1);
        }
        hw_append(h, "\"", 1);
    }
}

/* mime_header_address - "NAME: display <addr>" or "NAME: addr". */
void mime_header_address(struct buf *out, const char *name, const char *display, const char *addr)
{
    struct buf tmp = BUF_INIT;
    struct hw h;
    display = mime_header_clean(display, &tmp);
    hw_begin(&h, out, name);
    if (display && *display) {
        hw_phrase(&h, display);
        hw_append(&h, " <", 2);
        hw_appends(&h, addr);
        hw_append(&h, ">", 1);
    } else {
        hw_appends(&h, addr);
    }
    hw_end(&h);
    buf_free(&tmp);
}

/* mime_date_format - RFC 5322 date-time of T in UTC. */
void mime_date_format(char *out, time_t t)
{
    /* a sender dates thousands of messages a second alike: each thread keeps its last one */
    static __thread time_t last_t = -1;
    static __thread char last[MIME_DATE_MAX];
    if (t == last_t && t != -1) {
        memcpy(out, last, strlen(last) + 1);
        return;
    }
    static const char days[7][4] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
    static const char months[12][4] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                        "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
    struct tm tm;
    gmtime_r(&t, &tm);
    snprintf(out, MIME_DATE_MAX, "%s, %02d %s %04d %02d:%02d:%02d +0000", days[tm.tm_wday % 7], tm.tm_mday,
             months[tm.tm_mon % 12], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
    memcpy(last, out, strlen(out) + 1);
    last_t = t;
}

/* ---- bodies ---- */

/* mime_body_choose - 7bit, quoted-printable or base64 for DATA. */
enum mime_cte mime_body_choose(const char *data, size_t len)
{
    const unsigned char *s = (const unsigned char *)data;
    bool plain = true;
    size_t qp = 0, line = 0, col = 0; /* QP estimate, QP length and characters of the line */
    size_t i = 0;
    while (i < len) {
        size_t r = i;
        while (r < len && qp_plain[s[r]])
            r++;
        line += r - i, col += r - i, i = r;
        if (i == len)
            break;
        unsigned char c = s[i];
        if (c == '\n' || (c == '\r' && i + 1 < len && s[i + 1] == '\n')) {
            if (col > 0 && (s[i - 1] == ' ' || s[i - 1] == '\t'))
                plain = false, line += 2;
            if (col > QP_LINE_MAX)
                plain = false;
            if (line > QP_LINE_MAX)
                qp += (line - 2) / (QP_LINE_MAX - 2) * 3;
            qp += line + 2;
            line = col = 0;
            i += c == '\r' ? 2 : 1;
            continue;
        }
        if (c == ' ' || c == '\t') {
            line++;
        } else {
            line += 3;
            if (c != '=' || (i + 1 < len && s[i + 1] == '_'))
                plain = false;
        }
        col++;
        i++;
    }
    if (col > QP_LINE_MAX || (col > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t')))
        plain = false;
    if (line > QP_LINE_MAX)
        qp += (line - 2) / (QP_LINE_MAX - 2) * 3;
    qp += line;
    if (plain)
        return MIME_7BIT;
    size_t b64 = base64_encoded_len(len);
    b64 += b64 / QP_LINE_MAX * 2;
    return b64 < qp ? MIME_BASE64 : MIME_QP;
}

/* body_7bit - DATA with every line break made CRLF. */
static void body_7bit(struct buf *out, const char *data, size_t len)
{
    buf_reserve(out, len * 2 + 2);
    char *o = out->data + out->len;
    for (size_t i = 0; i < len; i++) {
        if (data[i] == '\n' && (i == 0 || data[i - 1] != '\r'))
            *o++ = '\r';
        *o++ = data[i];
    }
    out->len = (size_t)(o - out->data);
    out->data[out->len] = 0;
}

/* mime_body_write - DATA in the transfer encoding CTE. */
void mime_body_write(struct buf *out, const char *data, size_t len, enum mime_cte cte)
{
    if (cte == MIME_7BIT)
        body_7bit(out, data, len);
    else if (cte == MIME_QP)
        qp_encode(out, data, len);
    else
        base64_encode_lines(out, data, len, QP_LINE_MAX);
}

static const char *cte_name(enum mime_cte cte)
{
    return cte == MIME_7BIT ? "7bit" : cte == MIME_QP ? "quoted-printable" : "base64";
}

/*
 * part_write - a part's headers and body. The body is either DATA, or (when
 * DATA is NULL) LEN bytes at offset AT of OUT itself, which must not move
 * while it is read: enough room is reserved first.
 */
static void part_write(struct buf *out, const char *type, const char *data, size_t at, size_t len, bool last,
                       enum mime_cte given)
{
    buf_reserve(out, len * 3 + len / 8 + 256);
    const char *src = data ? data : out->data + at;
    enum mime_cte cte = given == MIME_QP || given == MIME_BASE64 ? given : mime_body_choose(src, len);
    buf_append(out, "Content-Type: ", 14);
    buf_appends(out, type);
    buf_appends(out, "; charset=utf-8\r\nContent-Transfer-Encoding: ");
    buf_appends(out, cte_name(cte));
    buf_append(out, "\r\n\r\n", 4);
    src = data ? data : out->data + at;
    mime_body_write(out, src, len, cte);
    /* before a boundary the CRLF belongs to the delimiter; at the end one is enough */
    if (!last || out->len < 2 || memcmp(out->data + out->len - 2, "\r\n", 2) != 0)
        buf_append(out, "\r\n", 2);
}

/* ---- checks ---- */

/*
 * header_ok - no control characters but a tab (text, UTF8: also line breaks,
 * made spaces by mime_header_clean); ASCII only unless UTF8; no overlong token.
 */
static int header_ok(const char *s, bool utf8)
{
    if (!s)
        return 0;
    size_t run = 0, len = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++, len++) {
        if ((*p < 0x20 && *p != '\t' && !(utf8 && strchr(WS_CONTROLS, *p))) || *p == 0x7F)
            return MIME_EHEADER;
        if (*p >= 0x80 && !utf8)
            return MIME_EHEADER;
        run = (*p == ' ' || *p == '\t') ? 0 : run + 1;
        if (run > TOKEN_MAX && !utf8)
            return MIME_EHEADER;
    }
    if (utf8 && !str_utf8_valid(s, len, NULL))
        return MIME_EUTF8;
    return 0;
}

/* addr_ok - a bare address: printable ASCII without spaces, angle brackets or quotes, one @ inside. */
static bool addr_ok(const char *a)
{
    if (!a || !*a || strlen(a) > 254)
        return false;
    const char *at = strrchr(a, '@');
    if (!at || at == a || !at[1])
        return false;
    for (const unsigned char *p = (const unsigned char *)a; *p; p++)
        if (*p <= 0x20 || *p >= 0x7F || *p == '<' || *p == '>' || *p == '"' || *p == ',' || *p == '(' ||
            *p == ')' || *p == ';' || *p == '\\')
            return false;
    return true;
}

static bool name_ok(const char *n)
{
    if (!n || !*n)
        return false;
    for (; *n; n++)
        if (*n <= 0x20 || *n >= 0x7F || *n == ':')
            return false;
    return true;
}

static int message_check(const struct mime_message *m)
{
    int rc;
    if (!addr_ok(m->from_addr) || !addr_ok(m->to_addr) || (m->reply_to && !addr_ok(m->reply_to)))
        return MIME_EADDR;
    if (m->list_unsubscribe_mailto) {
        const char *a = m->list_unsubscribe_mailto;
        if (strncasecmp(a, "mailto:", 7) == 0 ? header_ok(a, false) < 0 : !addr_ok(a))
            return MIME_EADDR;
    }
    const char *utf8[] = { m->from_name, m->to_name, m->subject, m->list_name };
    static const int control[] = { MIME_EFROMNAME, MIME_ETONAME, MIME_ESUBJECT, MIME_ELISTNAME };
    for (size_t i = 0; i < sizeof(utf8) / sizeof(utf8[0]); i++)
        if ((rc = header_ok(utf8[i], true)) < 0)
            return rc == MIME_EHEADER ? control[i] : rc;
    const char *ascii[] = { m->list_unsubscribe_url, m->list_id, m->delivery_id, m->message_id_domain };
    for (size_t i = 0; i < sizeof(ascii) / sizeof(ascii[0]); i++)
        if ((rc = header_ok(ascii[i], false)) < 0 || (ascii[i] && strpbrk(ascii[i], " \t<>")))
            return MIME_EHEADER;
    for (size_t i = 0; i < m->nheaders; i++) {
        if (!name_ok(m->headers[i].name) || !m->headers[i].value)
            return MIME_EHEADER;
        if ((rc = header_ok(m->headers[i].value, true)) < 0)
            return rc;
    }
    if (!(m->html && m->html_len) && !(m->text && m->text_len))
        return MIME_ENOBODY;
    return 0;
}

/* ---- the message ---- */

/* fill P[0..N) from the kernel's generator */
static void getrandom_fill(unsigned char *p, size_t n)
{
    size_t got = 0;
    while (got < n) {
        ssize_t r = getrandom(p + got, n - got, 0);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    if (got < n) { /* no getrandom: still unique per call within this process */
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        uint64_t x = (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 30) ^ (uint64_t)(uintptr_t)p;
        for (size_t i = got; i < n; i++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            p[i] = (unsigned char)x;
        }
    }
}

/*
 * random_bytes - N random octets for boundaries and Message-IDs,
 * from this thread's pool, refilled from getrandom 4 KB at a time: one system
 * call per 170 messages instead of one per message. Each octet is used once.
 */
static void random_bytes(unsigned char *p, size_t n)
{
    static __thread unsigned char pool[4096];
    static __thread size_t left;
    if (n > sizeof(pool)) {
        getrandom_fill(p, n);
        return;
    }
    if (n > left) {
        getrandom_fill(pool, sizeof(pool));
        left = sizeof(pool);
    }
    memcpy(p, pool + sizeof(pool) - left, n);
    left -= n;
}

static void hex_put(char *dst, const unsigned char *src, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        dst[2 * i] = hexdig[src[i] >> 4];
        dst[2 * i + 1] = hexdig[src[i] & 15];
    }
    dst[2 * n] = 0;
}

static void headers_write(const struct mime_message *m, struct buf *out, time_t now, const unsigned char *rnd)
{
    char tmp[MIME_DATE_MAX];
    mime_header_address(out, "From", m->from_name, m->from_addr);
    mime_header_address(out, "To", m->to_name, m->to_addr);
    mime_header_text(out, "Subject", m->subject ? m->subject : "");
    mime_date_format(tmp, now);
    buf_append(out, "Date: ", 6);
    buf_appends(out, tmp);
    buf_append(out, "\r\n", 2);

    char id[32], t[STR_U64_MAX];
    hex_put(id, rnd, 12);
    const char *domain = m->message_id_domain ? m->message_id_domain : strrchr(m->from_addr, '@') + 1;
    buf_append(out, "Message-ID: <", 13); /* <%llx.ID@DOMAIN> */
    buf_append(out, t, str_u64(t, (unsigned long long)now, 16));
    buf_appendc(out, '.');
    buf_appends(out, id);
    buf_appendc(out, '@');
    buf_appends(out, domain);
    buf_append(out, ">\r\n", 3);
    if (m->reply_to)
        mime_header_address(out, "Reply-To", NULL, m->reply_to);
    if (m->list_id) {
        struct buf clean = BUF_INIT;
        const char *phrase = mime_header_clean(m->list_name, &clean);
        struct hw h;
        hw_begin(&h, out, "List-Id");
        if (phrase && *phrase) {
            hw_phrase(&h, phrase);
            hw_append(&h, " ", 1);
        }
        hw_append(&h, "<", 1);
        hw_appends(&h, m->list_id);
        hw_append(&h, ">", 1);
        hw_end(&h);
        buf_free(&clean);
    }
    if (m->list_unsubscribe_url || m->list_unsubscribe_mailto) {
        struct hw h;
        hw_begin(&h, out, "List-Unsubscribe");
        if (m->list_unsubscribe_url) {
            hw_append(&h, "<", 1);
            hw_appends(&h, m->list_unsubscribe_url);
            hw_append(&h, ">", 1);
        }
        if (m->list_unsubscribe_mailto) {
            const char *a = m->list_unsubscribe_mailto;
            hw_appends(&h, m->list_unsubscribe_url ? ", <" : "<");
            if (strncasecmp(a, "mailto:", 7) != 0)
                hw_append(&h, "mailto:", 7);
            hw_appends(&h, a);
            hw_append(&h, ">", 1);
        }
        hw_end(&h);
        if (m->list_unsubscribe_url)
            buf_appends(out, "List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n");
    }
    if (m->delivery_id)
        mime_header_fold(out, "X-Postino-Delivery", m->delivery_id);
    for (size_t i = 0; i < m->nheaders; i++)
        mime_header_text(out, m->headers[i].name, m->headers[i].value);
    buf_append(out, "MIME-Version: 1.0\r\n", 19);
}

/* delimiter - the line "--BOUNDARY", or the close-delimiter "--BOUNDARY--" when LAST */
static void delimiter(struct buf *out, const char *boundary, bool last)
{
    buf_append(out, "--", 2);
    buf_appends(out, boundary);
    if (last)
        buf_append(out, "--", 2);
    buf_append(out, "\r\n", 2);
}

/* mime_build - append the message M to OUT; 0 or a negative MIME_E* code. */
int mime_build(const struct mime_message *m, struct buf *out)
{
    int rc = message_check(m);
    if (rc < 0)
        return rc;
    size_t start = out->len;
    time_t now = m->date ? m->date : time(NULL);
    unsigned char rnd[24];
    random_bytes(rnd, sizeof(rnd));

    bool has_html = m->html && m->html_len;
    bool has_text = m->text && m->text_len;
    size_t derived = 0; /* length of the text derived from HTML, kept at START until the end */
    if (has_html && !has_text) {
        html2text_append(out, m->html, m->html_len);
        derived = out->len - start;
    }
    size_t msg = out->len;
    headers_write(m, out, now, rnd);
    if (!has_html) {
        part_write(out, "text/plain", m->text, 0, m->text_len, true, m->text_cte);
    } else {
        char boundary[40];
        memcpy(boundary, "=_pst_", 6);
        hex_put(boundary + 6, rnd + 12, 12);
        buf_appends(out, "Content-Type: multipart/alternative;\r\n boundary=\"");
        buf_appends(out, boundary);
        buf_append(out, "\"\r\n\r\n", 5);
        delimiter(out, boundary, false);
        if (has_text)
            part_write(out, "text/plain", m->text, 0, m->text_len, false, m->text_cte);
        else
            part_write(out, "text/plain", NULL, start, derived, false, m->text_cte);
        delimiter(out, boundary, false);
        part_write(out, "text/html", m->html, 0, m->html_len, false, m->html_cte);
        delimiter(out, boundary, true);
    }
    if (derived) {
        memmove(out->data + start, out->data + msg, out->len - msg);
        buf_truncate(out, out->len - derived);
    }
    return 0;
}

/* mime_strerror - what a mime_build result means. */
const char *mime_strerror(int rc)
{
    switch (rc) {
    case 0: return "success";
    case MIME_EHEADER: return "header value with a control character or overlong word";
    case MIME_EUTF8: return "subject or display name is not valid UTF-8";
    case MIME_EADDR: return "missing or malformed address";
    case MIME_ENOBODY: return "message has no body";
    case MIME_EFROMNAME: return "the From name holds a control character";
    case MIME_ETONAME: return "the recipient's name holds a control character";
    case MIME_ESUBJECT: return "the subject holds a control character";
    case MIME_ELISTNAME: return "the list name holds a control character";
    default: return "unknown error";
    }
}
