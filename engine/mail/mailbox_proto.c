/*
 * mailbox_proto - IMAP and POP3 lines and the mailbox URL, parsed (see mailbox_proto.h).
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "engine/mail/mailbox_proto.h"

/* percent-decode the LEN bytes at S into OUT (OUTLEN with its NUL); -1 when bad, too long, or a control byte */
static int pct_decode(const char *s, size_t len, char *out, size_t outlen)
{
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '%') {
            if (i + 2 >= len || !isxdigit((unsigned char)s[i + 1]) || !isxdigit((unsigned char)s[i + 2]))
                return -1;
            char hex[3] = { s[i + 1], s[i + 2], 0 };
            unsigned v;
            sscanf(hex, "%x", &v);
            c = (unsigned char)v;
            i += 2;
        }
        if (c < 0x20 || c == 0x7f || o + 1 >= outlen)
            return -1;
        out[o++] = (char)c;
    }
    out[o] = 0;
    return 0;
}

static const struct {
    const char *scheme;
    enum mailbox_proto proto;
    bool tls;
    unsigned port;
} schemes[] = {
    { "imaps://", MAILBOX_IMAP, true, 993 },
    { "imap://", MAILBOX_IMAP, false, 143 },
    { "pop3s://", MAILBOX_POP3, true, 995 },
    { "pop3://", MAILBOX_POP3, false, 110 },
};

/* the host and port of the authority's part after "@" (LEN bytes at S) into U */
static int url_host_port(const char *s, size_t len, struct mailbox_url *u, const char **why)
{
    const char *end = s + len, *colon = NULL, *h = s;
    size_t hlen;
    if (len > 0 && *s == '[') {
        const char *rb = memchr(s, ']', len);
        if (!rb) {
            *why = "an IPv6 host is written [ADDRESS]";
            return -1;
        }
        h = s + 1;
        hlen = (size_t)(rb - h);
        if (rb + 1 < end) {
            if (rb[1] != ':') {
                *why = "unexpected text after the host";
                return -1;
            }
            colon = rb + 1;
        }
    } else {
        colon = memchr(s, ':', len);
        hlen = colon ? (size_t)(colon - s) : len;
    }
    if (hlen == 0 || hlen >= sizeof(u->host)) {
        *why = "the host is missing";
        return -1;
    }
    for (size_t i = 0; i < hlen; i++)
        if (!isalnum((unsigned char)h[i]) && !strchr(".-_:", h[i])) {
            *why = "the host has a character a host name cannot have";
            return -1;
        }
    memcpy(u->host, h, hlen);
    u->host[hlen] = 0;
    if (colon) {
        unsigned long port = 0;
        const char *p = colon + 1;
        if (p == end) {
            *why = "the port is empty";
            return -1;
        }
        for (; p < end; p++) {
            if (!isdigit((unsigned char)*p) || (port = port * 10 + (unsigned long)(*p - '0')) > 65535) {
                *why = "the port is not a number from 1 to 65535";
                return -1;
            }
        }
        if (port == 0) {
            *why = "the port is not a number from 1 to 65535";
            return -1;
        }
        u->port = (unsigned)port;
    }
    return 0;
}

