/*
 * links - an HTML tokenizer just deep enough to find href values.
 *
 * States follow the HTML parsing algorithm loosely: data, tag open, tag
 * name, before/in attribute name, after it, before value, quoted and bare
 * values, comments "<!-- … -->" and other "<!…>" / "</…>" markup. Names are
 * compared in lower case, so HREF and A count.
 */
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "engine/mail/links.h"

enum {
    S_DATA,
    S_TAG_OPEN,     /* after "<" */
    S_TAG_NAME,
    S_ATTRS,        /* between attributes */
    S_ATTR_NAME,
    S_AFTER_NAME,
    S_BEFORE_VALUE,
    S_VALUE_Q,      /* quoted value */
    S_VALUE_BARE,
    S_BANG,         /* after "<!" */
    S_BANG_DASH,    /* after "<!-" */
    S_COMMENT,
    S_SKIP,         /* a declaration or end tag: to ">" */
};

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f';
}

static bool is_alpha(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static void name_put(struct links_scan *st, char c)
{
    if (st->nlen < sizeof(st->name))
        st->name[st->nlen] = (char)(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
    st->nlen++;
}

static bool name_is(const struct links_scan *st, const char *w)
{
    size_t n = strlen(w);
    return st->nlen == n && memcmp(st->name, w, n) == 0;
}

static void value_begin(struct links_scan *st, size_t at)
{
    st->href = name_is(st, "href");
    st->dynamic = false;
    st->here = true;
    st->start = at;
}

static void value_end(struct links_scan *st, size_t at, links_found_fn found, void *ctx)
{
    if (st->link_tag && st->href && !st->dynamic && st->here)
        found(ctx, st->start, at - st->start);
    st->href = false;
}

/* links_scan_text - feed S (N bytes) to ST; FOUND gets each static href value of <a>/<area> in it. */
void links_scan_text(struct links_scan *st, const char *s, size_t n, links_found_fn found, void *ctx)
{
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        switch (st->state) {
        case S_DATA:
            if (c == '<')
                st->state = S_TAG_OPEN;
            break;
        case S_TAG_OPEN:
            st->nlen = 0;
            if (is_alpha(c)) {
                name_put(st, c);
                st->state = S_TAG_NAME;
            } else if (c == '!') {
                st->state = S_BANG;
            } else if (c == '/' || c == '?') {
                st->state = S_SKIP;
            } else {
                st->state = c == '<' ? S_TAG_OPEN : S_DATA;
            }
            break;
        case S_TAG_NAME:
            if (is_space(c) || c == '/' || c == '>') {
                st->link_tag = name_is(st, "a") || name_is(st, "area");
                st->state = c == '>' ? S_DATA : S_ATTRS;
            } else {
                name_put(st, c);
            }
            break;
        case S_ATTRS:
            if (c == '>') {
                st->state = S_DATA;
            } else if (!is_space(c) && c != '/') {
                st->nlen = 0;
                name_put(st, c);
                st->state = S_ATTR_NAME;
            }
            break;
        case S_ATTR_NAME:
            if (c == '=') {
                st->state = S_BEFORE_VALUE;
            } else if (c == '>') {
                st->state = S_DATA;
            } else if (is_space(c)) {
                st->state = S_AFTER_NAME;
            } else if (c == '/') {
                st->state = S_ATTRS;
            } else {
                name_put(st, c);
            }
            break;
        case S_AFTER_NAME:
            if (c == '=') {
                st->state = S_BEFORE_VALUE;
            } else if (c == '>') {
                st->state = S_DATA;
            } else if (c == '/') {
                st->state = S_ATTRS;
            } else if (!is_space(c)) {
                st->nlen = 0;
                name_put(st, c);
                st->state = S_ATTR_NAME;
            }
            break;
        case S_BEFORE_VALUE:
            if (c == '"' || c == '\'') {
                st->quote = c;
                value_begin(st, i + 1);
                st->state = S_VALUE_Q;
            } else if (c == '>') {
                st->state = S_DATA;
            } else if (!is_space(c)) {
                value_begin(st, i);
                st->state = S_VALUE_BARE;
            }
            break;
        case S_VALUE_Q:
            if (c == st->quote) {
                value_end(st, i, found, ctx);
                st->state = S_ATTRS;
            }
            break;
        case S_VALUE_BARE:
            if (is_space(c) || c == '>') {
                value_end(st, i, found, ctx);
                st->state = c == '>' ? S_DATA : S_ATTRS;
            }
            break;
        case S_BANG:
            st->state = c == '-' ? S_BANG_DASH : c == '>' ? S_DATA : S_SKIP;
            break;
        case S_BANG_DASH:
            st->dashes = 0;
            st->state = c == '-' ? S_COMMENT : c == '>' ? S_DATA : S_SKIP;
            break;
        case S_COMMENT:
            if (c == '>' && st->dashes >= 2)
                st->state = S_DATA;
            st->dashes = c == '-' ? st->dashes + 1 : 0;
            break;
        default: /* S_SKIP */
            if (c == '>')
                st->state = S_DATA;
            break;
        }
    }
    /* a value still open continues in a later run: it is no longer wholly in one */
    st->here = false;
}

/* links_scan_break - a variable or condition comes next: the value it falls into is dynamic. */
void links_scan_break(struct links_scan *st)
{
    if (st->state == S_BEFORE_VALUE) {
        /* href={{ x }}: a bare value that starts with the variable */
        st->href = name_is(st, "href");
        st->state = S_VALUE_BARE;
    }
    if (st->state == S_VALUE_Q || st->state == S_VALUE_BARE)
        st->dynamic = true;
}

static void put_utf8(struct buf *out, uint32_t cp)
{
    char b[4];
    size_t n;
    if (cp == 0 || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        cp = 0xFFFD;
    if (cp < 0x80) {
        b[0] = (char)cp, n = 1;
    } else if (cp < 0x800) {
        b[0] = (char)(0xC0 | (cp >> 6)), b[1] = (char)(0x80 | (cp & 0x3F)), n = 2;
    } else if (cp < 0x10000) {
        b[0] = (char)(0xE0 | (cp >> 12)), b[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        b[2] = (char)(0x80 | (cp & 0x3F)), n = 3;
    } else {
        b[0] = (char)(0xF0 | (cp >> 18)), b[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
        b[2] = (char)(0x80 | ((cp >> 6) & 0x3F)), b[3] = (char)(0x80 | (cp & 0x3F)), n = 4;
    }
    buf_append(out, b, n);
}

/* char_ref - decode the reference at S (E its end) into OUT; the bytes used, 0 when none */
static size_t char_ref(const char *s, const char *e, struct buf *out)
{
    static const struct {
        const char *name;
        char c;
    } named[] = { { "amp;", '&' }, { "lt;", '<' }, { "gt;", '>' }, { "quot;", '"' }, { "apos;", '\'' } };
    const char *p = s + 1;
    if (p < e && *p == '#') {
        uint32_t cp = 0;
        bool hex = p + 1 < e && (p[1] == 'x' || p[1] == 'X');
        const char *d = p + (hex ? 2 : 1), *q = d;
        for (; q < e && q - d < 8; q++) {
            char c = *q;
            int v = c >= '0' && c <= '9' ? c - '0'
                    : hex && c >= 'a' && c <= 'f' ? c - 'a' + 10
                    : hex && c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
            if (v < 0)
                break;
            cp = cp * (hex ? 16 : 10) + (uint32_t)v;
        }
        if (q == d || q >= e || *q != ';')
            return 0;
        put_utf8(out, cp);
        return (size_t)(q + 1 - s);
    }
    for (size_t i = 0; i < sizeof(named) / sizeof(named[0]); i++) {
        size_t n = strlen(named[i].name);
        if ((size_t)(e - p) >= n && strncasecmp(p, named[i].name, n) == 0) {
            buf_appendc(out, named[i].c);
            return n + 1;
        }
    }
    return 0;
}

/* links_url - see links.h. */
int links_url(const char *raw, size_t len, struct buf *out)
{
    const char *s = raw, *e = raw + len;
    size_t mark = out->len;
    while (s < e && is_space(*s))
        s++;
    while (e > s && is_space(e[-1]))
        e--;
    while (s < e) {
        size_t used = *s == '&' ? char_ref(s, e, out) : 0;
        if (used) {
            s += used;
            continue;
        }
        if (*s != '\t' && *s != '\n' && *s != '\r') /* as URL parsers do */
            buf_appendc(out, *s);
        s++;
    }
    if (out->len - mark > LINKS_URL_MAX) {
        buf_truncate(out, mark);
        return -1;
    }
    return 0;
}

/*
 * links_trackable - URL starts with http:// or https:// (any case), names a
 * host, and holds no space, control character, quote or angle bracket (it
 * goes into a Location header as it is).
 */
bool links_trackable(const char *url)
{
    size_t n = strncasecmp(url, "http://", 7) == 0 ? 7 : strncasecmp(url, "https://", 8) == 0 ? 8 : 0;
    if (!n || !url[n] || url[n] == '/')
        return false;
    for (const unsigned char *p = (const unsigned char *)url; *p; p++)
        if (*p <= ' ' || *p == 0x7f || *p == '"' || *p == '<' || *p == '>')
            return false;
    return true;
}
