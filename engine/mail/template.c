/*
 * template - compile campaign templates to an op array, render per recipient.
 *
 * The compiled form is a flat array of ops over one string pool: literal
 * text slices, variable slots (which value, escaped or raw, what to print
 * when it is missing), conditional jumps. Rendering is one pass over the ops
 * appending to a buffer; nothing is parsed or looked up by name except
 * attribute keys in the recipient's JSON object, each once per render.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "engine/util/alloc.h"
#include "engine/util/buf.h"
#include "engine/util/str.h"
#include "engine/mail/links.h"
#include "engine/mail/template.h"

#define TMPL_SRC_MAX (16u << 20)
#define BRACKET_NAME_MAX 64
#define BRACKET_DEFAULT_MAX 256

enum op_kind { OP_TEXT, OP_VAR, OP_IF, OP_JUMP };

enum var_id {
    V_EMAIL,
    V_NAME,
    V_FIRSTNAME,
    V_ATTR,
    V_UNSUB_URL,
    V_UNSUB_LINK,
    V_CAMPAIGN_NAME,
    V_CAMPAIGN_SUBJECT,
    V_LIST_NAME,
    V_CONTENT,
    V_CONFIRM_URL,
    V_PREFS_URL,
    V_PREFS_LINK,
    V_LINK,          /* a tracked link (tmpl_track_links): OFF is its index, ALT the href as written */
};

/* op flags */
#define F_RAW 1          /* value never escaped */
#define F_ALT 2          /* ALT slice printed when the value is missing (or empty) */
#define F_ALT_RAW 4      /* ALT printed as it is (source text), not escaped */
#define F_ALT_MISSING 8  /* ALT only when missing, not when empty */
#define F_CMP 16         /* IF compares with the ALT slice */
#define F_NEGATE 32      /* IF is true when the comparison fails */

/* The distinct attribute keys of a template whose values a render remembers. */
#define ATTR_SLOTS 64

struct tmpl_op {
    uint8_t kind;
    uint8_t var;
    uint8_t flags;
    uint8_t slot;        /* V_ATTR: 1 + its key's index among the template's keys, 0 past ATTR_SLOTS */
    uint32_t off, len;   /* TEXT: literal; VAR/IF on V_ATTR: NUL-terminated key */
    uint32_t aoff, alen; /* ALT: default, literal fallback or comparison value */
    uint32_t jump;       /* IF: next op when false; JUMP: next op */
};

struct tmpl {
    struct tmpl_op *ops;
    size_t nops;
    char *pool;
    size_t pool_len;
};

/* Compiler state. */
struct cc {
    struct tmpl_op *ops;
    size_t nops, cap;
    struct buf pool;
    const char *src; /* source being compiled */
    size_t len;
    size_t base;     /* where SRC starts in the pool */
    const char *prefix;
    bool is_layout;  /* content placeholders inline CONTENT */
    bool is_content; /* "content" is no variable here */
    const char *content;
    size_t content_len;
    bool content_seen;
    char *err;
    size_t errlen;
    bool failed;
};

struct cc_if {
    size_t op;       /* the IF op */
    size_t at;       /* source offset of its "{{" */
    size_t else_op;  /* the JUMP emitted at {{else}}, or SIZE_MAX */
};

static int cc_compile(struct cc *c, const char *src, size_t len, const char *prefix, bool is_content);