/* mailbox_url_parse - see mailbox_proto.h. */
int mailbox_url_parse(const char *url, struct mailbox_url *u, const char **why)
{
    memset(u, 0, sizeof(*u));
    size_t i;
    for (i = 0; i < sizeof(schemes) / sizeof(schemes[0]); i++)
        if (strncasecmp(url, schemes[i].scheme, strlen(schemes[i].scheme)) == 0)
            break;
    if (i == sizeof(schemes) / sizeof(schemes[0])) {
        *why = "must start with imaps://, imap://, pop3s:// or pop3://";
        return -1;
    }
    u->proto = schemes[i].proto;
    u->implicit_tls = schemes[i].tls;
    u->port = schemes[i].port;
    const char *p = url + strlen(schemes[i].scheme);
    const char *slash = strchr(p, '/');
    size_t alen = slash ? (size_t)(slash - p) : strlen(p);
    const char *at = NULL;
    for (size_t k = 0; k < alen; k++)
        if (p[k] == '@')
            at = p + k;
    if (!at || at == p) {
        *why = "the user is missing (imaps://USER@HOST/FOLDER)";
        return -1;
    }
    if (memchr(p, ':', (size_t)(at - p))) {
        *why = "a password does not belong in the URL: put it in [bounce] mailbox_password_file";
        return -1;
    }
    if (pct_decode(p, (size_t)(at - p), u->user, sizeof(u->user)) < 0) {
        *why = "the user is not valid (too long, a control character or a bad %-escape)";
        return -1;
    }
    if (url_host_port(at + 1, (size_t)(p + alen - at - 1), u, why) < 0)
        return -1;
    const char *path = slash ? slash + 1 : "";
    if (strchr(path, '?') || strchr(path, '#')) {
        *why = "a query or fragment is not understood";
        return -1;
    }
    if (u->proto == MAILBOX_POP3) {
        if (*path) {
            *why = "a POP3 mailbox has no folders";
            return -1;
        }
        return 0;
    }
    if (!*path)
        path = "INBOX";
    if (pct_decode(path, strlen(path), u->folder, sizeof(u->folder)) < 0) {
        *why = "the folder is not valid (too long, a control character or a bad %-escape)";
        return -1;
    }
    return 0;
}

/* the next space-separated word at *P (before END), moved past; its length */
static size_t next_word(const char **p, const char *end, const char **word)
{
    while (*p < end && **p == ' ')
        (*p)++;
    *word = *p;
    while (*p < end && **p != ' ')
        (*p)++;
    return (size_t)(*p - *word);
}

static bool word_is(const char *w, size_t n, const char *s)
{
    return strlen(s) == n && strncasecmp(w, s, n) == 0;
}

/* the decimal number of N bytes at W into *V (at most MAX): 0 or -1 */
static int parse_u64(const char *w, size_t n, uint64_t max, uint64_t *v)
{
    uint64_t x = 0;
    if (n == 0 || n > 20)
        return -1;
    for (size_t i = 0; i < n; i++) {
        if (!isdigit((unsigned char)w[i]))
            return -1;
        unsigned d = (unsigned)(w[i] - '0');
        if (x > (max - d) / 10)
            return -1;
        x = x * 10 + d;
    }
    *v = x;
    return 0;
}

static enum imap_status status_of(const char *w, size_t n)
{
    if (word_is(w, n, "OK"))
        return IMAP_OK;
    if (word_is(w, n, "NO"))
        return IMAP_NO;
    if (word_is(w, n, "BAD"))
        return IMAP_BAD;
    if (word_is(w, n, "BYE"))
        return IMAP_BYE;
    if (word_is(w, n, "PREAUTH"))
        return IMAP_PREAUTH;
    return IMAP_NONE;
}

/* a response code "[NAME args]" at *P, moved past it */
static void parse_code(const char **p, const char *end, struct imap_resp *r)
{
    while (*p < end && **p == ' ')
        (*p)++;
    if (*p >= end || **p != '[')
        return;
    const char *rb = memchr(*p, ']', (size_t)(end - *p));
    if (!rb)
        return;
    const char *q = *p + 1, *name;
    size_t n = next_word(&q, rb, &name);
    if (n > 0 && n < sizeof(r->code)) {
        for (size_t i = 0; i < n; i++)
            r->code[i] = (char)toupper((unsigned char)name[i]);
        r->code[n] = 0;
    }
    while (q < rb && *q == ' ')
        q++;
    r->code_args = q;
    r->code_args_len = (size_t)(rb - q);
    uint64_t v;
    const char *num;
    const char *qq = q;
    size_t nn = next_word(&qq, rb, &num);
    if (parse_u64(num, nn, UINT32_MAX, &v) == 0)
        r->code_number = (uint32_t)v;
    *p = rb + 1;
}

