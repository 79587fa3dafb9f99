/*
 * file - read a whole (bounded) file into a buffer.
 */
#include <errno.h>
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