/* cc_error - record "PREFIXline L, column C: MSG" for source offset AT; returns -1. */
static int __attribute__((format(printf, 3, 4))) cc_error(struct cc *c, size_t at, const char *fmt, ...)
{
    size_t line = 1, col = 1;
    for (size_t i = 0; i < at && i < c->len; i++) {
        unsigned char b = (unsigned char)c->src[i];
        if (b == '\n')
            line++, col = 1;
        else if ((b & 0xC0) != 0x80)
            col++;
    }
    char msg[TMPL_ERR_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (c->errlen)
        snprintf(c->err, c->errlen, "%sline %zu, column %zu: %s", c->prefix, line, col, msg);
    c->failed = true;
    return -1;
}

static struct tmpl_op *cc_emit(struct cc *c, enum op_kind kind)
{
    if (c->nops == c->cap) {
        c->cap = c->cap ? c->cap * 2 : 32;
        c->ops = xrealloc(c->ops, c->cap * sizeof(*c->ops));
    }
    struct tmpl_op *op = &c->ops[c->nops++];
    memset(op, 0, sizeof(*op));
    op->kind = (uint8_t)kind;
    return op;
}

/* cc_text - emit the source slice [FROM, TO) as literal text. */
static void cc_text(struct cc *c, size_t from, size_t to)
{
    if (to <= from)
        return;
    struct tmpl_op *last = c->nops ? &c->ops[c->nops - 1] : NULL;
    if (last && last->kind == OP_TEXT && last->off + last->len == c->base + from) {
        last->len += (uint32_t)(to - from);
        return;
    }
    struct tmpl_op *op = cc_emit(c, OP_TEXT);
    op->off = (uint32_t)(c->base + from);
    op->len = (uint32_t)(to - from);
}

/* cc_pool_add - copy S to the pool, NUL-terminated; returns its offset. */
static uint32_t cc_pool_add(struct cc *c, const char *s, size_t n)
{
    uint32_t off = (uint32_t)c->pool.len;
    buf_append(&c->pool, s, n);
    buf_appendc(&c->pool, 0);
    return off;
}

static bool is_ws(char ch)
{
    return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n';
}

static bool is_path_char(char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
           ch == '_' || ch == '.' || ch == '-';
}

static void skip_ws(const char *s, size_t *p, size_t e)
{
    while (*p < e && is_ws(s[*p]))
        (*p)++;
}

/* word_is - is the slice [S, S+N) exactly WORD? */
static bool word_is(const char *s, size_t n, const char *word)
{
    return strlen(word) == n && memcmp(s, word, n) == 0;
}

static const struct {
    const char *path;
    enum var_id var;
} known_vars[] = {
    { "name", V_NAME },
    { "email", V_EMAIL },
    { "unsubscribe_url", V_UNSUB_URL },
    { "campaign.subject", V_CAMPAIGN_SUBJECT },
    { "campaign.name", V_CAMPAIGN_NAME },
    { "list.name", V_LIST_NAME },
    { "content", V_CONTENT },
    { "confirm_url", V_CONFIRM_URL },
    { "preferences_url", V_PREFS_URL },
};

/*
 * cc_path - read a variable path at *P and fill OP's var (and key for an
 * attribute). Returns 0, or -1 after reporting the error.
 */
static int cc_path(struct cc *c, size_t *p, size_t e, struct tmpl_op *op)
{
    size_t start = *p;
    while (*p < e && is_path_char(c->src[*p]))
        (*p)++;
    const char *s = c->src + start;
    size_t n = *p - start;
    if (n == 0) {
        if (start >= e)
            return cc_error(c, start, "expected a variable name");
        return cc_error(c, start, "expected a variable name, not \"%c\"", c->src[start]);
    }
    if (n > 8 && memcmp(s, "attribs.", 8) == 0) {
        op->var = V_ATTR;
        op->off = cc_pool_add(c, s + 8, n - 8);
        op->len = (uint32_t)(n - 8);
        return 0;
    }
    for (size_t i = 0; i < sizeof(known_vars) / sizeof(known_vars[0]); i++) {
        if (word_is(s, n, known_vars[i].path)) {
            if (known_vars[i].var == V_CONTENT && c->is_content)
                break;
            op->var = (uint8_t)known_vars[i].var;
            return 0;
        }
    }
    return cc_error(c, start, "unknown variable \"%.*s\"", (int)(n > 64 ? 64 : n), s);
}

/* cc_string - read a quoted string at *P into the pool as OP's ALT slice. */
static int cc_string(struct cc *c, size_t *p, size_t e, struct tmpl_op *op, const char *after)
{
    if (*p >= e || (c->src[*p] != '"' && c->src[*p] != '\''))
        return cc_error(c, *p, "expected a quoted string after \"%s\"", after);
    char q = c->src[*p];
    size_t start = (*p)++;
    struct buf tmp = BUF_INIT;
    for (;;) {
        if (*p >= e) {
            buf_free(&tmp);
            return cc_error(c, start, "unterminated string");
        }
        char ch = c->src[(*p)++];
        if (ch == q)
            break;
        if (ch == '\\' && *p < e && (c->src[*p] == q || c->src[*p] == '\\'))
            ch = c->src[(*p)++];
        buf_appendc(&tmp, ch);
    }
    op->aoff = cc_pool_add(c, tmp.data ? tmp.data : "", tmp.len);
    op->alen = (uint32_t)tmp.len;
    buf_free(&tmp);
    return 0;
}

/* cc_end - nothing but whitespace may remain before the closing braces at E. */
static int cc_end(struct cc *c, size_t p, size_t e)
{
    skip_ws(c->src, &p, e);
    if (p < e) {
        size_t n = 1;
        while (p + n < e && ((unsigned char)c->src[p + n] & 0xC0) == 0x80)
            n++;
        return cc_error(c, p, "unexpected \"%.*s\"", (int)n, c->src + p);
    }
    return 0;
}

/* cc_inline_content - compile the campaign body in place of a layout's placeholder. */
static int cc_inline_content(struct cc *c)
{
    struct cc saved = *c;
    c->content_seen = true;
    c->is_layout = false;
    int rc = cc_compile(c, c->content, c->content_len, "content: ", true);
    c->src = saved.src;
    c->len = saved.len;
    c->base = saved.base;
    c->prefix = saved.prefix;
    c->is_layout = true;
    c->is_content = saved.is_content;
    return rc;
}

/* cc_expr - an output tag's expression in [P, E): path [| default "x"]. */
static int cc_expr(struct cc *c, size_t p, size_t e, bool raw)
{
    struct tmpl_op op = { .kind = OP_VAR, .flags = raw ? F_RAW : 0 };
    skip_ws(c->src, &p, e);
    if (cc_path(c, &p, e, &op) < 0)
        return -1;
    skip_ws(c->src, &p, e);
    if (p < e && c->src[p] == '|') {
        p++;
        skip_ws(c->src, &p, e);
        size_t fs = p;
        while (p < e && is_path_char(c->src[p]))
            p++;
        if (p == fs)
            return cc_error(c, fs, "expected a filter name after \"|\"");
        if (!word_is(c->src + fs, p - fs, "default"))
            return cc_error(c, fs, "unknown filter \"%.*s\"", (int)(p - fs > 64 ? 64 : p - fs), c->src + fs);
        skip_ws(c->src, &p, e);
        if (cc_string(c, &p, e, &op, "default") < 0)
            return -1;
        op.flags |= F_ALT;
    }
    if (cc_end(c, p, e) < 0)
        return -1;
    if (op.var == V_CONTENT && c->is_layout)
        return cc_inline_content(c);
    *cc_emit(c, OP_VAR) = op;
    return 0;
}

/* cc_if_open - {{#if PATH [== "v"]}} with the condition in [P, E). */
static int cc_if_open(struct cc *c, size_t p, size_t e, size_t at, struct cc_if **stack, size_t *depth,
                      size_t *cap)
{
    struct tmpl_op op = { .kind = OP_IF };
    skip_ws(c->src, &p, e);
    if (cc_path(c, &p, e, &op) < 0)
        return -1;
    skip_ws(c->src, &p, e);
    if (p + 1 < e && (c->src[p] == '=' || c->src[p] == '!') && c->src[p + 1] == '=') {
        op.flags |= F_CMP | (c->src[p] == '!' ? F_NEGATE : 0);
        const char *opname = c->src[p] == '!' ? "!=" : "==";
        p += 2;
        skip_ws(c->src, &p, e);
        if (cc_string(c, &p, e, &op, opname) < 0)
            return -1;
    }
    if (cc_end(c, p, e) < 0)
        return -1;
    if (*depth == *cap) {
        *cap = *cap ? *cap * 2 : 8;
        *stack = xrealloc(*stack, *cap * sizeof(**stack));
    }
    (*stack)[(*depth)++] = (struct cc_if){ c->nops, at, SIZE_MAX };
    *cc_emit(c, OP_IF) = op;
    return 0;
}

/* cc_block - {{#…}}, {{/…}} or {{else}}; returns 1 when the tag is no block. */
static int cc_block(struct cc *c, size_t p, size_t e, size_t at, struct cc_if **stack, size_t *depth,
                    size_t *cap)
{
    char sigil = c->src[p];
    if (sigil == '#' || sigil == '/') {
        size_t ws = ++p;
        while (p < e && is_path_char(c->src[p]))
            p++;
        if (!word_is(c->src + ws, p - ws, "if"))
            return cc_error(c, ws - 1, "unknown block \"%c%.*s\"", sigil, (int)(p - ws > 32 ? 32 : p - ws),
                            c->src + ws);
        if (sigil == '#')
            return cc_if_open(c, p, e, at, stack, depth, cap);
        if (cc_end(c, p, e) < 0)
            return -1;
        if (*depth == 0)
            return cc_error(c, at, "\"{{/if}}\" without \"{{#if}}\"");
        struct cc_if *top = &(*stack)[--(*depth)];
        if (top->else_op != SIZE_MAX)
            c->ops[top->else_op].jump = (uint32_t)c->nops;
        else
            c->ops[top->op].jump = (uint32_t)c->nops;
        return 0;
    }
    size_t ws = p;
    while (p < e && is_path_char(c->src[p]))
        p++;
    if (!word_is(c->src + ws, p - ws, "else"))
        return 1;
    if (cc_end(c, p, e) < 0)
        return -1;
    if (*depth == 0)
        return cc_error(c, at, "\"{{else}}\" without \"{{#if}}\"");
    struct cc_if *top = &(*stack)[*depth - 1];
    if (top->else_op != SIZE_MAX)
        return cc_error(c, at, "second \"{{else}}\" in one \"{{#if}}\"");
    top->else_op = c->nops;
    cc_emit(c, OP_JUMP);
    c->ops[top->op].jump = (uint32_t)c->nops;
    return 0;
}

/* cc_tag - the tag opening at AT ("{{" or "{{{"); *NEXT is set past its end. */
static int cc_tag(struct cc *c, size_t at, size_t *next, struct cc_if **stack, size_t *depth, size_t *cap)
{
    bool raw = at + 2 < c->len && c->src[at + 2] == '{';
    size_t open = raw ? 3 : 2;
    const char *close = raw ? "}}}" : "}}";
    const char *hit = memmem(c->src + at + open, c->len - at - open, close, open);
    if (!hit)
        return cc_error(c, at, "unclosed \"%s\"", raw ? "{{{" : "{{");
    size_t p = at + open, e = (size_t)(hit - c->src);
    *next = e + open;
    skip_ws(c->src, &p, e);
    if (!raw && p < e) {
        int rc = cc_block(c, p, e, at, stack, depth, cap);
        if (rc <= 0)
            return rc;
    }
    return cc_expr(c, p, e, raw);
}

static const struct {
    const char *name;
    enum var_id var;
} bracket_vars[] = {
    { "EMAIL", V_EMAIL },
    { "NAME", V_NAME },
    { "FIRSTNAME", V_FIRSTNAME },
    { "UNSUBSCRIBEURL", V_UNSUB_URL },
    { "UNSUBSCRIBE", V_UNSUB_LINK },
    { "CONTENT", V_CONTENT },
    { "CONFIRMATIONURL", V_CONFIRM_URL },
    { "PREFERENCESURL", V_PREFS_URL },
    { "PREFERENCES", V_PREFS_LINK },
};

static bool is_bracket_char(char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
           ch == '_' || ch == '-' || ch == ' ';
}

/*
 * cc_bracket - a phpList placeholder at AT ("["). Returns 1 and sets *NEXT
 * when one was compiled, 0 when the bracket is ordinary text, -1 on error.
 */
static int cc_bracket(struct cc *c, size_t at, size_t *next)
{
    size_t p = at + 1, e = c->len;
    char ch = p < e ? c->src[p] : 0;
    if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z')))
        return 0;
    while (p < e && p - at <= BRACKET_NAME_MAX && is_bracket_char(c->src[p]))
        p++;
    size_t name_end = p;
    if (c->src[name_end - 1] == ' ')
        return 0;
    struct tmpl_op op = { .kind = OP_VAR };
    if (p + 1 < e && c->src[p] == '%' && c->src[p + 1] == '%') {
        size_t ds = p + 2;
        for (p = ds; p < e && p - ds <= BRACKET_DEFAULT_MAX; p++)
            if (c->src[p] == ']' || c->src[p] == '[' || c->src[p] == '\n')
                break;
        if (p >= e || c->src[p] != ']' || p - ds > BRACKET_DEFAULT_MAX)
            return 0;
        op.flags |= F_ALT;
        op.aoff = (uint32_t)(c->base + ds);
        op.alen = (uint32_t)(p - ds);
    } else if (p >= e || c->src[p] != ']') {
        return 0;
    }
    *next = p + 1;
    const char *name = c->src + at + 1;
    size_t n = name_end - at - 1;
    op.var = V_ATTR;
    for (size_t i = 0; i < sizeof(bracket_vars) / sizeof(bracket_vars[0]); i++)
        if (strlen(bracket_vars[i].name) == n && strncasecmp(name, bracket_vars[i].name, n) == 0)
            op.var = (uint8_t)bracket_vars[i].var;
    if (op.var == V_CONTENT && c->is_content)
        op.var = V_ATTR;
    if (op.var == V_CONTENT && c->is_layout)
        return cc_inline_content(c) < 0 ? -1 : 1;
    if (op.var == V_ATTR) {
        op.off = cc_pool_add(c, name, n);
        op.len = (uint32_t)n;
        if (!(op.flags & F_ALT)) {
            op.flags |= F_ALT | F_ALT_RAW | F_ALT_MISSING;
            op.aoff = (uint32_t)(c->base + at);
            op.alen = (uint32_t)(*next - at);
        }
    }
    *cc_emit(c, OP_VAR) = op;
    return 1;
}

/* cc_compile - compile one source into C's ops (a layout's content recursively). */
static int cc_compile(struct cc *c, const char *src, size_t len, const char *prefix, bool is_content)
{
    c->src = src;
    c->len = len;
    c->prefix = prefix;
    c->is_content = is_content;
    size_t bad;
    if (len > TMPL_SRC_MAX)
        return cc_error(c, 0, "template larger than %u bytes", TMPL_SRC_MAX);
    if (!str_utf8_valid(src, len, &bad))
        return cc_error(c, bad, "invalid UTF-8");
    c->base = c->pool.len;
    buf_append(&c->pool, src, len);
    buf_appendc(&c->pool, 0);

    struct cc_if *stack = NULL;
    size_t depth = 0, cap = 0, text = 0, p = 0;
    int rc = 0;
    while (p < len) {
        char ch = src[p];
        if (ch == '{' && p + 1 < len && src[p + 1] == '{') {
            cc_text(c, text, p);
            if ((rc = cc_tag(c, p, &p, &stack, &depth, &cap)) < 0)
                break;
            text = p;
        } else if (ch == '[') {
            size_t next;
            cc_text(c, text, p); /* a following literal run merges with this one */
            text = p;
            if ((rc = cc_bracket(c, p, &next)) < 0)
                break;
            if (rc == 1)
                p = text = next;
            else
                p++;
            rc = 0;
        } else {
            p++;
        }
    }
    if (rc == 0) {
        cc_text(c, text, len);
        if (depth > 0)
            rc = cc_error(c, stack[depth - 1].at, "unclosed \"{{#if}}\"");
    }
    xfree(stack);
    return rc;
}

/*
 * assign_slots - number T's distinct attribute keys (as written), so that a
 * render resolves each key once however often the template uses it.
 */
static void assign_slots(struct tmpl *t)
{
    const char *keys[ATTR_SLOTS];
    size_t nkeys = 0;
    for (size_t i = 0; i < t->nops; i++) {
        struct tmpl_op *op = &t->ops[i];
        op->slot = 0;
        if ((op->kind != OP_VAR && op->kind != OP_IF) || op->var != V_ATTR)
            continue;
        const char *key = t->pool + op->off;
        size_t k = 0;
        while (k < nkeys && strcmp(keys[k], key) != 0)
            k++;
        if (k == nkeys) {
            if (nkeys == ATTR_SLOTS)
                continue;
            keys[nkeys++] = key;
        }
        op->slot = (uint8_t)(k + 1);
    }
}

static struct tmpl *cc_finish(struct cc *c, int rc)
{
    if (rc < 0 || c->failed) {
        xfree(c->ops);
        buf_free(&c->pool);
        return NULL;
    }
    struct tmpl *t = xmalloc(sizeof(*t));
    t->ops = c->ops;
    t->nops = c->nops;
    t->pool = buf_detach(&c->pool, &t->pool_len);
    assign_slots(t);
    return t;
}

/* tmpl_compile - compile SRC; NULL and ERR set on error. */
struct tmpl *tmpl_compile(const char *src, size_t len, char *err, size_t errlen)
{
    struct cc c = { .err = err, .errlen = errlen };
    buf_init(&c.pool);
    return cc_finish(&c, cc_compile(&c, src, len, "", false));
}

/* tmpl_compile_wrap - compile LAYOUT with CONTENT at its placeholder; NULL and ERR set on error. */
struct tmpl *tmpl_compile_wrap(const char *layout, size_t layout_len, const char *content,
                               size_t content_len, char *err, size_t errlen)
{
    struct cc c = { .err = err, .errlen = errlen, .is_layout = true, .content = content,
                    .content_len = content_len };
    buf_init(&c.pool);
    c.is_layout = true;
    int rc = cc_compile(&c, layout, layout_len, "", false);
    if (rc == 0 && !c.content_seen) {
        if (errlen)
            snprintf(err, errlen, "template has no [CONTENT] or {{ content }} placeholder");
        rc = -1;
    }
    return cc_finish(&c, rc);
}

/* tmpl_err_position - read back what cc_error wrote. */
int tmpl_err_position(const char *err, unsigned long *line, unsigned long *column)
{
    if (strncmp(err, "content: ", 9) == 0)
        err += 9;
    return sscanf(err, "line %lu, column %lu:", line, column) == 2 ? 0 : -1;
}

/* ---- click tracking: href values of literal text become link ops ---- */

struct track {
    const struct tmpl *src;
    const struct tmpl_op *op;    /* the text op being scanned */
    struct tmpl_op *ops;         /* the new array */
    size_t nops, cap;
    size_t done;                 /* bytes of OP already emitted */
    int (*pick)(void *ctx, const char *raw, size_t len);
    void *ctx;
};

static struct tmpl_op *track_emit(struct track *k)
{
    if (k->nops == k->cap) {
        k->cap = k->cap ? k->cap * 2 : 32;
        k->ops = xrealloc(k->ops, k->cap * sizeof(*k->ops));
    }
    struct tmpl_op *op = &k->ops[k->nops++];
    memset(op, 0, sizeof(*op));
    return op;
}

/* track_found - an href value at [OFF, OFF+LEN) of the text op: a link op when PICK wants it */
static void track_found(void *ctx, size_t off, size_t len)
{
    struct track *k = ctx;
    const char *raw = k->src->pool + k->op->off + off;
    int idx = k->pick(k->ctx, raw, len);
    if (idx < 0)
        return;
    if (off > k->done) {
        struct tmpl_op *t = track_emit(k);
        t->kind = OP_TEXT;
        t->off = k->op->off + (uint32_t)k->done;
        t->len = (uint32_t)(off - k->done);
    }
    struct tmpl_op *l = track_emit(k);
    l->kind = OP_VAR;
    l->var = V_LINK;
    l->flags = F_RAW;
    l->off = (uint32_t)idx;
    l->aoff = k->op->off + (uint32_t)off;
    l->alen = (uint32_t)len;
    k->done = off + len;
}

/* tmpl_track_links - see template.h. */
struct tmpl *tmpl_track_links(const struct tmpl *t, int (*pick)(void *ctx, const char *raw, size_t len), void *ctx)
{
    struct track k = { .src = t, .pick = pick, .ctx = ctx };
    struct links_scan st = LINKS_SCAN_INIT;
    size_t *at = xmalloc((t->nops + 1) * sizeof(*at)); /* old op -> its first new op */
    for (size_t i = 0; i < t->nops; i++) {
        const struct tmpl_op *op = &t->ops[i];
        at[i] = k.nops;
        if (op->kind != OP_TEXT) {
            *track_emit(&k) = *op;
            links_scan_break(&st);
            continue;
        }
        k.op = op;
        k.done = 0;
        links_scan_text(&st, t->pool + op->off, op->len, track_found, &k);
        if (k.done < op->len) {
            struct tmpl_op *rest = track_emit(&k);
            rest->kind = OP_TEXT;
            rest->off = op->off + (uint32_t)k.done;
            rest->len = op->len - (uint32_t)k.done;
        }
    }
    at[t->nops] = k.nops;
    for (size_t i = 0; i < k.nops; i++)
        if (k.ops[i].kind == OP_IF || k.ops[i].kind == OP_JUMP)
            k.ops[i].jump = (uint32_t)at[k.ops[i].jump];
    xfree(at);
    struct tmpl *n = xmalloc(sizeof(*n));
    n->ops = k.ops;
    n->nops = k.nops;
    n->pool = t->pool ? xmemdup(t->pool, t->pool_len + 1) : NULL;
    n->pool_len = t->pool_len;
    return n;
}

/* tmpl_free - release T. */
void tmpl_free(struct tmpl *t)
{
    if (!t)
        return;
    xfree(t->ops);
    xfree(t->pool);
    xfree(t);
}

/* ---- rendering ---- */

static const unsigned char html_special[256] = {
    ['&'] = 1, ['<'] = 1, ['>'] = 1, ['"'] = 1, ['\''] = 1,
};

/* html_escape - append S escaped for HTML text and attribute values. */
static void html_escape(struct buf *out, const char *s, size_t n)
{
    size_t run = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (!html_special[ch])
            continue;
        buf_append(out, s + run, i - run);
        run = i + 1;
        switch (ch) {
        case '&': buf_append(out, "&amp;", 5); break;
        case '<': buf_append(out, "&lt;", 4); break;
        case '>': buf_append(out, "&gt;", 4); break;
        case '"': buf_append(out, "&quot;", 6); break;
        default: buf_append(out, "&#39;", 5); break;
        }
    }
    buf_append(out, s + run, n - run);
}

