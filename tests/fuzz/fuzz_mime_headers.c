/*
 * fuzz_mime_headers - libFuzzer target for the values that go into headers
 * (a subscriber's name from a CSV file, an attribute rendered into the
 * subject, a list or From name) through mime_build.
 *
 * The input, cut at NUL bytes, gives the From name, the To name, the subject
 * and the list name. A message that builds must have exactly the header
 * fields mime_build writes, each once, every line ended by CRLF (no bare CR
 * or LF) and at most 998 octets, every other line a continuation; a value
 * with no control character but whitespace, in valid UTF-8, must build; a
 * refusal must be one of the reasons such values can have.
 */
#define _GNU_SOURCE /* memmem */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "engine/mail/mime.h"
#include "engine/util/buf.h"
#include "engine/util/str.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const fields[] = { "From", "To", "Subject", "Date", "Message-ID", "List-Id", "List-Unsubscribe",
                                      "List-Unsubscribe-Post", "X-Postino-Delivery", "MIME-Version", "Content-Type",
                                      "Content-Transfer-Encoding" };
#define NFIELDS (sizeof(fields) / sizeof(fields[0]))

/* does S hold nothing mime_build refuses in a name or subject (controls but whitespace, bad UTF-8)? */
static bool clean_value(const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if ((*p < 0x20 && !strchr("\t\n\v\f\r", *p)) || *p == 0x7F)
            return false;
    return str_utf8_valid(s, strlen(s), NULL);
}

/* the header block of the message M (LEN bytes) is as promised */
static void check_headers(const char *m, size_t len)
{
    const char *end = memmem(m, len, "\r\n\r\n", 4);
    unsigned seen[NFIELDS] = { 0 };
    if (!end)
        __builtin_trap();
    for (const char *line = m; line < end + 2;) {
        const char *eol = memchr(line, '\n', (size_t)(end + 2 - line));
        if (!eol || eol == line || eol[-1] != '\r' || memchr(line, '\r', (size_t)(eol - 1 - line)) ||
            eol - line - 1 > 998)
            __builtin_trap();
        if (*line != ' ' && *line != '\t') {
            size_t i = 0, n = strcspn(line, ":");
            while (i < NFIELDS && !(strlen(fields[i]) == n && strncmp(line, fields[i], n) == 0))
                i++;
            if (i == NFIELDS)
                __builtin_trap();
            seen[i]++;
        } else if (line == m) {
            __builtin_trap();
        }
        line = eol + 1;
    }
    for (size_t i = 0; i < NFIELDS; i++)
        if (seen[i] != 1)
            __builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *copy, *v[4] = { "News", "Ann", "Hello", "list" };
    struct buf in = BUF_INIT, out = BUF_INIT;
    if (size > 4096)
        return 0;
    buf_append(&in, data, size);
    copy = buf_cstr(&in);
    for (size_t i = 0, at = 0; i < 4 && at <= size; i++) {
        v[i] = copy + at;
        at += strlen(copy + at) + 1;
    }
    struct mime_message msg = {
        .from_name = v[0], .from_addr = "news@example.com", .to_name = v[1], .to_addr = "ann@example.org",
        .subject = v[2], .list_unsubscribe_url = "https://example.com/u/x", .list_name = v[3],
        .list_id = "list-1.example.com", .delivery_id = "1", .date = 1795000000, .text = "x", .text_len = 1,
    };
    int rc = mime_build(&msg, &out);
    bool clean = clean_value(v[0]) && clean_value(v[1]) && clean_value(v[2]) && clean_value(v[3]);
    if (rc == 0)
        check_headers(out.data, out.len);
    else if (clean || (rc != MIME_EFROMNAME && rc != MIME_ETONAME && rc != MIME_ESUBJECT && rc != MIME_ELISTNAME &&
                       rc != MIME_EUTF8))
        __builtin_trap();
    buf_free(&in);
    buf_free(&out);
    return 0;
}