/* the literal "{N}" or "{N+}" ending the LEN bytes at LINE, into R */
static void parse_literal(const char *line, size_t len, struct imap_resp *r)
{
    if (len < 3 || line[len - 1] != '}')
        return;
    size_t i = len - 1;
    while (i > 0 && line[i - 1] != '{')
        i--;
    if (i == 0)
        return;
    size_t n = len - 1 - i;
    if (n > 0 && line[i + n - 1] == '+')
        n--;
    uint64_t v;
    if (parse_u64(line + i, n, UINT64_MAX / 2, &v) == 0) {
        r->has_literal = true;
        r->literal = v;
    }
}

/* imap_resp_parse - see mailbox_proto.h. */
int imap_resp_parse(const char *line, size_t len, struct imap_resp *r)
{
    memset(r, 0, sizeof(*r));
    const char *p = line, *end = line + len, *w;
    if (len == 0 || len > MAILBOX_LINE_MAX || memchr(line, 0, len))
        return -1;
    parse_literal(line, len, r);
    if (*p == '+') {
        r->kind = IMAP_CONTINUE;
        r->text = p + 1 < end && p[1] == ' ' ? p + 2 : p + 1;
        return 0;
    }
    size_t n = next_word(&p, end, &w);
    if (word_is(w, n, "*")) {
        r->kind = IMAP_UNTAGGED;
    } else {
        if (n == 0 || n >= sizeof(r->tag))
            return -1;
        for (size_t i = 0; i < n; i++)
            if (!isgraph((unsigned char)w[i]) || strchr("(){%*\"\\]", w[i]))
                return -1;
        r->kind = IMAP_TAGGED;
        memcpy(r->tag, w, n);
        r->tag[n] = 0;
    }
    n = next_word(&p, end, &w);
    if (n == 0)
        return -1;
    uint64_t v;
    if (r->kind == IMAP_UNTAGGED && parse_u64(w, n, UINT32_MAX, &v) == 0) {
        r->has_number = true;
        r->number = (uint32_t)v;
        n = next_word(&p, end, &w);
        if (n == 0)
            return -1;
    }
    r->status = r->has_number ? IMAP_NONE : status_of(w, n);
    if (r->kind == IMAP_TAGGED && r->status == IMAP_NONE)
        return -1;
    if (r->status == IMAP_NONE) {
        size_t k = n < sizeof(r->word) ? n : sizeof(r->word) - 1;
        for (size_t i = 0; i < k; i++)
            r->word[i] = (char)toupper((unsigned char)w[i]);
        r->word[k] = 0;
    } else {
        parse_code(&p, end, r);
    }
    while (p < end && *p == ' ')
        p++;
    r->text = p;
    return 0;
}

/* imap_caps_parse - see mailbox_proto.h. */
unsigned imap_caps_parse(const char *words, size_t len)
{
    static const struct {
        const char *name;
        unsigned bit;
    } caps[] = {
        { "IDLE", IMAP_CAP_IDLE },         { "MOVE", IMAP_CAP_MOVE },
        { "UIDPLUS", IMAP_CAP_UIDPLUS },   { "STARTTLS", IMAP_CAP_STARTTLS },
        { "LOGINDISABLED", IMAP_CAP_LOGINDISABLED }, { "IMAP4rev1", IMAP_CAP_IMAP4REV1 },
    };
    unsigned bits = 0;
    const char *p = words, *end = words + len, *w;
    size_t n;
    while ((n = next_word(&p, end, &w)) > 0)
        for (size_t i = 0; i < sizeof(caps) / sizeof(caps[0]); i++)
            if (word_is(w, n, caps[i].name))
                bits |= caps[i].bit;
    return bits;
}