static void put(struct buf *out, const char *s, size_t n, bool escape)
{
    if (escape)
        html_escape(out, s, n);
    else
        buf_append(out, s, n);
}

/* A value being rendered: a slice, or missing. JSON non-strings are dumped into SCRATCH. */
struct val {
    const char *s;
    size_t n;
    bool missing;
    json_t *json; /* when the value is an attribute */
    char scratch[64];
    char *heap;
};

/* attr_get - the attribute KEY of OBJ: exact match first, then ignoring case. */
static json_t *attr_get(json_t *obj, const char *key)
{
    if (!obj || !json_is_object(obj))
        return NULL;
    json_t *v = json_object_get(obj, key);
    if (v)
        return v;
    const char *k;
    json_object_foreach(obj, k, v) {
        if (strcasecmp(k, key) == 0)
            return v;
    }
    return NULL;
}

static void val_str(struct val *v, const char *s)
{
    v->missing = s == NULL;
    v->s = s ? s : "";
    v->n = s ? strlen(s) : 0;
}

/* val_json - the text of a JSON value: strings as they are, null empty, others as JSON text. */
static void val_json(struct val *v, json_t *j)
{
    v->json = j;
    val_str(v, j ? "" : NULL); /* null is present but empty */
    if (!j || json_is_null(j))
        return;
    if (json_is_string(j)) {
        v->s = json_string_value(j);
        v->n = json_string_length(j);
        return;
    }
    size_t n = json_dumpb(j, v->scratch, sizeof(v->scratch), JSON_ENCODE_ANY | JSON_COMPACT);
    if (n > sizeof(v->scratch)) {
        v->heap = xmalloc(n);
        n = json_dumpb(j, v->heap, n, JSON_ENCODE_ANY | JSON_COMPACT);
        v->s = v->heap;
    } else {
        v->s = v->scratch;
    }
    v->n = n;
}

