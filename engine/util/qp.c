/*
 * qp - quoted-printable encoding and decoding (RFC 2045 section 6.7).
 *
 * The encoder is one pass over the input; it reserves the worst case up
 * front and then writes through a pointer. Runs of plain bytes are measured
 * 16 at a time with SSE2 where the compiler targets it (x86-64 always does),
 * else with a 256-entry table.
 *
 * qp__plain_run   how many bytes from S, up to LIM, are plain (internal; tests)
 */
#include <stdbool.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "engine/util/qp.h"

static const char hex[] = "0123456789ABCDEF";

/* qp_literal - can byte C appear as itself (printable ASCII other than "=")? */
static inline bool qp_literal(unsigned char c)
{
    return c >= 33 && c <= 126 && c != '=';
}

/* qp_plain - bytes that may stand for themselves in mid-line: printable ASCII
 * but "=", and space and tab (encoded only right before a line end). */
const unsigned char qp_plain[256] = {
    0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
};

/* mid_literal - is C written as itself wherever it stands in a line (plain, not whitespace)? */
static inline bool mid_literal(unsigned char c)
{
    return qp_plain[c] && c != ' ' && c != '\t';
}

/* qp_line_end - does the input line end right after position S (before END)? */
static inline bool qp_line_end(const unsigned char *s, const unsigned char *end)
{
    if (s + 1 == end || s[1] == '\n')
        return true;
    return s[1] == '\r' && s + 2 < end && s[2] == '\n';
}

/* qp_risky_start - would byte S, put at the start of a line, need protection? */
static inline bool qp_risky_start(const unsigned char *s, const unsigned char *end)
{
    return *s == '.' || (*s == 'F' && end - s >= 5 && memcmp(s, "From ", 5) == 0);
}

/*
 * plain_copy - the number of bytes from S, at most LIM, before the first one
 * qp_plain refuses, copied to O as they are read. AVAIL (>= LIM) bytes from S
 * are readable, so the last block before LIM is read whole too; a block is
 * stored whole, so O may be written past the run (qp_encode writes those
 * bytes again next, within what it reserved). No memcpy: for runs this short
 * the compiler's inline copy cost more than the scan.
 */
static inline size_t plain_copy(const unsigned char *s, size_t lim, size_t avail, char *o)
{
    size_t n = 0;
#ifdef __SSE2__
    /* plain: 32..126 but "=" (signed compares: 8-bit bytes are negative), or TAB */
    const __m128i above = _mm_set1_epi8(31), below = _mm_set1_epi8(127);
    const __m128i eq = _mm_set1_epi8('='), tab = _mm_set1_epi8('\t');
    for (; n < lim && n + 16 <= avail; n += 16) {
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(s + n));
        if (o)
            _mm_storeu_si128((__m128i *)(void *)(o + n), v);
        __m128i ok = _mm_and_si128(_mm_cmpgt_epi8(v, above), _mm_cmplt_epi8(v, below));
        ok = _mm_or_si128(_mm_andnot_si128(_mm_cmpeq_epi8(v, eq), ok), _mm_cmpeq_epi8(v, tab));
        unsigned bad = (unsigned)_mm_movemask_epi8(ok) ^ 0xffffu;
        if (bad) {
            n += (size_t)__builtin_ctz(bad);
            return n < lim ? n : lim;
        }
    }
    if (n >= lim)
        return lim;
#endif
    for (; n < lim && qp_plain[s[n]]; n++)
        if (o)
            o[n] = (char)s[n];
    return n;
}

/* qp__plain_run - the number of bytes from S, at most LIM, before the first one qp_plain refuses. */
size_t qp__plain_run(const unsigned char *s, size_t lim)
{
    return plain_copy(s, lim, lim, NULL);
}

/*
 * qp_encode - append the quoted-printable encoding of LEN bytes at DATA to OUT.
 * Input line breaks (LF or CRLF) become CRLF; output lines are at most 76
 * characters including the "=" of a soft break.
 */