/* imap_fetch_parse - see mailbox_proto.h. */
int imap_fetch_parse(const char *text, size_t len, bool has_literal, uint64_t literal, struct imap_fetch *f)
{
    memset(f, 0, sizeof(*f));
    const char *p = text, *end = text + len, *w;
    if (p >= end || *p != '(')
        return -1;
    p++;
    for (;;) {
        size_t n = next_word(&p, end, &w);
        if (n == 0)
            return -1;
        if (w[n - 1] == ')' && n == 1)
            return 0;
        uint64_t v;
        const char *a;
        if (word_is(w, n, "UID") || word_is(w, n, "RFC822.SIZE")) {
            bool uid = word_is(w, n, "UID");
            size_t an = next_word(&p, end, &a);
            bool last = an > 0 && a[an - 1] == ')';
            if (parse_u64(a, last ? an - 1 : an, uid ? UINT32_MAX : UINT64_MAX / 2, &v) < 0)
                return -1;
            if (uid) {
                f->has_uid = true;
                f->uid = (uint32_t)v;
            } else {
                f->has_size = true;
                f->size = v;
            }
            if (last)
                return 0;
        } else if (n >= 5 && strncasecmp(w, "BODY[", 5) == 0) {
            /* the body is the literal that ends the line: BODY[] {N} or BODY[]<0> {N} */
            size_t an = next_word(&p, end, &a);
            if (!has_literal || an == 0 || a[0] != '{' || p != end)
                return -1;
            f->has_body = true;
            f->literal = literal;
            return 0;
        } else if (word_is(w, n, "FLAGS")) {
            const char *rp = memchr(p, ')', (size_t)(end - p));
            if (!rp)
                return -1;
            p = rp + 1;
            if (p < end && *p == ')')
                return 0;
        } else {
            return -1;
        }
    }
}

/* imap_quote - see mailbox_proto.h. */
int imap_quote(struct buf *out, const char *s)
{
    if (strpbrk(s, "\r\n"))
        return -1;
    buf_appendc(out, '"');
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            buf_appendc(out, '\\');
        buf_appendc(out, *s);
    }
    buf_appendc(out, '"');
    return 0;
}

/* pop3_status_parse - see mailbox_proto.h. */
int pop3_status_parse(const char *line, size_t len, const char **text)
{
    int rc;
    size_t skip;
    if (len >= 3 && memcmp(line, "+OK", 3) == 0) {
        rc = 1;
        skip = 3;
    } else if (len >= 4 && memcmp(line, "-ERR", 4) == 0) {
        rc = 0;
        skip = 4;
    } else {
        return -1;
    }
    if (len > skip && line[skip] != ' ')
        return -1;
    *text = line + (len > skip ? skip + 1 : skip);
    return rc;
}

/* pop3_pair_parse - see mailbox_proto.h. */
int pop3_pair_parse(const char *line, size_t len, uint32_t *n, char *word, size_t wordlen)
{
    const char *p = line, *end = line + len, *a, *b;
    size_t an = next_word(&p, end, &a);
    size_t bn = next_word(&p, end, &b);
    uint64_t v;
    if (parse_u64(a, an, UINT32_MAX, &v) < 0 || v == 0 || bn == 0 || bn >= wordlen)
        return -1;
    while (p < end && *p == ' ')
        p++;
    if (p != end)
        return -1;
    for (size_t i = 0; i < bn; i++)
        if (!isgraph((unsigned char)b[i]))
            return -1;
    *n = (uint32_t)v;
    memcpy(word, b, bn);
    word[bn] = 0;
    return 0;
}

/* pop3_unstuff - see mailbox_proto.h. */
int pop3_unstuff(const char *line, size_t len, const char **data, size_t *dlen)
{
    if (len == 1 && line[0] == '.')
        return 1;
    if (len > 0 && line[0] == '.') {
        line++;
        len--;
    }
    *data = line;
    *dlen = len;
    return 0;
}