/* first_word - the first whitespace-separated word of S (S itself when NULL). */
static void val_first_word(struct val *v, const char *s)
{
    val_str(v, s);
    if (!s)
        return;
    while (v->n && (*v->s == ' ' || *v->s == '\t'))
        v->s++, v->n--;
    size_t i = 0;
    while (i < v->n && v->s[i] != ' ' && v->s[i] != '\t')
        i++;
    v->n = i;
}

/* The attribute values one render has looked up, by slot. */
struct seen {
    uint64_t have;
    json_t *attr[ATTR_SLOTS];
};

/* attr_slot - OP's attribute of V, looked up once per render (SEEN) when it has a slot */
static json_t *attr_slot(const struct tmpl *t, const struct tmpl_op *op, const struct tmpl_values *v,
                         struct seen *seen)
{
    if (!op->slot)
        return attr_get(v->attribs, t->pool + op->off);
    uint64_t bit = (uint64_t)1 << (op->slot - 1);
    if (!(seen->have & bit)) {
        seen->attr[op->slot - 1] = attr_get(v->attribs, t->pool + op->off);
        seen->have |= bit;
    }
    return seen->attr[op->slot - 1];
}

/* val_get - resolve OP's variable for the values V. */
static void val_get(struct val *val, const struct tmpl *t, const struct tmpl_op *op,
                    const struct tmpl_values *v, struct seen *seen)
{
    val->heap = NULL;
    val->json = NULL;
    switch (op->var) {
    case V_EMAIL: val_str(val, v->email); break;
    case V_NAME: val_str(val, v->name); break;
    case V_FIRSTNAME: {
        json_t *j = attr_get(v->attribs, "firstname");
        if (j && json_is_string(j) && json_string_length(j))
            val_json(val, j);
        else
            val_first_word(val, v->name);
        break;
    }
    case V_ATTR: val_json(val, attr_slot(t, op, v, seen)); break;
    case V_UNSUB_URL:
    case V_UNSUB_LINK: val_str(val, v->unsubscribe_url); break;
    case V_CAMPAIGN_NAME: val_str(val, v->campaign_name); break;
    case V_CAMPAIGN_SUBJECT: val_str(val, v->campaign_subject); break;
    case V_LIST_NAME: val_str(val, v->list_name); break;
    case V_CONFIRM_URL: val_str(val, v->confirm_url); break;
    case V_PREFS_URL:
    case V_PREFS_LINK: val_str(val, v->preferences_url); break;
    default: val_str(val, v->content); break;
    }
}

