/*
 * html2text - HTML mail body to plain text, one pass, no DOM.
 *
 * Text is written through a small state machine that collapses whitespace,
 * holds back line breaks until the next visible character (so blocks never
 * leave blank lines at the start or runs of them), and wraps at the last
 * space of a line once it grows past the width.
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "engine/util/buf.h"
#include "engine/mail/html2text.h"

#define HREF_MAX 2048

struct h2t {
    struct buf *out;
    size_t base;       /* where our output starts in OUT */
    size_t line;       /* offset of the current line's start */
    size_t col;        /* characters on the current line */
    size_t last_space; /* offset of the last space on the line, or SIZE_MAX */
    int pending_nl;    /* line breaks owed before the next character */
    bool pending_space;
    int pre;           /* inside <pre> */
    bool in_link;
    size_t link_start;
    char href[HREF_MAX];
    size_t href_len;
};

static bool is_space(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

/* h_newline - end the current line. */
static void h_newline(struct h2t *h)
{
    buf_appendc(h->out, '\n');
    h->line = h->out->len;
    h->col = 0;
    h->last_space = SIZE_MAX;
}

/* h_flush - pay the line breaks or the space owed before a visible character. */
static void h_flush(struct h2t *h)
{
    if (h->pending_nl) {
        if (h->out->len > h->base) {
            if (h->col > 0)
                h_newline(h);
            for (int i = 1; i < h->pending_nl; i++)
                h_newline(h);
        }
        h->pending_nl = 0;
        h->pending_space = false;
    }
    if (h->pending_space) {
        if (h->col > 0) {
            h->last_space = h->out->len;
            buf_appendc(h->out, ' ');
            h->col++;
        }
        h->pending_space = false;
    }
}

/* h_wrap - break the line at its last space once it is too long. */
static void h_wrap(struct h2t *h)
{
    if (h->col <= HTML2TEXT_WIDTH || h->last_space == SIZE_MAX || h->pre)
        return;
    h->out->data[h->last_space] = '\n';
    h->line = h->last_space + 1;
    h->last_space = SIZE_MAX;
    h->col = 0;
    for (size_t i = h->line; i < h->out->len; i++)
        if (((unsigned char)h->out->data[i] & 0xC0) != 0x80)
            h->col++;
}

/* h_char - one character (N bytes of UTF-8) of text. */
static void h_char(struct h2t *h, const char *s, size_t n)
{
    if (n == 1 && is_space((unsigned char)*s)) {
        if (!h->pre) {
            h->pending_space = true;
            return;
        }
        h_flush(h);
        if (*s == '\n') {
            h_newline(h);
            return;
        }
        if (*s == '\r')
            return;
    } else {
        h_flush(h);
    }
    buf_append(h->out, s, n);
    h->col++;
    h_wrap(h);
}

/* h_str - a string of text (already decoded) through h_char. */
static void h_str(struct h2t *h, const char *s, size_t n)
{
    for (size_t i = 0; i < n;) {
        size_t k = 1;
        while (i + k < n && ((unsigned char)s[i + k] & 0xC0) == 0x80)
            k++;
        h_char(h, s + i, k);
        i += k;
    }
}

static void h_block(struct h2t *h, int lines)
{
    if (h->pending_nl < lines)
        h->pending_nl = lines;
}

/* utf8_put - encode code point CP into P (4 bytes); returns the length. */
static size_t utf8_put(char *p, uint32_t cp)
{
    if (cp == 0 || (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF)
        cp = 0xFFFD;
    if (cp < 0x80) {
        p[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        p[0] = (char)(0xC0 | cp >> 6);
        p[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        p[0] = (char)(0xE0 | cp >> 12);
        p[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        p[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    p[0] = (char)(0xF0 | cp >> 18);
    p[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    p[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    p[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

static const struct {
    const char *name;
    uint32_t cp;
} entities[] = {
    { "amp", '&' },      { "lt", '<' },       { "gt", '>' },       { "quot", '"' },    { "apos", '\'' },
    { "nbsp", ' ' },     { "copy", 0xA9 },    { "reg", 0xAE },     { "trade", 0x2122 }, { "mdash", 0x2014 },
    { "ndash", 0x2013 }, { "hellip", 0x2026 }, { "laquo", 0xAB },  { "raquo", 0xBB },  { "lsquo", 0x2018 },
    { "rsquo", 0x2019 }, { "ldquo", 0x201C }, { "rdquo", 0x201D }, { "bull", 0x2022 }, { "middot", 0xB7 },
    { "euro", 0x20AC },  { "pound", 0xA3 },   { "yen", 0xA5 },     { "cent", 0xA2 },   { "deg", 0xB0 },
    { "times", 0xD7 },   { "divide", 0xF7 },  { "sect", 0xA7 },    { "para", 0xB6 },   { "shy", 0 },
    { "zwnj", 0 },       { "zwj", 0 },        { "thinsp", ' ' },   { "ensp", ' ' },    { "emsp", ' ' },
    { "iexcl", 0xA1 },   { "iquest", 0xBF },  { "szlig", 0xDF },   { "agrave", 0xE0 }, { "aacute", 0xE1 },
    { "acirc", 0xE2 },   { "auml", 0xE4 },    { "aring", 0xE5 },   { "aelig", 0xE6 },  { "ccedil", 0xE7 },
    { "egrave", 0xE8 },  { "eacute", 0xE9 },  { "ecirc", 0xEA },   { "euml", 0xEB },   { "iacute", 0xED },
    { "icirc", 0xEE },   { "iuml", 0xEF },    { "ntilde", 0xF1 },  { "ograve", 0xF2 }, { "oacute", 0xF3 },
    { "ocirc", 0xF4 },   { "ouml", 0xF6 },    { "oslash", 0xF8 },  { "ugrave", 0xF9 }, { "uacute", 0xFA },
    { "ucirc", 0xFB },   { "uuml", 0xFC },    { "Agrave", 0xC0 },  { "Aacute", 0xC1 }, { "Auml", 0xC4 },
    { "Aring", 0xC5 },   { "Ccedil", 0xC7 },  { "Egrave", 0xC8 },  { "Eacute", 0xC9 }, { "Ntilde", 0xD1 },
    { "Ouml", 0xD6 },    { "Oslash", 0xD8 },  { "Uuml", 0xDC },    { "rarr", 0x2192 }, { "larr", 0x2190 },
};

/*
 * entity_decode - decode the entity at S ("&…;", at most END). Returns the
 * bytes consumed (0: not an entity) and puts the UTF-8 in BUF, *N its length.
 */
static size_t entity_decode(const char *s, const char *end, char *buf, size_t *n)
{
    const char *p = s + 1;
    const char *semi = NULL;
    for (const char *q = p; q < end && q - p <= 10; q++)
        if (*q == ';') {
            semi = q;
            break;
        }
    if (!semi || semi == p)
        return 0;
    if (*p == '#') {
        uint32_t cp = 0;
        bool hex = p + 1 < semi && (p[1] == 'x' || p[1] == 'X');
        const char *d = p + 1 + hex;
        if (d == semi)
            return 0;
        for (; d < semi; d++) {
            int v;
            if (*d >= '0' && *d <= '9')
                v = *d - '0';
            else if (hex && *d >= 'a' && *d <= 'f')
                v = *d - 'a' + 10;
            else if (hex && *d >= 'A' && *d <= 'F')
                v = *d - 'A' + 10;
            else
                return 0;
            cp = cp * (hex ? 16 : 10) + (uint32_t)v;
            if (cp > 0x10FFFF)
                cp = 0x110000;
        }
        if (cp == 0xA0)
            cp = ' ';
        else if (cp == 0)
            cp = 0xFFFD;
        *n = cp < 0x20 && cp != '\t' && cp != '\n' ? 0 : utf8_put(buf, cp);
        return (size_t)(semi - s) + 1;
    }
    size_t len = (size_t)(semi - p);
    for (size_t i = 0; i < sizeof(entities) / sizeof(entities[0]); i++) {
        if (entities[i].name[0] == *p && strncmp(entities[i].name, p, len) == 0 && entities[i].name[len] == 0) {
            *n = entities[i].cp ? utf8_put(buf, entities[i].cp) : 0;
            return len + 2;
        }
    }
    return 0;
}

/* h_run - a run of N bytes holding no whitespace, "&" or no-break space. */
static void h_run(struct h2t *h, const char *s, size_t n)
{
    h_flush(h);
    buf_append(h->out, s, n);
    for (size_t i = 0; i < n; i++)
        h->col += ((unsigned char)s[i] & 0xC0) != 0x80;
    h_wrap(h);
}

/* h_text - the text [S, E) between tags, entities decoded. */
static void h_text(struct h2t *h, const char *s, const char *e)
{
    while (s < e) {
        const char *r = s;
        while (r < e && !is_space((unsigned char)*r) && *r != '&' && (unsigned char)*r != 0xC2)
            r++;
        if (r > s) {
            h_run(h, s, (size_t)(r - s));
            s = r;
            continue;
        }
        if (*s == '&') {
            char tmp[4];
            size_t n = 0, used = entity_decode(s, e, tmp, &n);
            if (used) {
                h_str(h, tmp, n);
                s += used;
                continue;
            }
        }
        if ((unsigned char)*s == 0xC2 && s + 1 < e && (unsigned char)s[1] == 0xA0) {
            h_char(h, " ", 1); /* U+00A0 NO-BREAK SPACE collapses like a space */
            s += 2;
            continue;
        }
        size_t k = 1;
        while (s + k < e && ((unsigned char)s[k] & 0xC0) == 0x80)
            k++;
        h_char(h, s, k);
        s += k;
    }
}

/* decode_attr - an attribute value with its entities decoded, into DST (DSTLEN bytes). */
static size_t decode_attr(const char *s, const char *e, char *dst, size_t dstlen)
{
    size_t n = 0;
    while (s < e && n + 4 < dstlen) {
        char tmp[4];
        size_t k = 0, used = *s == '&' ? entity_decode(s, e, tmp, &k) : 0;
        if (used) {
            memcpy(dst + n, tmp, k);
            n += k;
            s += used;
        } else {
            dst[n++] = *s++;
        }
    }
    return n;
}

/*
 * tag_scan - parse the tag at S ("<", before END): its name, whether it
 * closes, and the values of the attributes WANT1/WANT2. Returns the position
 * after ">" (END when there is none).
 */
struct tag {
    const char *name;
    size_t name_len;
    bool closing;
    const char *v1, *v1e; /* value of href */
    const char *v2, *v2e; /* value of alt */
};

static const char *tag_scan(const char *s, const char *end, struct tag *t)
{
    const char *p = s + 1;
    memset(t, 0, sizeof(*t));
    if (p < end && *p == '/')
        t->closing = true, p++;
    t->name = p;
    while (p < end && ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9')))
        p++;
    t->name_len = (size_t)(p - t->name);
    while (p < end && *p != '>') {
        if (is_space((unsigned char)*p) || *p == '/') {
            p++;
            continue;
        }
        const char *an = p;
        while (p < end && *p != '=' && *p != '>' && !is_space((unsigned char)*p))
            p++;
        size_t alen = (size_t)(p - an);
        while (p < end && is_space((unsigned char)*p))
            p++;
        if (p >= end || *p != '=')
            continue;
        p++;
        while (p < end && is_space((unsigned char)*p))
            p++;
        const char *v = p, *ve;
        if (p < end && (*p == '"' || *p == '\'')) {
            char q = *p++;
            v = p;
            while (p < end && *p != q)
                p++;
            ve = p;
            if (p < end)
                p++;
        } else {
            while (p < end && *p != '>' && !is_space((unsigned char)*p))
                p++;
            ve = p;
        }
        if (alen == 4 && strncasecmp(an, "href", 4) == 0)
            t->v1 = v, t->v1e = ve;
        else if (alen == 3 && strncasecmp(an, "alt", 3) == 0)
            t->v2 = v, t->v2e = ve;
    }
    return p < end ? p + 1 : end;
}

enum tag_class { T_OTHER, T_SKIP, T_PARA, T_LINE, T_PRE, T_BR, T_LI, T_HR, T_CELL, T_A, T_IMG };

static const struct {
    const char *name;
    unsigned char len;
    unsigned char cls;
} tag_classes[] = {
#define T(n, c) { n, sizeof(n) - 1, c }
    T("a", T_A),          T("p", T_PARA),       T("br", T_BR),       T("li", T_LI),
    T("td", T_CELL),      T("th", T_CELL),      T("tr", T_LINE),     T("hr", T_HR),
    T("h1", T_PARA),      T("h2", T_PARA),      T("h3", T_PARA),     T("h4", T_PARA),
    T("h5", T_PARA),      T("h6", T_PARA),      T("ul", T_PARA),     T("ol", T_PARA),
    T("dl", T_PARA),      T("dt", T_LINE),      T("dd", T_LINE),     T("div", T_LINE),
    T("img", T_IMG),      T("pre", T_PRE),      T("nav", T_LINE),    T("head", T_SKIP),
    T("main", T_LINE),    T("form", T_LINE),    T("body", T_LINE),   T("html", T_LINE),
    T("table", T_PARA),   T("title", T_SKIP),   T("style", T_SKIP),  T("tbody", T_LINE),
    T("thead", T_LINE),   T("tfoot", T_LINE),   T("script", T_SKIP), T("header", T_LINE),
    T("footer", T_LINE),  T("center", T_LINE),  T("figure", T_LINE), T("section", T_LINE),
    T("article", T_LINE), T("address", T_LINE), T("caption", T_LINE), T("template", T_SKIP),
    T("blockquote", T_PARA),
#undef T
};

/* tag_class - what a tag does to the text. */
static enum tag_class tag_class(const struct tag *t)
{
    for (size_t i = 0; i < sizeof(tag_classes) / sizeof(tag_classes[0]); i++)
        if (tag_classes[i].len == t->name_len && strncasecmp(tag_classes[i].name, t->name, t->name_len) == 0)
            return (enum tag_class)tag_classes[i].cls;
    return T_OTHER;
}

/* skip_to_close - past the "</NAME ...>" that ends a skipped element. */
static const char *skip_to_close(const char *p, const char *end, const struct tag *t)
{
    for (; p + 1 + t->name_len < end; p++) {
        if (p[0] == '<' && p[1] == '/' && strncasecmp(p + 2, t->name, t->name_len) == 0) {
            const char *gt = memchr(p, '>', (size_t)(end - p));
            return gt ? gt + 1 : end;
        }
    }
    return end;
}

/* h_link_end - after a link's text, its URL when the text does not already say it. */
static void h_link_end(struct h2t *h)
{
    h->in_link = false;
    const char *url = h->href;
    size_t ulen = h->href_len;
    if (ulen == 0 || url[0] == '#' || strncasecmp(url, "javascript:", 11) == 0)
        return;
    const char *text = h->out->data + h->link_start;
    size_t tlen = h->out->len - h->link_start;
    while (tlen && (*text == ' ' || *text == '\n'))
        text++, tlen--;
    const char *cmp = url;
    size_t clen = ulen;
    if (clen > 7 && strncasecmp(cmp, "mailto:", 7) == 0)
        cmp += 7, clen -= 7;
    if ((tlen == clen && memcmp(text, cmp, clen) == 0) || (tlen == ulen && memcmp(text, url, ulen) == 0))
        return;
    if (tlen == 0) {
        h_str(h, url, ulen);
        return;
    }
    h->pending_space = true;
    h_char(h, "(", 1);
    h_str(h, url, ulen);
    h_char(h, ")", 1);
}

/* h_tag - act on one tag. */
static const char *h_tag(struct h2t *h, const char *s, const char *end)
{
    struct tag t;
    const char *next = tag_scan(s, end, &t);
    if (t.name_len == 0)
        return next;
    switch (tag_class(&t)) {
    case T_SKIP:
        return t.closing ? next : skip_to_close(next, end, &t);
    case T_PRE:
        h->pre += t.closing ? (h->pre > 0 ? -1 : 0) : 1;
        h_block(h, 2);
        break;
    case T_PARA:
        h_block(h, 2);
        break;
    case T_LINE:
        h_block(h, 1);
        break;
    case T_BR:
        if (h->out->len > h->base && h->pending_nl < 2)
            h->pending_nl++; /* a second <br> in a row makes an empty line */
        break;
    case T_LI:
        h_block(h, 1);
        if (!t.closing) {
            h_flush(h);
            buf_append(h->out, "* ", 2);
            h->col += 2;
        }
        break;
    case T_HR:
        h_block(h, 2);
        h_str(h, "------------------------------", 30);
        h_block(h, 2);
        break;
    case T_CELL:
        h->pending_space = true;
        break;
    case T_A:
        if (t.closing && h->in_link) {
            h_link_end(h);
        } else if (!t.closing) {
            h->in_link = true;
            h->href_len = t.v1 ? decode_attr(t.v1, t.v1e, h->href, sizeof(h->href)) : 0;
            h->link_start = h->out->len;
        }
        break;
    case T_IMG:
        if (!t.closing && t.v2 && t.v2e > t.v2) {
            char alt[512];
            size_t n = decode_attr(t.v2, t.v2e, alt, sizeof(alt));
            h_str(h, alt, n);
        }
        break;
    default:
        break;
    }
    return next;
}

/* html2text_append - append the text rendering of LEN bytes of HTML to OUT. */
void html2text_append(struct buf *out, const char *html, size_t len)
{
    struct h2t h = { .out = out, .base = out->len, .line = out->len, .last_space = SIZE_MAX };
    const char *s = html, *end = html + len;
    buf_reserve(out, len / 2 + 16);
    while (s < end) {
        const char *lt = memchr(s, '<', (size_t)(end - s));
        const char *te = lt ? lt : end;
        h_text(&h, s, te);
        if (!lt)
            break;
        if (end - lt >= 4 && memcmp(lt, "<!--", 4) == 0) {
            const char *c = memmem(lt + 4, (size_t)(end - lt - 4), "-->", 3);
            s = c ? c + 3 : end;
        } else if (lt + 1 < end && (lt[1] == '!' || lt[1] == '?')) {
            const char *gt = memchr(lt, '>', (size_t)(end - lt));
            s = gt ? gt + 1 : end;
        } else if (lt + 1 < end && (lt[1] == '/' || ((lt[1] | 0x20) >= 'a' && (lt[1] | 0x20) <= 'z'))) {
            s = h_tag(&h, lt, end);
        } else {
            h_char(&h, "<", 1);
            s = lt + 1;
        }
    }
    if (h.in_link)
        h_link_end(&h);
    if (out->len > h.base)
        buf_appendc(out, '\n');
    else
        out->data[out->len] = 0; /* reserved above, so DATA exists */
}
