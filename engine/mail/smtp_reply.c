/*
 * smtp_reply - SMTP reply and EHLO parsing.
 *
 * A reply is one or more lines "DDD-text" ending with a line "DDD text" (or a
 * bare "DDD"), all with the same code, each ended by CRLF (a bare LF is
 * accepted). The enhanced status code (RFC 3463) is recognised at the start of
 * the text when its class matches the reply code's first digit.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/mail/smtp_reply.h"
#include "engine/util/str.h"

/* smtp_reply_init - make R an empty reply. */
void smtp_reply_init(struct smtp_reply *r)
{
    r->code = 0;
    r->enhanced[0] = 0;
    buf_init(&r->text);
    r->lines = 0;
}

/* smtp_reply_free - release R's text; R is empty and reusable afterwards. */
void smtp_reply_free(struct smtp_reply *r)
{
    buf_free(&r->text);
    smtp_reply_init(r);
}

static size_t digits(const char *s, size_t n, size_t max)
{
    size_t i = 0;
    while (i < n && i < max && isdigit((unsigned char)s[i]))
        i++;
    return i;
}

/* enhanced_len - the length of an enhanced code "C.S.D" of class CLS at S, or 0. */
static size_t enhanced_len(const char *s, size_t n, char cls)
{
    if (n < 5 || s[0] != cls || s[1] != '.')
        return 0;
    size_t i = 2;
    size_t d = digits(s + i, n - i, 3);
    if (d == 0 || i + d >= n || s[i + d] != '.')
        return 0;
    i += d + 1;
    d = digits(s + i, n - i, 3);
    if (d == 0)
        return 0;
    i += d;
    if (i < n && s[i] != ' ' && s[i] != '\t')
        return 0;
    return i;
}

/* line_check - validate one reply line; its code in *CODE, its separator in *SEP. */
static int line_check(const char *line, size_t n, int *code, char *sep)
{
    if (n < 3 || line[0] < '2' || line[0] > '5' || !isdigit((unsigned char)line[1]) ||
        !isdigit((unsigned char)line[2]))
        return -1;
    *code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
    *sep = n > 3 ? line[3] : ' ';
    return *sep == ' ' || *sep == '-' ? 0 : -1;
}

/* prefix_bad - can the N bytes at LINE (N may be short) not start a reply line
 * (with code FIRST, when not 0)? */
static bool prefix_bad(const char *line, size_t n, int first)
{
    char want[3] = { (char)('0' + first / 100 % 10), (char)('0' + first / 10 % 10),
                     (char)('0' + first % 10) };
    for (size_t i = 0; i < n && i < 3; i++) {
        if (!isdigit((unsigned char)line[i]) || (i == 0 && (line[0] < '2' || line[0] > '5')))
            return true;
        if (first && line[i] != want[i])
            return true;
    }
    return false;
}

/* line_end - the line at DATA[POS..]: its length without CR LF in *N, the
 * offset after its LF in *NEXT. 1 found, 0 incomplete, -1 too long. */
static int line_end(const char *data, size_t len, size_t pos, size_t *n, size_t *next)
{
    size_t avail = len - pos;
    size_t scan = avail < SMTP_REPLY_LINE_MAX + 2 ? avail : SMTP_REPLY_LINE_MAX + 2;
    const char *lf = memchr(data + pos, '\n', scan);
    if (!lf)
        return avail >= SMTP_REPLY_LINE_MAX + 2 ? -1 : 0;
    size_t l = (size_t)(lf - (data + pos));
    *next = pos + l + 1;
    if (l > 0 && data[pos + l - 1] == '\r')
        l--;
    if (l > SMTP_REPLY_LINE_MAX)
        return -1;
    *n = l;
    return 1;
}

/* reply_fill - store the LINES lines of a checked reply at DATA into R. */
static void reply_fill(const char *data, size_t len, unsigned lines, struct smtp_reply *r)
{
    size_t pos = 0, n = 0, next = 0;
    buf_reset(&r->text);
    r->enhanced[0] = 0;
    r->lines = lines;
    r->code = (data[0] - '0') * 100 + (data[1] - '0') * 10 + (data[2] - '0');
    for (unsigned i = 0; i < lines; i++) {
        line_end(data, len, pos, &n, &next);
        const char *t = data + pos + (n > 3 ? 4 : n);
        size_t tn = n > 3 ? n - 4 : 0;
        size_t e = enhanced_len(t, tn, data[0]);
        if (e && i == 0) {
            memcpy(r->enhanced, t, e);
            r->enhanced[e] = 0;
        }
        if (e && r->enhanced[0]) {
            t += e;
            tn -= e;
            while (tn && (*t == ' ' || *t == '\t')) {
                t++;
                tn--;
            }
        }
        if (i)
            buf_appendc(&r->text, '\n');
        buf_append(&r->text, t, tn);
        pos = next;
    }
}