void qp_encode(struct buf *out, const void *data, size_t len)
{
    const unsigned char *s = data, *end = s + len;
    size_t col = 0;

    buf_reserve(out, len * 3 + len / 8 + 8);
    char *o = out->data + out->len;
    while (s < end) {
        /* fast path: a run of plain bytes in mid-line, far from a soft break, copied at once;
           whitespace right before a line end is left to the careful path below */
        if (col > 0 && col < QP_LINE_MAX - 2) {
            size_t room = QP_LINE_MAX - 2 - col, avail = (size_t)(end - s);
            size_t n = plain_copy(s, room < avail ? room : avail, avail, o);
            if (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t') && qp_line_end(s + n - 1, end))
                n--;
            o += n;
            s += n;
            col += n;
            if (n == room) {
                /* the line is full but for its last column. When the next two octets are plain, not
                   whitespace, and the second ends no line, the careful path would put the first here,
                   then a soft break, then the second first on the next line (unless it is "." or "F",
                   which may need protecting there): all at once */
                if (end - s >= 3 && mid_literal(s[0]) && mid_literal(s[1]) && s[1] != '.' && s[1] != 'F' &&
                    s[2] != '\r' && s[2] != '\n') {
                    o[0] = (char)s[0];
                    memcpy(o + 1, "=\r\n", 3);
                    o[4] = (char)s[1];
                    o += 5;
                    s += 2;
                    col = 1;
                }
                continue;
            }
            /* it stopped at an octet to escape (not a line break) that fits this line: "=XX" at once,
               as the careful path would write it */
            if (s < end && !qp_plain[*s] && *s != '\r' && *s != '\n' && col + 3 < QP_LINE_MAX) {
                *o++ = '=';
                *o++ = hex[*s >> 4];
                *o++ = hex[*s & 15];
                col += 3;
                s++;
                continue;
            }
        }
        if (s == end)
            break;
        unsigned char c = *s;
        if (c == '\n' || (c == '\r' && s + 1 < end && s[1] == '\n')) {
            *o++ = '\r';
            *o++ = '\n';
            col = 0;
            s += c == '\r' ? 2 : 1;
            continue;
        }
        bool eol = qp_line_end(s, end);
        bool lit = (c == ' ' || c == '\t') ? !eol : qp_literal(c);
        if (lit && col == 0 && qp_risky_start(s, end))
            lit = false;
        size_t w = lit ? 1 : 3;
        if (col + w > (eol ? QP_LINE_MAX : QP_LINE_MAX - 1)) {
            *o++ = '=';
            *o++ = '\r';
            *o++ = '\n';
            col = 0;
            if (lit && qp_risky_start(s, end))
                lit = false, w = 3;
        }
        if (lit) {
            *o++ = (char)c;
        } else {
            *o++ = '=';
            *o++ = hex[c >> 4];
            *o++ = hex[c & 15];
        }
        col += w;
        s++;
    }
    out->len = (size_t)(o - out->data);
    out->data[out->len] = 0;
}

static int hexval(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

/*
 * qp_decode - append the decoding of LEN bytes of quoted-printable TEXT to
 * OUT. Soft breaks vanish, hard breaks become CRLF, whitespace before a line
 * break is dropped (RFC 2045 rule 3). Returns 0, or -1 on an "=" not followed
 * by two hex digits or a line break (OUT then holds a partial decoding).
 */
int qp_decode(struct buf *out, const char *text, size_t len)
{
    const unsigned char *s = (const unsigned char *)text, *end = s + len;
    while (s < end) {
        const unsigned char *eol = memchr(s, '\n', (size_t)(end - s));
        const unsigned char *le = eol ? eol : end;
        const unsigned char *ce = le;
        if (ce > s && ce[-1] == '\r' && eol)
            ce--;
        while (ce > s && (ce[-1] == ' ' || ce[-1] == '\t'))
            ce--;
        bool soft = false;
        for (const unsigned char *p = s; p < ce; p++) {
            if (*p != '=') {
                buf_appendc(out, (char)*p);
                continue;
            }
            if (p + 1 == ce) {
                soft = true;
                break;
            }
            int hi = p + 2 < ce ? hexval(p[1]) : -1, lo = p + 2 < ce ? hexval(p[2]) : -1;
            if (p + 2 >= ce || hi < 0 || lo < 0)
                return -1;
            buf_appendc(out, (char)(hi << 4 | lo));
            p += 2;
        }
        if (eol && !soft)
            buf_append(out, "\r\n", 2);
        s = eol ? eol + 1 : end;
    }
    return 0;
}
