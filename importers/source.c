/*
 * source - reading an import's input in large chunks, converting to UTF-8.
 *
 * The first chunk is read at open so the format can be guessed and the CSV
 * delimiter detected before parsing starts; it is then returned by the first
 * import_source_read like any other chunk. Memory is two chunk buffers.
 */
#include <errno.h>
#include <fcntl.h>
#include <iconv.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine/util/alloc.h"
#include "engine/util/str.h"
#include "importers/source.h"

#define SOURCE_CHUNK (256 * 1024)
#define SOURCE_SNIFF 4096

struct import_source {
    int fd;
    char *in;
    size_t inlen;
    bool eof;
    bool convert;        /* drop a BOM (and iconv when cd is set) */
    bool at_start;
    iconv_t cd;
    char *out;
    size_t outcap;
    long long pos, size;
};

/* Read more bytes after the INLEN already held; 0, or -1 with ERR. */
static int source_fill(struct import_source *s, char *err, size_t errlen)
{
    while (!s->eof && s->inlen < SOURCE_CHUNK) {
        ssize_t n = read(s->fd, s->in + s->inlen, SOURCE_CHUNK - s->inlen);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            snprintf(err, errlen, "cannot read the input: %s", strerror(errno));
            return -1;
        }
        if (n == 0)
            s->eof = true;
        s->inlen += (size_t)n;
        s->pos += n;
        if (s->inlen >= SOURCE_SNIFF)
            break;
    }
    return 0;
}

/*
 * import_source_open - open PATH ("-": standard input) and read its first
 * chunk. Returns the source (the caller import_source_close()s it) or NULL
 * with ERR naming the file.
 */
struct import_source *import_source_open(const char *path, char *err, size_t errlen)
{
    int fd = strcmp(path, "-") == 0 ? 0 : open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
        return NULL;
    }
    struct import_source *s = xcalloc(1, sizeof(*s));
    struct stat st;
    s->fd = fd;
    s->in = xmalloc(SOURCE_CHUNK);
    s->at_start = true;
    s->cd = (iconv_t)-1;
    s->size = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) ? (long long)st.st_size : -1;
    if (source_fill(s, err, errlen) < 0) {
        import_source_close(s);
        return NULL;
    }
    return s;
}

/* import_format_guess - xml when the text starts (after a BOM and blanks) with '<', else csv. */
enum import_format import_format_guess(const char *data, size_t len)
{
    size_t i = 0;
    if (len >= 3 && memcmp(data, "\xef\xbb\xbf", 3) == 0)
        i = 3;
    while (i < len && (data[i] == ' ' || data[i] == '\t' || data[i] == '\r' || data[i] == '\n'))
        i++;
    return i < len && data[i] == '<' ? IMPORT_FORMAT_XML : IMPORT_FORMAT_CSV;
}

/* import_source_guess - the format of S's first chunk. */
enum import_format import_source_guess(const struct import_source *s)
{
    return import_format_guess(s->in, s->inlen);
}

/*
 * import_source_convert - make S return UTF-8 without a BOM, converting from
 * ENCODING (NULL or "utf-8": none). Returns 0, or -1 with ERR for an
 * encoding iconv does not know.
 */
int import_source_convert(struct import_source *s, const char *encoding, char *err, size_t errlen)
{
    s->convert = true;
    if (!encoding || str_eq_nocase(encoding, "utf-8") || str_eq_nocase(encoding, "utf8"))
        return 0;
    const char *from = str_eq_nocase(encoding, "latin1") ? "ISO-8859-1" : encoding;
    s->cd = iconv_open("UTF-8", from);
    if (s->cd == (iconv_t)-1) {
        snprintf(err, errlen, "unknown encoding \"%s\"", encoding);
        return -1;
    }
    s->outcap = SOURCE_CHUNK * 4 + 16;
    s->out = xmalloc(s->outcap);
    return 0;
}

/* import_source_peek - the bytes read so far and not yet consumed (the first chunk). */
const char *import_source_peek(const struct import_source *s, size_t *len)
{
    *len = s->inlen;
    return s->in;
}

/* Convert what IN holds into OUT, keeping an incomplete sequence for the next round. */
static size_t source_iconv(struct import_source *s)
{
    char *ip = s->in, *op = s->out;
    size_t il = s->inlen, ol = s->outcap;
    while (il > 0) {
        if (iconv(s->cd, &ip, &il, &op, &ol) != (size_t)-1)
            break;
        if (errno == EINVAL && !s->eof)
            break;
        /* An invalid (or, at the end, truncated) byte: U+FFFD, as readers show it. */
        if (ol < 3)
            break;
        memcpy(op, "\xef\xbf\xbd", 3);
        op += 3, ol -= 3, ip++, il--;
    }
    memmove(s->in, ip, il);
    s->inlen = il;
    return (size_t)(op - s->out);
}

/*
 * import_source_read - the next chunk in *DATA and *LEN, valid until the next
 * call. Returns 1 with a chunk, 0 at the end of the input, -1 with ERR.
 */
int import_source_read(struct import_source *s, const char **data, size_t *len, char *err, size_t errlen)
{
    for (;;) {
        bool want = s->inlen == 0 || s->cd != (iconv_t)-1 || (s->at_start && s->inlen < 3);
        if (want && !s->eof && source_fill(s, err, errlen) < 0)
            return -1;
        if (s->inlen == 0)
            return 0;
        const char *p = s->in;
        size_t n = s->inlen;
        if (s->convert && s->at_start) {
            if (n < 3 && !s->eof)
                continue;
            if (n >= 3 && memcmp(p, "\xef\xbb\xbf", 3) == 0 && s->cd == (iconv_t)-1)
                p += 3, n -= 3;
        }
        s->at_start = false;
        if (s->cd != (iconv_t)-1) {
            n = source_iconv(s);
            p = s->out;
        } else {
            s->inlen = 0;
        }
        if (n == 0)
            continue;
        *data = p;
        *len = n;
        return 1;
    }
}

/* import_source_pos - input bytes read so far. */
long long import_source_pos(const struct import_source *s)
{
    return s->pos;
}

/* import_source_size - the input's size in bytes, or -1 when not a regular file. */
long long import_source_size(const struct import_source *s)
{
    return s->size;
}

/* import_source_close - close S's file (not standard input) and free S; NULL is accepted. */
void import_source_close(struct import_source *s)
{
    if (!s)
        return;
    if (s->fd > 0)
        close(s->fd);
    if (s->cd != (iconv_t)-1)
        iconv_close(s->cd);
    xfree(s->in);
    xfree(s->out);
    xfree(s);
}