/*
 * smtp_reply_parse - parse the reply at the start of DATA[0..LEN).
 * Returns 1 when a complete reply was parsed into R (its length in bytes, line
 * ends included, in *CONSUMED), 0 when more bytes are needed (R untouched),
 * -1 when the bytes cannot be a reply: a line without a 2xx-5xx code, a bad
 * separator, codes that differ within one reply, a line longer than
 * SMTP_REPLY_LINE_MAX or more than SMTP_REPLY_LINES_MAX lines.
 * R must have been initialised; its previous content is replaced.
 */
int smtp_reply_parse(const char *data, size_t len, struct smtp_reply *r, size_t *consumed)
{
    size_t pos = 0;
    int first = 0;
    for (unsigned lines = 1; lines <= SMTP_REPLY_LINES_MAX; lines++) {
        size_t n, next;
        int rc = line_end(data, len, pos, &n, &next);
        if (rc <= 0) {
            /* An incomplete line can already be seen to be wrong. */
            if (rc == 0 && prefix_bad(data + pos, len - pos, lines > 1 ? first : 0))
                return -1;
            return rc;
        }
        int code;
        char sep;
        if (line_check(data + pos, n, &code, &sep) < 0)
            return -1;
        if (lines == 1)
            first = code;
        else if (code != first)
            return -1;
        pos = next;
        if (sep == ' ') {
            reply_fill(data, len, lines, r);
            *consumed = pos;
            return 1;
        }
    }
    return -1;
}

/* token_copy - copy the token at S (up to white space or closing punctuation) into OUT. */
static size_t token_copy(const char *s, char *out, size_t outlen)
{
    size_t n = 0;
    while (s[n] && !isspace((unsigned char)s[n]) && !strchr(")],;", s[n]))
        n++;
    while (n > 0 && s[n - 1] == '.')
        n--;
    if (n == 0 || n >= outlen)
        return 0;
    memcpy(out, s, n);
    out[n] = 0;
    return n;
}

/*
 * smtp_reply_queue_id - find the queue id in TEXT, the text of a reply to
 * end-of-data: Postfix "Ok: queued as 4Xyz", Exim "OK id=1qA-00B-2a", Sendmail
 * "x1ABcd Message accepted for delivery". Writes it NUL-terminated into OUT and
 * returns its length; returns 0 (OUT "") when there is none or it does not fit.
 */
size_t smtp_reply_queue_id(const char *text, char *out, size_t outlen)
{
    const char *p;
    size_t n = 0;
    if (outlen == 0)
        return 0;
    out[0] = 0;
    if ((p = strcasestr(text, "queued as ")) != NULL)
        n = token_copy(p + 10, out, outlen);
    else if ((p = strcasestr(text, "id=")) != NULL && (p == text || isspace((unsigned char)p[-1])))
        n = token_copy(p + 3, out, outlen);
    else if (strcasestr(text, "message accepted for delivery") != NULL) {
        while (isspace((unsigned char)*text))
            text++;
        if (strncasecmp(text, "message accepted", 16) != 0)
            n = token_copy(text, out, outlen);
    }
    if (n == 0)
        out[0] = 0;
    return n;
}

/*
 * smtp_reply_line - a reply as the server gave it, on one line, into OUT (cut
 * to OUTLEN): "535 5.7.8 Authentication failed", "535 Authentication failed"
 * when ENHANCED is "", TEXT alone when CODE is 0 (no reply: TEXT says what
 * went wrong). The lines of TEXT are joined by a space; other control
 * characters become '?', so the line is safe in a log. Returns OUT.
 */
