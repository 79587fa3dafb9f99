/*
 * smtp_data - dot-stuffing and the end-of-data mark.
 *
 * Every line that starts with "." gets one more "." in front. A bare LF is
 * written as CRLF, so the server cannot read an end-of-data mark the message
 * did not mean ("SMTP smuggling"). A message whose last line lacks its CRLF
 * gets one, then ".\r\n" ends the data.
 */
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
