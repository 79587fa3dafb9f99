/*
 * form - urlencoded form bodies (see form.h). One pass, one scratch buffer
 * the size of the body: no pair decodes longer than it was written.
 */
#include <string.h>

#include "engine/util/alloc.h"
#include "engine/util/form.h"
#include "engine/util/str.h"

static int hex(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* decode - the N bytes at S decoded into OUT, NUL-terminated; -1 for a bad escape, a NUL or bad UTF-8 */
static int decode(const char *s, size_t n, char *out, const char **why)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '+') {
            out[o++] = ' ';
        } else if (s[i] == '%') {
            int a = i + 1 < n ? hex(s[i + 1]) : -1, b = i + 2 < n ? hex(s[i + 2]) : -1;
            if (a < 0 || b < 0) {
                *why = "a %-escape is not two hex digits";
                return -1;
            }
            out[o++] = (char)(a * 16 + b);
            i += 2;
        } else {
            out[o++] = s[i];
        }
        if (out[o - 1] == 0) {
            *why = "a field holds a NUL byte";
            return -1;
        }
    }
    out[o] = 0;
    if (!str_utf8_valid(out, o, NULL)) {
        *why = "a field is not UTF-8";
        return -1;
    }
    return 0;
}

/* form_parse - see form.h. */
int form_parse(const char *body, size_t len, form_field_cb cb, void *arg, const char **why)
{
    char *scratch = xmalloc(len + 2);
    int rc = 0;
    size_t pairs = 0;
    for (size_t at = 0; at < len && rc == 0;) {
        const char *amp = memchr(body + at, '&', len - at);
        size_t end = amp ? (size_t)(amp - body) : len;
        if (end > at) {
            const char *eq = memchr(body + at, '=', end - at);
            size_t nlen = eq ? (size_t)(eq - body) - at : end - at;
            char *name = scratch, *value;
            if (++pairs > FORM_FIELDS_MAX) {
                *why = "too many fields";
                rc = -1;
            } else if (decode(body + at, nlen, name, why) < 0) {
                rc = -1;
            } else {
                value = name + strlen(name) + 1;
                size_t vat = eq ? (size_t)(eq - body) + 1 : end;
                if (decode(body + vat, end - vat, value, why) < 0 || cb(name, value, arg, why) < 0)
                    rc = -1;
            }
        }
        at = end + 1;
    }
    xfree(scratch);
    return rc;
}