const char *smtp_reply_line(int code, const char *enhanced, const char *text, char *out, size_t outlen)
{
    if (outlen == 0)
        return out;
    int n = code ? snprintf(out, outlen, "%d %s%s%s", code, enhanced, *enhanced ? " " : "", text)
                 : snprintf(out, outlen, "%s", text);
    if (code && !*text && n > 0 && (size_t)n < outlen)
        out[--n] = 0; /* a bare "250": no blank after it */
    for (char *p = out; *p; p++)
        if (*p == '\n')
            *p = ' ';
        else if ((unsigned char)*p < ' ' || *p == 0x7f)
            *p = '?';
    return out;
}

/* ext_auth - add the mechanisms listed in P (space separated) to EXT. */
static void ext_auth(const char *p, size_t n, struct smtp_ext *ext)
{
    ext->flags |= SMTP_EXT_AUTH;
    size_t i = 0;
    while (i < n) {
        while (i < n && (p[i] == ' ' || p[i] == '\t'))
            i++;
        size_t s = i;
        while (i < n && p[i] != ' ' && p[i] != '\t')
            i++;
        size_t l = i - s;
        if (l == 0)
            break;
        if (l == 5 && strncasecmp(p + s, "PLAIN", 5) == 0)
            ext->auth |= SMTP_AUTH_PLAIN;
        else if (l == 5 && strncasecmp(p + s, "LOGIN", 5) == 0)
            ext->auth |= SMTP_AUTH_LOGIN;
        else if (l == 8 && strncasecmp(p + s, "CRAM-MD5", 8) == 0)
            ext->auth |= SMTP_AUTH_CRAM_MD5;
        else if (l == 7 && strncasecmp(p + s, "XOAUTH2", 7) == 0)
            ext->auth |= SMTP_AUTH_XOAUTH2;
        else
            ext->auth |= SMTP_AUTH_OTHER;
    }
}

/* ext_line - interpret one EHLO keyword line. */
static void ext_line(const char *p, size_t n, struct smtp_ext *ext)
{
    static const struct {
        const char *kw;
        unsigned flag;
    } simple[] = {
        { "STARTTLS", SMTP_EXT_STARTTLS },
        { "PIPELINING", SMTP_EXT_PIPELINING },
        { "8BITMIME", SMTP_EXT_8BITMIME },
        { "ENHANCEDSTATUSCODES", SMTP_EXT_ENHANCEDSTATUSCODES },
        { "SMTPUTF8", SMTP_EXT_SMTPUTF8 },
        { "CHUNKING", SMTP_EXT_CHUNKING },
        { "DSN", SMTP_EXT_DSN },
    };
    size_t kl = 0;
    while (kl < n && p[kl] != ' ' && p[kl] != '\t' && p[kl] != '=')
        kl++;
    for (size_t i = 0; i < sizeof(simple) / sizeof(simple[0]); i++) {
        if (strlen(simple[i].kw) == kl && strncasecmp(p, simple[i].kw, kl) == 0) {
            ext->flags |= simple[i].flag;
            return;
        }
    }
    if (kl == 4 && strncasecmp(p, "AUTH", 4) == 0) {
        ext_auth(p + kl + (kl < n), n - kl - (kl < n), ext);
    } else if (kl == 4 && strncasecmp(p, "SIZE", 4) == 0) {
        ext->flags |= SMTP_EXT_SIZE;
        unsigned long long v = 0;
        for (size_t i = kl; i < n && (p[i] == ' ' || p[i] == '\t'); i++)
            kl = i + 1;
        for (size_t i = kl; i < n && isdigit((unsigned char)p[i]); i++) {
            if (v > (~0ULL - 9) / 10) {
                v = 0;
                break;
            }
            v = v * 10 + (unsigned)(p[i] - '0');
        }
        ext->size = v;
    }
}

/*
 * smtp_ehlo_parse - the extensions announced by R, a reply to EHLO. A reply
 * other than 250 announces none. Unknown keywords are ignored.
 */
void smtp_ehlo_parse(const struct smtp_reply *r, struct smtp_ext *ext)
{
    memset(ext, 0, sizeof(*ext));
    if (r->code != 250 || !r->text.data)
        return;
    const char *p = r->text.data;
    const char *end = p + r->text.len;
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    /* The first line is the server's name and greeting, not an extension. */
    p = nl ? nl + 1 : end;
    while (p < end) {
        nl = memchr(p, '\n', (size_t)(end - p));
        const char *e = nl ? nl : end;
        ext_line(p, (size_t)(e - p), ext);
        p = e + 1;
    }
}
