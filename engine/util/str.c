/*
 * str - small string helpers.
 *
 * All functions are ASCII-only where they touch case; none allocates.
 * str_parse_long returns -1 for anything that is not a whole number in range.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "engine/util/str.h"

static int is_space(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

/* str_trim - remove leading and trailing whitespace in place; returns S's new start. */
char *str_trim(char *s)
{
    while (is_space((unsigned char)*s))
        s++;
    size_t n = strlen(s);
    while (n > 0 && is_space((unsigned char)s[n - 1]))
        s[--n] = 0;
    return s;
}

/* str_lower - lower-case ASCII letters in place; returns S. */
char *str_lower(char *s)
{
    for (char *p = s; *p; p++)
        if (*p >= 'A' && *p <= 'Z')
            *p = (char)(*p - 'A' + 'a');
    return s;
}

/* str_eq_nocase - true when A and B are equal ignoring ASCII case. */
bool str_eq_nocase(const char *a, const char *b)
{
    return strcasecmp(a, b) == 0;
}

/* str_has_prefix - true when S begins with PREFIX. */
bool str_has_prefix(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* str_has_suffix - true when S ends with SUFFIX. */
bool str_has_suffix(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && memcmp(s + n - m, suffix, m) == 0;
}

/*
 * str_utf8_valid - true when LEN bytes at DATA are well-formed UTF-8
 * (RFC 3629: no overlong forms, no surrogates, nothing above U+10FFFF).
 * On false, *BAD_OFFSET (when not NULL) is the offset of the first bad byte.
 */
bool str_utf8_valid(const void *data, size_t len, size_t *bad_offset)
{
    const unsigned char *s = data;
    size_t i = 0;
    while (i < len) {
        unsigned char c = s[i];
        size_t n;
        unsigned lo = 0x80, hi = 0xBF;
        if (c < 0x80) {
            i++;
            continue;
        } else if (c >= 0xC2 && c <= 0xDF) {
            n = 1;
        } else if (c >= 0xE0 && c <= 0xEF) {
            n = 2;
            if (c == 0xE0)
                lo = 0xA0;
            else if (c == 0xED)
                hi = 0x9F;
        } else if (c >= 0xF0 && c <= 0xF4) {
            n = 3;
            if (c == 0xF0)
                lo = 0x90;
            else if (c == 0xF4)
                hi = 0x8F;
        } else {
            goto bad;
        }
        if (len - i <= n)
            goto bad;
        if (s[i + 1] < lo || s[i + 1] > hi)
            goto bad;
        for (size_t k = 2; k <= n; k++)
            if (s[i + k] < 0x80 || s[i + k] > 0xBF)
                goto bad;
        i += n + 1;
    }
    return true;
bad:
    if (bad_offset)
        *bad_offset = i;
    return false;
}

/* str_parse_long - parse S as a decimal in [MIN, MAX]; 0 and *OUT set, or -1. */
int str_parse_long(const char *s, long min, long max, long *out)
{
    char *end;
    if (!s || !*s)
        return -1;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || *end || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

/*
 * str_u64 - write V in BASE (10, or 16 in lower case, as printf's %llu and
 * %llx) to OUT, which holds STR_U64_MAX bytes, NUL-terminated; the number
 * of digits. For the per-message paths where printf's parsing costs more
 * than the number.
 */
size_t str_u64(char *out, unsigned long long v, unsigned base)
{
    char tmp[STR_U64_MAX];
    size_t n = 0;
    do {
        tmp[n++] = "0123456789abcdef"[v % base];
        v /= base;
    } while (v);
    for (size_t i = 0; i < n; i++)
        out[i] = tmp[n - 1 - i];
    out[n] = 0;
    return n;
}
