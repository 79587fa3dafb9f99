/*
 * mta_tail - a log file read from a saved position (see mta_tail.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "engine/net/mta_tail.h"
#include "engine/util/alloc.h"

/* the SHA-256 of FD's first line (its line end included) in hex, or "" when it has no whole line yet */
static int first_line_hash(int fd, char out[65])
{
    char *b = xmalloc(MTA_TAIL_LINE_MAX);
    ssize_t n = pread(fd, b, MTA_TAIL_LINE_MAX, 0);
    int rc = n < 0 ? -errno : 0;
    out[0] = 0;
    const char *nl = n > 0 ? memchr(b, '\n', (size_t)n) : NULL;
    if (nl) {
        unsigned char md[32];
        unsigned int mdlen = 0;
        EVP_Digest(b, (size_t)(nl - b + 1), md, &mdlen, EVP_sha256(), NULL);
        for (unsigned i = 0; i < 32; i++)
            snprintf(out + 2 * i, 3, "%02x", md[i]);
    }
    xfree(b);
    return rc;
}

/* whole lines of FD from OFF (at most MAX bytes) onto OUT; *END after them (a line over the limit skipped) */
static int read_lines_raw(int fd, long long off, size_t max, struct buf *out, long long *end)
{
    *end = off;
    buf_reserve(out, max);
    char *b = out->data + out->len;
    ssize_t n = pread(fd, b, max, (off_t)off);
    if (n < 0)
        return -errno;
    const char *nl = n > 0 ? memrchr(b, '\n', (size_t)n) : NULL;
    if (nl) {
        out->len += (size_t)(nl - b + 1);
        *end = off + (nl - b + 1);
    }
    if (nl)
        return 0;
    if ((size_t)n < MTA_TAIL_LINE_MAX)
        return 0;   /* a line still being written */
    /* a line longer than anything we read: skip to its end, when it has one */
    long long at = off + n;
    for (;;) {
        n = pread(fd, b, max, (off_t)at);
        if (n < 0)
            return -errno;
        if (n == 0)
            return 0;
        nl = memchr(b, '\n', (size_t)n);
        if (nl) {
            *end = at + (nl - b + 1);
            return 0;
        }
        at += n;
    }
}

/* read_lines_raw, then OUT's contents ended again: what was read past the last line end is not OUT's */
static int read_lines(int fd, long long off, size_t max, struct buf *out, long long *end)
{
    int rc = read_lines_raw(fd, off, max, out, end);
    out->data[out->len] = 0;
    return rc;
}

/* the rest of the rotated file PATH.1 when it is POS's file; 1 when it had lines */
static int rotated_rest(const char *path, const struct mta_pos *pos, size_t max, struct buf *out,
                        struct mta_pos *next)
{
    char old[4096], hash[65];
    struct stat st;
    if (snprintf(old, sizeof(old), "%s.1", path) >= (int)sizeof(old))
        return 0;
    int fd = open(old, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    int rc = 0;
    long long end;
    if (fstat(fd, &st) == 0 && (long long)st.st_ino == pos->inode && first_line_hash(fd, hash) == 0 &&
        (!pos->first_line[0] || strcmp(hash, pos->first_line) == 0) && st.st_size > pos->read_to &&
        read_lines(fd, pos->read_to, max, out, &end) == 0 && end > pos->read_to) {
        *next = *pos;
        next->read_to = end;
        rc = 1;
    }
    close(fd);
    return rc;
}

/* mta_tail_read - see mta_tail.h. */
int mta_tail_read(const char *path, const struct mta_pos *pos, size_t max, struct buf *out, struct mta_pos *next,
                  char *err, size_t errlen)
{
    struct stat st;
    struct mta_pos start = *pos;
    *next = *pos;
    if (max < MTA_TAIL_LINE_MAX)
        max = MTA_TAIL_LINE_MAX;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 && errno != ENOENT) {
        int rc = -errno;
        snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
        return rc;
    }
    if (fd >= 0 && fstat(fd, &st) < 0) {
        int rc = -errno;
        snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
        close(fd);
        return rc;
    }
    if (pos->inode && (fd < 0 || (long long)st.st_ino != pos->inode)) {
        if (rotated_rest(path, pos, max, out, next)) {
            if (fd >= 0)
                close(fd);
            return 1;
        }
        memset(&start, 0, sizeof(start));
    }
    if (fd < 0)
        return 0;
    char hash[65];
    int rc = first_line_hash(fd, hash);
    long long end = 0;
    if (rc == 0) {
        if (!start.inode || (start.first_line[0] && strcmp(hash, start.first_line) != 0) ||
            st.st_size < start.read_to)
            start.read_to = 0;
        rc = read_lines(fd, start.read_to, max, out, &end);
    }
    close(fd);
    if (rc < 0) {
        snprintf(err, errlen, "cannot read %s: %s", path, strerror(-rc));
        return rc;
    }
    next->inode = (long long)st.st_ino;
    snprintf(next->first_line, sizeof(next->first_line), "%s", hash);
    next->read_to = end;
    return next->inode != pos->inode || next->read_to != pos->read_to || strcmp(next->first_line, pos->first_line) != 0;
}