/* val_truthy - a condition's value: non-empty, and for JSON not false, 0, [] or {}. */
static bool val_truthy(const struct val *val)
{
    json_t *j = val->json;
    if (val->missing || val->n == 0)
        return false;
    if (!j)
        return true;
    if (json_is_false(j))
        return false;
    if (json_is_integer(j))
        return json_integer_value(j) != 0;
    if (json_is_real(j))
        return json_real_value(j) != 0.0;
    if (json_is_array(j))
        return json_array_size(j) > 0;
    if (json_is_object(j))
        return json_object_size(j) > 0;
    return true;
}

/* render_link - a tracked link: the values' URL for it (escaped in HTML), else the href as written */
static void render_link(const struct tmpl *t, const struct tmpl_op *op, const struct tmpl_values *v, bool html,
                        struct buf *out)
{
    if (!v->link) {
        buf_append(out, t->pool + op->aoff, op->alen);
        return;
    }
    size_t mark = out->len, i;
    v->link(v->link_ctx, op->off, out);
    for (i = mark; i < out->len && !html_special[(unsigned char)out->data[i]]; i++)
        ;
    if (html && i < out->len) {
        char *url = xmemdup(out->data + mark, out->len - mark);
        size_t n = out->len - mark;
        buf_truncate(out, mark);
        html_escape(out, url, n);
        xfree(url);
    }
}

