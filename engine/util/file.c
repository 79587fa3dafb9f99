/*
 * file - read a whole (bounded) file into a buffer.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "engine/util/file.h"

/* file_read - append the contents of PATH to OUT; 0, or -1 with ERR. */
int file_read(const char *path, size_t max, struct buf *out, char *err, size_t errlen)
{
    FILE *fp = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    char chunk[65536];
    size_t n, total = 0;
    if (!fp) {
        snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
        return -1;
    }
    while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0) {
        total += n;
        if (total > max) {
            snprintf(err, errlen, "%s is larger than %zu bytes", path, max);
            if (fp != stdin)
                fclose(fp);
            return -1;
        }
        buf_append(out, chunk, n);
    }
    int failed = ferror(fp);
    if (fp != stdin)
        fclose(fp);
    if (failed) {
        snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
        return -1;
    }
    buf_cstr(out);
    return 0;
}

/*
 * file_read_secret - the first line of PATH (its CR LF or LF left out) into
 * OUT as a string: a password kept in a file of its own. 0, or -1 with ERR
 * naming the file when it cannot be read or its first line is empty, too
 * long for OUT or holds a NUL or a CR. What was read is wiped from memory.
 */
int file_read_secret(const char *path, char *out, size_t outlen, char *err, size_t errlen)
{
    struct buf pw = BUF_INIT;
    if (file_read(path, outlen + 4096, &pw, err, errlen) < 0) {   /* room for lines after the first */
        buf_free(&pw);
        return -1;
    }
    size_t n = pw.len;
    const char *nl = n ? memchr(pw.data, '\n', n) : NULL;
    if (nl)
        n = (size_t)(nl - pw.data);
    if (n > 0 && pw.data[n - 1] == '\r')
        n--;
    bool bad = n == 0 || n >= outlen || memchr(pw.data, 0, n) || memchr(pw.data, '\r', n);
    if (!bad) {
        memcpy(out, pw.data, n);
        out[n] = 0;
    }
    if (pw.data)
        explicit_bzero(pw.data, pw.len);
    buf_free(&pw);
    if (bad)
        snprintf(err, errlen, "%s: its first line must hold the password", path);
    return bad ? -1 : 0;
}
