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
 * smtp_data_ready  a message made, in place, what the DATA phase sends before ".\r\n"
 */
#include <stdbool.h>
#include <string.h>

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

/*
 * The scan: an LF at I is sent as it stands when P[I-1] is CR and P[I+1] is
 * not "." (or I is the last octet). Blocks of 16 (SSE2) or 32 (AVX2, where
 * the processor has it) octets are read three times, one octet apart, and
 * the LFs that break the rule are gathered without a branch per line; the
 * test is once per 64 octets.
 */
#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define AS_IS_VECTOR 1

/* as_is_sse2 - the octets of P from 1 while I + 17 <= LEN: any LF breaking the rule? Sets *AT past them. */
static bool as_is_sse2(const unsigned char *p, size_t len, size_t *at)
{
    const __m128i lf = _mm_set1_epi8('\n'), cr = _mm_set1_epi8('\r'), dot = _mm_set1_epi8('.');
    size_t i = *at;
    while (i + 17 <= len) {
        __m128i bad = _mm_setzero_si128();
        for (int k = 0; k < 4 && i + 17 <= len; k++, i += 16) {
            __m128i prev = _mm_loadu_si128((const __m128i *)(const void *)(p + i - 1));
            __m128i cur = _mm_loadu_si128((const __m128i *)(const void *)(p + i));
            __m128i next = _mm_loadu_si128((const __m128i *)(const void *)(p + i + 1));
            __m128i fine = _mm_andnot_si128(_mm_cmpeq_epi8(next, dot), _mm_cmpeq_epi8(prev, cr));
            bad = _mm_or_si128(bad, _mm_andnot_si128(fine, _mm_cmpeq_epi8(cur, lf)));
        }
        if (_mm_movemask_epi8(bad))
            return false;
    }
    *at = i;
    return true;
}

/* as_is_avx2 - as as_is_sse2, 32 octets at a time */
__attribute__((target("avx2"))) static bool as_is_avx2(const unsigned char *p, size_t len, size_t *at)
{
    const __m256i lf = _mm256_set1_epi8('\n'), cr = _mm256_set1_epi8('\r'), dot = _mm256_set1_epi8('.');
    size_t i = *at;
    while (i + 33 <= len) {
        __m256i bad = _mm256_setzero_si256();
        for (int k = 0; k < 2 && i + 33 <= len; k++, i += 32) {
            __m256i prev = _mm256_loadu_si256((const __m256i *)(const void *)(p + i - 1));
            __m256i cur = _mm256_loadu_si256((const __m256i *)(const void *)(p + i));
            __m256i next = _mm256_loadu_si256((const __m256i *)(const void *)(p + i + 1));
            __m256i fine = _mm256_andnot_si256(_mm256_cmpeq_epi8(next, dot), _mm256_cmpeq_epi8(prev, cr));
            bad = _mm256_or_si256(bad, _mm256_andnot_si256(fine, _mm256_cmpeq_epi8(cur, lf)));
        }
        if (!_mm256_testz_si256(bad, bad))
            return false;
    }
    *at = i;
    return true;
}
#endif

/*
 * smtp_data_as_is - true when smtp_data_stuff would append DATA[0..LEN)
 * unchanged and then ".\r\n": it is empty, or ends with CRLF, every LF
 * follows a CR and no line starts with ".". A composed message always does,
 * so it can be written from where it lies.
 */
bool smtp_data_as_is(const void *data, size_t len)
{
    const unsigned char *p = data;
    if (len == 0)
        return true;
    if (len < 2 || p[len - 2] != '\r' || p[len - 1] != '\n' || p[0] == '.' || p[0] == '\n')
        return false;
    size_t i = 1;
#ifdef AS_IS_VECTOR
    if (__builtin_cpu_supports("avx2") && !as_is_avx2(p, len, &i))
        return false;
    if (!as_is_sse2(p, len, &i))
        return false;
#endif
    for (; i < len; i++)
        if (p[i] == '\n' && (p[i - 1] != '\r' || (i + 1 < len && p[i + 1] == '.')))
            return false;
    return true;
}

/*
 * smtp_data_ready - make MSG, in place, what smtp_data_stuff sends before the
 * final ".\r\n": unchanged when smtp_data_as_is, else dot-stuffed with bare
 * LFs made CRLF and a final CRLF. The sender does it on the worker thread
 * that composed the message, while the message is in that core's cache, and
 * submits it with SMTP_SEND_READY: the loop's thread then writes it as it is.
 */
void smtp_data_ready(struct buf *msg)
{
    if (smtp_data_as_is(msg->data, msg->len))
        return;
    struct buf out = BUF_INIT;
    smtp_data_stuff(&out, msg->data, msg->len);
    buf_truncate(&out, out.len - 3); /* the ".\r\n" that ends the data */
    buf_free(msg);
    *msg = out;
}
