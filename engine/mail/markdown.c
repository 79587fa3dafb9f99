/*
 * markdown - Markdown bodies rendered by libcmark (see markdown.h).
 *
 * tags_mask     the source with each template tag replaced by a marker word
 * tags_restore  the rendered HTML with each marker replaced by its tag
 *
 * A marker is letters and digits only ("zqpostinomd" N "x", longer when the
 * source holds that word already), which Markdown never changes: not in
 * text, not in a link destination (no percent-encoding), not in a title.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <cmark.h>

#include "engine/mail/markdown.h"
#include "engine/util/alloc.h"

#define MARK_BASE "zqpostinomd"
#define MARK_MAX 64
#define BRACKET_NAME_MAX 64      /* as the template compiler reads a [WORD%%default] */
#define BRACKET_DEFAULT_MAX 256

struct tags {
    char mark[MARK_MAX + 1];
    size_t mark_len;
    const char **at;             /* each tag in the source */
    size_t *len;
    size_t n;
};

static bool bracket_char(char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '_' ||
           ch == '-' || ch == ' ';
}

/* the length of a template tag at S[I] (of LEN bytes): {{…}}, {{{…}}} or [WORD%%default]; 0 when none */
static size_t tag_at(const char *s, size_t len, size_t i)
{
    if (s[i] == '{' && i + 1 < len && s[i + 1] == '{') {
        const char *close = memmem(s + i + 2, len - i - 2, "}}", 2);
        if (!close)
            return 0;
        size_t end = (size_t)(close - s) + 2;
        if (end < len && s[end] == '}' && i + 2 < len && s[i + 2] == '{')
            end++;
        return end - i;
    }
    if (s[i] != '[' || i + 1 >= len || !((s[i + 1] | 0x20) >= 'a' && (s[i + 1] | 0x20) <= 'z'))
        return 0;
    size_t p = i + 1;
    while (p < len && p - i <= BRACKET_NAME_MAX && bracket_char(s[p]))
        p++;
    if (s[p - 1] == ' ' || p + 1 >= len || s[p] != '%' || s[p + 1] != '%')
        return 0;
    size_t ds = p + 2;
    for (p = ds; p < len && p - ds <= BRACKET_DEFAULT_MAX; p++)
        if (s[p] == ']' || s[p] == '[' || s[p] == '\n')
            break;
    if (p >= len || s[p] != ']' || p - ds > BRACKET_DEFAULT_MAX)
        return 0;
    return p + 1 - i;
}

/* tags_mask - append SRC to OUT with its tags replaced by markers recorded in T */
static void tags_mask(struct tags *t, const char *src, size_t len, struct buf *out)
{
    memcpy(t->mark, MARK_BASE, sizeof(MARK_BASE));
    t->mark_len = sizeof(MARK_BASE) - 1;
    while (t->mark_len < MARK_MAX && memmem(src, len, t->mark, t->mark_len))
        t->mark[t->mark_len++] = 'q';
    t->mark[t->mark_len] = 0;
    size_t i = 0, text = 0;
    while (i < len) {
        size_t n = tag_at(src, len, i);
        if (n == 0) {
            i++;
            continue;
        }
        buf_append(out, src + text, i - text);
        t->at = xrealloc(t->at, (t->n + 1) * sizeof(*t->at));
        t->len = xrealloc(t->len, (t->n + 1) * sizeof(*t->len));
        t->at[t->n] = src + i;
        t->len[t->n] = n;
        buf_appendf(out, "%s%zux", t->mark, t->n);
        t->n++;
        i = text = i + n;
    }
    buf_append(out, src + text, len - text);
}

/* tags_restore - append HTML to OUT with each marker of T replaced by its tag as written */
static void tags_restore(const struct tags *t, const char *html, struct buf *out)
{
    const char *p = html, *q;
    while (t->n && (q = strstr(p, t->mark)) != NULL) {
        char *end;
        const char *num = q + t->mark_len;
        size_t k = (*num >= '0' && *num <= '9') ? strtoul(num, &end, 10) : t->n;
        buf_append(out, p, (size_t)(q - p));
        if (k < t->n && *end == 'x') {
            buf_append(out, t->at[k], t->len[k]);
            p = end + 1;
        } else {
            buf_append(out, q, t->mark_len);
            p = num;
        }
    }
    buf_appends(out, p);
}

/* markdown_render - see markdown.h. */
int markdown_render(const char *src, size_t len, struct buf *out)
{
    struct tags t = { .n = 0 };
    struct buf masked = BUF_INIT;
    tags_mask(&t, src, len, &masked);
    char *html = cmark_markdown_to_html(masked.data ? masked.data : "", masked.len,
                                        CMARK_OPT_DEFAULT | CMARK_OPT_VALIDATE_UTF8);
    int rc = html ? 0 : -1;
    if (html)
        tags_restore(&t, html, out);
    free(html);
    buf_free(&masked);
    xfree(t.at);
    xfree(t.len);
    return rc;
}