static void render_var(const struct tmpl *t, const struct tmpl_op *op, const struct tmpl_values *v,
                       struct seen *seen, bool html, struct buf *out)
{
    struct val val;
    if (op->var == V_LINK) {
        render_link(t, op, v, html, out);
        return;
    }
    val_get(&val, t, op, v, seen);
    bool use_alt = (op->flags & F_ALT) && (val.missing || (!(op->flags & F_ALT_MISSING) && val.n == 0));
    if (use_alt) {
        put(out, t->pool + op->aoff, op->alen, html && !(op->flags & (F_ALT_RAW | F_RAW)));
    } else if (op->var == V_CONTENT) {
        buf_append(out, val.s, val.n);
    } else if ((op->var == V_UNSUB_LINK || op->var == V_PREFS_LINK) && html && val.n) {
        buf_append(out, "<a href=\"", 9);
        html_escape(out, val.s, val.n);
        buf_appends(out, op->var == V_UNSUB_LINK ? "\">Unsubscribe</a>" : "\">Preferences</a>");
    } else {
        put(out, val.s, val.n, html && !(op->flags & F_RAW));
    }
    xfree(val.heap);
}

static bool render_cond(const struct tmpl *t, const struct tmpl_op *op, const struct tmpl_values *v,
                        struct seen *seen)
{
    struct val val;
    val_get(&val, t, op, v, seen);
    bool r;
    if (op->flags & F_CMP)
        r = val.n == op->alen && memcmp(val.s, t->pool + op->aoff, val.n) == 0;
    else
        r = val_truthy(&val);
    xfree(val.heap);
    return (op->flags & F_NEGATE) ? !r : r;
}

/* tmpl_render - append T for V to OUT; HTML mode escapes values. */
void tmpl_render(const struct tmpl *t, const struct tmpl_values *v, enum tmpl_mode mode, struct buf *out)
{
    bool html = mode == TMPL_HTML;
    struct seen seen;
    seen.have = 0;
    size_t i = 0;
    while (i < t->nops) {
        const struct tmpl_op *op = &t->ops[i];
        switch (op->kind) {
        case OP_TEXT:
            buf_append(out, t->pool + op->off, op->len);
            i++;
            break;
        case OP_VAR:
            render_var(t, op, v, &seen, html, out);
            i++;
            break;
        case OP_IF:
            i = render_cond(t, op, v, &seen) ? i + 1 : op->jump;
            break;
        default:
            i = op->jump;
            break;
        }
    }
}
