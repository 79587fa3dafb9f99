/*
 * smtp_data - dot-stuffing and the end-of-data mark.
 *
 * Every line that starts with "." gets one more "." in front. A bare LF is
 * written as CRLF, so the server cannot read an end-of-data mark the message
 * did not mean ("SMTP smuggling"). A message whose last line lacks its CRLF
 * gets one, then ".\r\n" ends the data.
 *
 * smtp_data_stuff  append a message as the DATA phase sends it
 * smtp_data_as_is  would the DATA phase send a message unchanged (then ".\r\n")
 */
#include <stdbool.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "engine/net/smtp_data.h"

/*
 * smtp_data_stuff - append DATA[0..LEN) to OUT as the DATA phase sends it:
 * dot-stuffed, bare LF made CRLF, a final CRLF added when missing, then
 * ".\r\n". An empty message is sent as ".\r\n" alone.
 */
void smtp_data_stuff(struct buf *out, const void *data, size_t len)
{
    const char *p = data;
    const char *end = p + len;
    buf_reserve(out, len + len / 64 + 8);
    while (p < end) {
        /* P is at the start of a line. */
        if (*p == '.')
            buf_appendc(out, '.');
        const char *lf = memchr(p, '\n', (size_t)(end - p));
        if (!lf) {
            buf_append(out, p, (size_t)(end - p));
            if (end[-1] == '\r')
                buf_appendc(out, '\n');
            else
                buf_append(out, "\r\n", 2);
            break;
        }
        size_t n = (size_t)(lf - p);
        if (n > 0 && p[n - 1] == '\r')
            buf_append(out, p, n + 1);
        else {
            buf_append(out, p, n);
            buf_append(out, "\r\n", 2);
        }
        p = lf + 1;
    }
    buf_append(out, ".\r\n", 3);
}

/* lf_as_is - is the LF at AT of P[0..LEN) sent as it stands: after a CR, and not before a "."? */
static inline bool lf_as_is(const unsigned char *p, size_t len, size_t at)
{
    return at > 0 && p[at - 1] == '\r' && (at + 1 == len || p[at + 1] != '.');
}

/*
 * smtp_data_as_is - true when smtp_data_stuff would append DATA[0..LEN)
 * unchanged and then ".\r\n": it is empty, or ends with CRLF, every LF
 * follows a CR and no line starts with ".". A composed message always does,
 * so it can be written from where it lies. The LFs are found 16 octets at a
 * time.
 */
bool smtp_data_as_is(const void *data, size_t len)
{
    const unsigned char *p = data;
    if (len == 0)
        return true;
    if (len < 2 || p[len - 2] != '\r' || p[len - 1] != '\n' || p[0] == '.')
        return false;
    size_t i = 0;
#ifdef __SSE2__
    const __m128i lf = _mm_set1_epi8('\n');
    for (; i + 16 <= len; i += 16) {
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(p + i));
        unsigned m = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v, lf));
        for (; m; m &= m - 1)
            if (!lf_as_is(p, len, i + (size_t)__builtin_ctz(m)))
                return false;
    }
#endif
    for (; i < len; i++)
        if (p[i] == '\n' && !lf_as_is(p, len, i))
            return false;
    return true;
}
