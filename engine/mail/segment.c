/*
 * segment - the filter language compiled to SQL with bound values (see
 * segment.h). A hand-written lexer and recursive-descent parser that writes
 * the SQL as it reads; values go to the parameter list, never into the text.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "engine/mail/segment.h"
#include "engine/mail/subscriber_fields.h"
#include "engine/util/alloc.h"
#include "engine/util/buf.h"
#include "engine/util/str.h"

enum tok_kind { T_EOF, T_IDENT, T_STRING, T_NUMBER, T_DATE, T_DURATION, T_LP, T_RP, T_COMMA, T_DOT, T_OP };

struct tok {
    enum tok_kind kind;
    size_t at, len;     /* where in the expression */
    char *text;         /* STRING: the value unescaped; NUMBER, DATE: as written; DURATION: "N days"; OP: the operator */
    bool date_time;     /* DATE: with a time of day */
};

struct parser {
    const char *src;
    size_t len, pos;
    struct tok tok;
    struct buf sql;
    char **params;
    size_t nparams, cap;
    int array, depth, tests;
    bool negated;       /* under an odd number of NOTs */
    char *err;
    size_t errlen;
    bool failed;
};

/* where offset AT is, as "line L, column C" (columns count characters) */
static void position(const struct parser *p, size_t at, int *line, int *col)
{
    *line = 1, *col = 1;
    for (size_t i = 0; i < at && i < p->len; i++) {
        unsigned char c = (unsigned char)p->src[i];
        if (c == '\n')
            (*line)++, *col = 1;
        else if ((c & 0xc0) != 0x80)
            (*col)++;
    }
}

/* fail at offset AT with a message; the first failure is the one kept */
static int fail_at(struct parser *p, size_t at, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail_at(struct parser *p, size_t at, const char *fmt, ...)
{
    if (p->failed)
        return -1;
    p->failed = true;
    int line, col;
    position(p, at, &line, &col);
    int n = snprintf(p->err, p->errlen, "line %d, column %d: ", line, col);
    if (n >= 0 && (size_t)n < p->errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(p->err + n, p->errlen - (size_t)n, fmt, ap);
        va_end(ap);
    }
    return -1;
}

/*
 * TEXT as an error may show it, into OUT (N >= 48 bytes): at most 40 bytes,
 * cut at a character's start, a control character shown as '?', so that the
 * message stays one line of valid UTF-8.
 */
static const char *shown(const char *text, char *out, size_t n)
{
    size_t len = strlen(text), i;
    if (len > 40)
        for (len = 40; len > 0 && ((unsigned char)text[len] & 0xc0) == 0x80; len--)
            ;
    for (i = 0; i < len && i + 1 < n; i++)
        out[i] = (unsigned char)text[i] < 0x20 || text[i] == 0x7f ? '?' : text[i];
    out[i] = '\0';
    return out;
}

/* the current token in words, for "found ..." */
static const char *tok_words(const struct parser *p, char *tmp, size_t n)
{
    switch (p->tok.kind) {
    case T_EOF: return "the end";
    case T_STRING: return "a string";
    case T_NUMBER: return "a number";
    case T_DATE: return "a date";
    case T_DURATION: return "a duration";
    case T_LP: return "\"(\"";
    case T_RP: return "\")\"";
    case T_COMMA: return "\",\"";
    case T_DOT: return "\".\"";
    default: {
        char v[48];
        snprintf(tmp, n, "\"%s\"", shown(p->tok.text, v, sizeof(v)));
        return tmp;
    }
    }
}

#define EXPECTED(p, what)                                                                         \
    do {                                                                                         \
        char tmp_[64];                                                                           \
        return fail_at((p), (p)->tok.at, "expected %s, found %s", (what), tok_words((p), tmp_, sizeof(tmp_))); \
    } while (0)

static bool ident_start(int c) { return isalpha(c) || c == '_'; }
static bool ident_char(int c) { return isalnum(c) || c == '_'; }

/* N digits at S, as a number in *V */
static bool digits(const char *s, int n, int *v)
{
    *v = 0;
    for (int i = 0; i < n; i++) {
        if (!isdigit((unsigned char)s[i]))
            return false;
        *v = *v * 10 + (s[i] - '0');
    }
    return true;
}

/* the length of a date (and time) at S, 0 when there is none; TIME says whether it has a time of day */
static size_t scan_date(const char *s, size_t avail, bool *time, const char **why)
{
    int y, mo, d, h, mi, sec;
    static const int mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    *time = false;
    if (avail < 10 || !digits(s, 4, &y) || s[4] != '-' || !digits(s + 5, 2, &mo) || s[7] != '-' || !digits(s + 8, 2, &d))
        return 0;
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (y < 1 || mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || (mo == 2 && d == 29 && !leap)) {
        *why = "is not a date of the calendar";
        return 10;
    }
    size_t n = 10;
    if (avail >= 16 && s[10] == 'T' && digits(s + 11, 2, &h) && s[13] == ':' && digits(s + 14, 2, &mi)) {
        *time = true;
        n = 16;
        if (avail >= 19 && s[16] == ':' && digits(s + 17, 2, &sec)) {
            n = 19;
            if (sec > 59)
                *why = "has a second over 59";
        }
        if (h > 23 || mi > 59)
            *why = "has an hour or a minute out of range";
        int zh, zm;
        if (n < avail && s[n] == 'Z')
            n++;
        else if (n + 6 <= avail && (s[n] == '+' || s[n] == '-') && digits(s + n + 1, 2, &zh) && s[n + 3] == ':' &&
                 digits(s + n + 4, 2, &zm)) {
            if (zh > 14 || zm > 59)
                *why = "has a time zone out of range";
            n += 6;
        }
    }
    return n;
}

/* read the next token into p->tok */
static int next(struct parser *p)
{
    free(p->tok.text);
    memset(&p->tok, 0, sizeof(p->tok));
    const char *s = p->src;
    while (p->pos < p->len && (s[p->pos] == ' ' || s[p->pos] == '\t' || s[p->pos] == '\n' || s[p->pos] == '\r'))
        p->pos++;
    size_t at = p->pos;
    p->tok.at = at;
    if (at >= p->len) {
        p->tok.kind = T_EOF;
        return 0;
    }
    unsigned char c = (unsigned char)s[at];
    switch (c) {
    case '(': p->tok.kind = T_LP; p->pos++; return 0;
    case ')': p->tok.kind = T_RP; p->pos++; return 0;
    case ',': p->tok.kind = T_COMMA; p->pos++; return 0;
    case '.': p->tok.kind = T_DOT; p->pos++; return 0;
    case '=': p->tok.kind = T_OP; p->tok.text = xstrdup("="); p->pos++; return 0;
    case '!':
        if (at + 1 < p->len && s[at + 1] == '=') {
            p->tok.kind = T_OP, p->tok.text = xstrdup("!="), p->pos += 2;
            return 0;
        }
        return fail_at(p, at, "unexpected \"!\" (not equal is \"!=\")");
    case '<':
    case '>': {
        char op[3] = { (char)c, 0, 0 };
        p->pos++;
        if (p->pos < p->len && s[p->pos] == '=')
            op[1] = '=', p->pos++;
        else if (c == '<' && p->pos < p->len && s[p->pos] == '>')
            op[0] = '!', op[1] = '=', p->pos++;
        p->tok.kind = T_OP, p->tok.text = xstrdup(op);
        return 0;
    }
    case '"': {
        struct buf v;
        buf_init(&v);
        size_t i = at + 1;
        for (;;) {
            if (i >= p->len) {
                buf_free(&v);
                return fail_at(p, at, "a string is not closed (a \" is missing)");
            }
            unsigned char d = (unsigned char)s[i];
            if (d == '"')
                break;
            if (d < 0x20 || d == 0x7f) {
                buf_free(&v);
                return fail_at(p, i, "a control character in a string (write \\n or \\t)");
            }
            if (d == '\\') {
                char e = i + 1 < p->len ? s[i + 1] : 0, u;
                switch (e) {
                case '"': u = '"'; break;
                case '\\': u = '\\'; break;
                case 'n': u = '\n'; break;
                case 't': u = '\t'; break;
                default:
                    buf_free(&v);
                    return fail_at(p, i, "unknown escape in a string (\\\" \\\\ \\n \\t are known)");
                }
                buf_appendc(&v, u);
                i += 2;
                continue;
            }
            buf_appendc(&v, (char)d);
            i++;
        }
        p->pos = i + 1;
        p->tok.kind = T_STRING;
        p->tok.len = p->pos - at;
        p->tok.text = buf_detach(&v, NULL);
        return 0;
    }
    default: break;
    }
    if (isdigit(c) || (c == '-' && at + 1 < p->len && isdigit((unsigned char)s[at + 1]))) {
        bool time;
        const char *why = NULL;
        size_t n = c == '-' ? 0 : scan_date(s + at, p->len - at, &time, &why);
        if (n > 0) {
            if (why)
                return fail_at(p, at, "the date \"%.*s\" %s", (int)n, s + at, why);
            p->tok.kind = T_DATE, p->tok.date_time = time;
        } else {
            n = c == '-';
            while (at + n < p->len && isdigit((unsigned char)s[at + n]))
                n++;
            if (at + n + 1 < p->len && s[at + n] == '.' && isdigit((unsigned char)s[at + n + 1]))
                for (n++; at + n < p->len && isdigit((unsigned char)s[at + n]);)
                    n++;
            p->tok.kind = T_NUMBER;
            char u = at + n < p->len ? s[at + n] : 0;
            if (c != '-' && strspn(s + at, "0123456789") == n && (u == 'h' || u == 'd' || u == 'w') &&
                !(at + n + 1 < p->len && ident_char((unsigned char)s[at + n + 1]))) {
                if (n > 6)
                    return fail_at(p, at, "the duration \"%.*s\" is too long", (int)n + 1, s + at);
                char text[48];
                snprintf(text, sizeof(text), "%.*s %s", (int)n, s + at, u == 'h' ? "hours" : u == 'd' ? "days" : "weeks");
                p->tok.kind = T_DURATION;
                p->tok.text = xstrdup(text);
                p->tok.len = n + 1;
                p->pos = at + n + 1;
                return 0;
            }
            if (n > 40)
                return fail_at(p, at, "a number of more than 40 characters");
        }
        if (at + n < p->len && (ident_char((unsigned char)s[at + n]) || s[at + n] == '.'))
            return fail_at(p, at + n, "unexpected \"%c\" after \"%.*s\"", s[at + n], (int)n, s + at);
        p->tok.text = xstrndup(s + at, n);
        p->tok.len = n;
        p->pos = at + n;
        return 0;
    }
    if (ident_start(c)) {
        size_t n = 1;
        while (at + n < p->len && ident_char((unsigned char)s[at + n]))
            n++;
        p->tok.kind = T_IDENT;
        p->tok.text = xstrndup(s + at, n);
        p->tok.len = n;
        p->pos = at + n;
        return 0;
    }
    if (c >= 0x20 && c < 0x7f)
        return fail_at(p, at, "unexpected \"%c\"", c);
    return fail_at(p, at, "unexpected byte 0x%02x", c);
}

static bool is_word(const struct parser *p, const char *w)
{
    return p->tok.kind == T_IDENT && strcasecmp(p->tok.text, w) == 0;
}

/* add a value; its placeholder is written as $N::CAST */
static void param(struct parser *p, const char *value, const char *cast)
{
    if (p->nparams == p->cap) {
        p->cap = p->cap ? p->cap * 2 : 8;
        p->params = xrealloc(p->params, p->cap * sizeof(*p->params));
    }
    p->params[p->nparams++] = xstrdup(value);
    buf_appendf(&p->sql, "($%d::text[])[%zu]::%s", p->array, p->nparams, cast);
}

/* what a value token is */
enum vtype { V_TEXT, V_NUMBER, V_DATE, V_BOOL };

static int value_type(struct parser *p, enum vtype *t)
{
    switch (p->tok.kind) {
    case T_STRING: *t = V_TEXT; return 0;
    case T_NUMBER: *t = V_NUMBER; return 0;
    case T_DATE: *t = V_DATE; return 0;
    case T_IDENT:
        if (is_word(p, "true") || is_word(p, "false")) {
            *t = V_BOOL;
            return 0;
        }
        break;
    default: break;
    }
    EXPECTED(p, "a value (a \"string\", a number, a date such as 2026-01-31, true or false)");
}

static const char *const vtype_name[] = { "a string", "a number", "a date", "true or false" };

/* the field being tested */
enum field { F_EMAIL, F_NAME, F_STATUS, F_ID, F_CREATED, F_ATTR };

struct fieldref {
    enum field f;
    const char *name;
    size_t at;
    char key[48];       /* F_ATTR: the key's value, as SQL: ($A::text[])[K] */
};

/* the SQL of FR's value compared as type T */
static void field_sql(struct parser *p, const struct fieldref *fr, enum vtype t)
{
    static const char *const col[] = { "lower(s.email)", "lower(s.name)", "s.status", "s.id", "s.created_at" };
    if (fr->f != F_ATTR) {
        buf_appends(&p->sql, col[fr->f]);
        return;
    }
    const char *k = fr->key;
    switch (t) {
    case V_TEXT: buf_appendf(&p->sql, "(s.attribs->>%s)", k); break;
    case V_NUMBER:
        buf_appendf(&p->sql,
                    "(CASE WHEN jsonb_typeof(s.attribs->%s) = 'number'"
                    " OR (s.attribs->>%s) ~ '^\\s*-?[0-9]+(\\.[0-9]+)?\\s*$'"
                    " THEN (s.attribs->>%s)::numeric END)",
                    k, k, k);
        break;
    case V_DATE:
        buf_appendf(&p->sql,
                    "(CASE WHEN (s.attribs->>%s) ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}'"
                    " THEN left(s.attribs->>%s, 10) END)",
                    k, k);
        break;
    case V_BOOL:
        buf_appendf(&p->sql,
                    "(CASE jsonb_typeof(s.attribs->%s) WHEN 'boolean' THEN (s.attribs->>%s)::boolean"
                    " WHEN 'string' THEN CASE lower(s.attribs->>%s) WHEN 'true' THEN true"
                    " WHEN 'false' THEN false END END)",
                    k, k, k);
        break;
    }
}

/* check that a value of type T may be compared with FR; write its placeholder */
static int value_sql(struct parser *p, const struct fieldref *fr, enum vtype t)
{
    static const enum vtype want[] = { V_TEXT, V_TEXT, V_TEXT, V_NUMBER, V_DATE };
    if (fr->f != F_ATTR && t != want[fr->f])
        return fail_at(p, p->tok.at, "%s is compared with %s, not %s", fr->name, vtype_name[want[fr->f]], vtype_name[t]);
    if (fr->f == F_STATUS && strcmp(p->tok.text, "enabled") != 0 && strcmp(p->tok.text, "disabled") != 0 &&
        strcmp(p->tok.text, "blocklisted") != 0)
        return fail_at(p, p->tok.at, "status is \"enabled\", \"disabled\" or \"blocklisted\", not \"%s\"",
                       shown(p->tok.text, (char[48]){ 0 }, 48));
    if (fr->f == F_ID && strchr(p->tok.text, '.'))
        return fail_at(p, p->tok.at, "id is a whole number, not %s", p->tok.text);
    if (fr->f == F_ATTR && t == V_DATE && p->tok.date_time)
        return fail_at(p, p->tok.at, "attributes are compared as dates (2026-01-31), without a time of day");
    switch (t) {
    case V_TEXT:
        if (fr->f == F_EMAIL || fr->f == F_NAME) {
            buf_appends(&p->sql, "lower(");
            param(p, p->tok.text, "text");
            buf_appends(&p->sql, ")");
        } else {
            param(p, p->tok.text, "text");
        }
        break;
    case V_NUMBER: param(p, p->tok.text, fr->f == F_ID ? "bigint" : "numeric"); break;
    case V_DATE: param(p, p->tok.text, fr->f == F_ATTR ? "text" : "timestamptz"); break;
    case V_BOOL: param(p, strcasecmp(p->tok.text, "true") == 0 ? "true" : "false", "boolean"); break;
    }
    return next(p);
}

/* a LIKE pattern matching V literally, between PRE and POST */
static char *like_pattern(const char *v, const char *pre, const char *post)
{
    struct buf b;
    buf_init(&b);
    buf_appends(&b, pre);
    for (; *v; v++) {
        if (*v == '\\' || *v == '%' || *v == '_')
            buf_appendc(&b, '\\');
        buf_appendc(&b, *v);
    }
    buf_appends(&b, post);
    return buf_detach(&b, NULL);
}

static int count_test(struct parser *p, size_t at)
{
    if (++p->tests > SEGMENT_MAX_TESTS)
        return fail_at(p, at, "more than %d tests in one filter", SEGMENT_MAX_TESTS);
    return 0;
}

/*
 * A test's condition opens with test_open and closes with test_close. A test
 * on a missing attribute is NULL in SQL; NOT NULL is NULL, which would make
 * `not a = v` drop the subscribers without a. Under an odd number of NOTs
 * (counting the one `!=` adds) the test is made false instead of NULL;
 * elsewhere NULL and false pick the same rows, and the bare test lets the
 * planner use what it knows of the column.
 */
static void test_open(struct parser *p, bool not)
{
    if (not)
        buf_appends(&p->sql, "NOT ");
    buf_appends(&p->sql, p->negated != not ? "coalesce(" : "(");
}

static void test_close(struct parser *p, bool not)
{
    buf_appends(&p->sql, p->negated != not ? ", false)" : ")");
}

/* field test */
static int field_test(struct parser *p)
{
    static const char *const names[] = { "email", "name", "status", "id", "created_at", "attribs" };
    struct fieldref fr = { .at = p->tok.at };
    size_t i;
    for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (is_word(p, names[i]))
            break;
    if (i == sizeof(names) / sizeof(names[0])) {
        if (p->tok.kind == T_IDENT)
            return fail_at(p, p->tok.at,
                           "unknown field \"%s\" (email, name, status, id, created_at, attribs.KEY; or in_list, sent,"
                           " opened, clicked, bounced, complained followed by \"(\")",
                           shown(p->tok.text, (char[48]){ 0 }, 48));
        EXPECTED(p, "a field, a predicate, \"not\" or \"(\"");
    }
    fr.f = (enum field)i;
    fr.name = names[i];
    if (count_test(p, fr.at) < 0 || next(p) < 0)
        return -1;
    if (fr.f == F_ATTR) {
        if (p->tok.kind != T_DOT)
            EXPECTED(p, "\".\" and an attribute's name after attribs");
        if (next(p) < 0)
            return -1;
        if (p->tok.kind != T_IDENT && p->tok.kind != T_STRING)
            EXPECTED(p, "an attribute's name (attribs.city, or attribs.\"first name\")");
        const char *why;
        if (subscriber_attr_key_check(p->tok.text, &why) < 0)
            return fail_at(p, p->tok.at, "the attribute name %s", why);
        /* the key is a value too; written once, referred to by number */
        size_t mark = p->sql.len;
        param(p, p->tok.text, "text");
        snprintf(fr.key, sizeof(fr.key), "%s", p->sql.data + mark);
        buf_truncate(&p->sql, mark);
        if (next(p) < 0)
            return -1;
    }
    enum vtype t;
    if (p->tok.kind == T_OP) {
        char op[3];
        snprintf(op, sizeof(op), "%s", p->tok.text);
        size_t opat = p->tok.at;
        if (next(p) < 0 || value_type(p, &t) < 0)
            return -1;
        bool eq = strcmp(op, "=") == 0 || strcmp(op, "!=") == 0;
        if (!eq && (t == V_BOOL || fr.f == F_STATUS))
            return fail_at(p, opat, "%s is compared with = or != only", t == V_BOOL ? "true or false" : "status");
        bool not = strcmp(op, "!=") == 0;
        test_open(p, not);
        field_sql(p, &fr, t);
        buf_appendf(&p->sql, " %s ", eq ? "=" : op);
        if (value_sql(p, &fr, t) < 0)
            return -1;
        test_close(p, not);
        return 0;
    }
    if (is_word(p, "in")) {
        if (next(p) < 0)
            return -1;
        if (p->tok.kind != T_LP)
            EXPECTED(p, "\"(\" after in");
        if (next(p) < 0 || value_type(p, &t) < 0)
            return -1;
        if (t == V_BOOL)
            return fail_at(p, p->tok.at, "in takes strings, numbers or dates, not true or false");
        test_open(p, false);
        field_sql(p, &fr, t);
        buf_appends(&p->sql, " IN (");
        for (int n = 0;; n++) {
            enum vtype u;
            if (n > 0 && value_type(p, &u) < 0)
                return -1;
            if (n > 0 && u != t)
                return fail_at(p, p->tok.at, "the values of in are all %s; this one is %s", vtype_name[t], vtype_name[u]);
            if (n >= SEGMENT_MAX_VALUES)
                return fail_at(p, p->tok.at, "more than %d values in one in (...)", SEGMENT_MAX_VALUES);
            if (n > 0)
                buf_appends(&p->sql, ", ");
            if (value_sql(p, &fr, t) < 0)
                return -1;
            if (p->tok.kind == T_RP)
                break;
            if (p->tok.kind != T_COMMA)
                EXPECTED(p, "\",\" or \")\" in the values of in");
            if (next(p) < 0)
                return -1;
        }
        buf_appends(&p->sql, ")");
        test_close(p, false);
        return next(p);
    }
    if (is_word(p, "contains") || is_word(p, "starts_with")) {
        bool contains = is_word(p, "contains");
        if (next(p) < 0)
            return -1;
        if (p->tok.kind != T_STRING)
            EXPECTED(p, contains ? "a string after contains" : "a string after starts_with");
        if (fr.f != F_EMAIL && fr.f != F_NAME && fr.f != F_ATTR)
            return fail_at(p, fr.at, "%s cannot be searched with %s", fr.name, contains ? "contains" : "starts_with");
        char *pat = like_pattern(p->tok.text, contains ? "%" : "", "%");
        test_open(p, false);
        if (fr.f == F_ATTR)
            buf_appends(&p->sql, "lower"), field_sql(p, &fr, V_TEXT);
        else
            field_sql(p, &fr, V_TEXT);
        buf_appends(&p->sql, " LIKE lower(");
        param(p, pat, "text");
        buf_appends(&p->sql, ")");
        test_close(p, false);
        free(pat);
        return next(p);
    }
    if (is_word(p, "exists")) {
        if (fr.f == F_ATTR)
            buf_appendf(&p->sql, "(s.attribs ? %s)", fr.key);
        else if (fr.f == F_NAME)
            buf_appends(&p->sql, "(s.name <> '')");
        else
            buf_appends(&p->sql, "true");
        return next(p);
    }
    EXPECTED(p, "=, !=, <, <=, >, >=, in, contains, starts_with or exists");
}

/* the options of an engagement predicate, up to its ")"; COL the table's time column */
static int pred_options(struct parser *p, const char *alias, const char *time_col, bool first_done)
{
    bool seen_campaign = false, seen_within = false, seen_since = false;
    for (bool first = !first_done; p->tok.kind != T_RP; first = false) {
        if (!first) {
            if (p->tok.kind != T_COMMA)
                EXPECTED(p, "\",\" or \")\"");
            if (next(p) < 0)
                return -1;
        }
        size_t at = p->tok.at;
        bool *seen;
        int which;
        if (is_word(p, "campaign"))
            seen = &seen_campaign, which = 0;
        else if (is_word(p, "within"))
            seen = &seen_within, which = 1;
        else if (is_word(p, "since"))
            seen = &seen_since, which = 2;
        else
            EXPECTED(p, "campaign = N, within = 30d or since = 2026-01-31");
        if (*seen)
            return fail_at(p, at, "%s is given twice", p->tok.text);
        *seen = true;
        if (next(p) < 0)
            return -1;
        if (p->tok.kind != T_OP || strcmp(p->tok.text, "=") != 0)
            EXPECTED(p, "\"=\"");
        if (next(p) < 0)
            return -1;
        if (which == 0) {
            if (p->tok.kind != T_NUMBER || p->tok.text[0] == '-' || strchr(p->tok.text, '.') || strlen(p->tok.text) > 18)
                EXPECTED(p, "a campaign's number");
            buf_appendf(&p->sql, " AND %s.campaign_id = ", alias);
            param(p, p->tok.text, "bigint");
        } else if (which == 1) {
            if (p->tok.kind != T_DURATION)
                EXPECTED(p, "a duration (12h, 30d, 2w)");
            buf_appendf(&p->sql, " AND %s > now() - ", time_col);
            param(p, p->tok.text, "interval");
        } else {
            if (p->tok.kind != T_DATE)
                EXPECTED(p, "a date (2026-01-31)");
            buf_appendf(&p->sql, " AND %s >= ", time_col);
            param(p, p->tok.text, "timestamptz");
        }
        if (next(p) < 0)
            return -1;
    }
    buf_appends(&p->sql, ")");
    return next(p);
}

/* predicate: in_list, sent, opened, clicked, bounced, complained; at the name, followed by "(" */
static int predicate(struct parser *p)
{
    size_t at = p->tok.at;
    char name[16];
    snprintf(name, sizeof(name), "%s", p->tok.text);
    for (char *c = name; *c; c++)
        *c = (char)tolower((unsigned char)*c);
    if (count_test(p, at) < 0 || next(p) < 0 || next(p) < 0)   /* the name, the "(" */
        return -1;
    if (strcmp(name, "in_list") == 0) {
        buf_appends(&p->sql, "EXISTS (SELECT 1 FROM subscriptions sl JOIN lists l ON l.id = sl.list_id"
                             " WHERE sl.subscriber_id = s.id AND sl.status = 'confirmed' AND ");
        if (p->tok.kind == T_STRING) {
            buf_appends(&p->sql, "l.name = ");
            param(p, p->tok.text, "text");
        } else if (p->tok.kind == T_NUMBER && p->tok.text[0] != '-' && !strchr(p->tok.text, '.') &&
                   strlen(p->tok.text) <= 18) {
            buf_appends(&p->sql, "l.id = ");
            param(p, p->tok.text, "bigint");
        } else {
            EXPECTED(p, "a list's name (a string) or number");
        }
        if (next(p) < 0)
            return -1;
        if (p->tok.kind != T_RP)
            EXPECTED(p, "\")\" after the list");
        buf_appends(&p->sql, ")");
        return next(p);
    }
    if (strcmp(name, "sent") == 0) {
        buf_appends(&p->sql, "EXISTS (SELECT 1 FROM deliveries d WHERE d.subscriber_id = s.id AND d.state = 'sent'");
        return pred_options(p, "d", "d.sent_at", false);
    }
    if (strcmp(name, "opened") == 0 || strcmp(name, "clicked") == 0) {
        bool open = name[0] == 'o';
        buf_appendf(&p->sql, "EXISTS (SELECT 1 FROM %s x JOIN deliveries d ON d.id = x.delivery_id WHERE d.subscriber_id = s.id",
                    open ? "opens" : "clicks");
        return pred_options(p, "x", "x.last_at", false);
    }
    if (strcmp(name, "bounced") == 0 || strcmp(name, "complained") == 0) {
        buf_appends(&p->sql, "EXISTS (SELECT 1 FROM bounces b WHERE b.subscriber_id = s.id AND b.class ");
        bool class_given = false;
        if (name[0] == 'b' && p->tok.kind == T_IDENT && !is_word(p, "campaign") && !is_word(p, "within") &&
            !is_word(p, "since")) {
            static const char *const classes[] = { "hard", "soft", "policy", "unknown" };
            size_t i;
            for (i = 0; i < 4 && !is_word(p, classes[i]); i++)
                ;
            if (i == 4)
                return fail_at(p, p->tok.at, "a bounce's class is hard, soft, policy or unknown, not \"%s\"%s",
                               shown(p->tok.text, (char[48]){ 0 }, 48),
                               is_word(p, "complaint") ? " (complaints: complained())" : "");
            buf_appends(&p->sql, "= ");
            param(p, classes[i], "text");
            class_given = true;
            if (next(p) < 0)
                return -1;
        } else {
            buf_appends(&p->sql, name[0] == 'b' ? "<> 'complaint'" : "= 'complaint'");
        }
        return pred_options(p, "b", "b.received_at", class_given);
    }
    return fail_at(p, at, "unknown predicate \"%s\"", name);
}

static int expr(struct parser *p);

static int factor(struct parser *p)
{
    if (++p->depth > SEGMENT_MAX_DEPTH)
        return fail_at(p, p->tok.at, "the filter nests more than %d deep", SEGMENT_MAX_DEPTH);
    int rc;
    if (is_word(p, "not")) {
        buf_appends(&p->sql, "NOT ");
        p->negated = !p->negated;
        rc = next(p) < 0 ? -1 : factor(p);
        p->negated = !p->negated;
    } else if (p->tok.kind == T_LP) {
        rc = next(p) < 0 || expr(p) < 0 ? -1 : 0;
        if (rc == 0 && p->tok.kind != T_RP) {
            char tmp[64];
            rc = fail_at(p, p->tok.at, "expected \")\", found %s", tok_words(p, tmp, sizeof(tmp)));
        }
        if (rc == 0)
            rc = next(p);
    } else if (p->tok.kind == T_IDENT && p->src[p->pos + strspn(p->src + p->pos, " \t\r\n")] == '(' &&
               (is_word(p, "in_list") || is_word(p, "sent") || is_word(p, "opened") || is_word(p, "clicked") ||
                is_word(p, "bounced") || is_word(p, "complained"))) {
        rc = predicate(p);
    } else {
        rc = field_test(p);
    }
    p->depth--;
    return rc;
}

/* a chain of SUB joined by WORD, written as (a OP b OP c) */
static int chain(struct parser *p, int (*sub)(struct parser *), const char *word, const char *op)
{
    buf_appendc(&p->sql, '(');
    if (sub(p) < 0)
        return -1;
    while (is_word(p, word)) {
        buf_appendf(&p->sql, " %s ", op);
        if (next(p) < 0 || sub(p) < 0)
            return -1;
    }
    buf_appendc(&p->sql, ')');
    return 0;
}

static int term(struct parser *p) { return chain(p, factor, "and", "AND"); }
static int expr(struct parser *p) { return chain(p, term, "or", "OR"); }

/* segment_compile - see segment.h. */
int segment_compile(const char *src, int array, struct segment_sql *out, char *err, size_t errlen)
{
    struct parser p = { .src = src, .len = strlen(src), .array = array, .err = err, .errlen = errlen };
    buf_init(&p.sql);
    int rc;
    if (p.len > SEGMENT_MAX_LEN)
        rc = fail_at(&p, SEGMENT_MAX_LEN, "the filter is longer than %d bytes", SEGMENT_MAX_LEN);
    else if (!str_utf8_valid(src, p.len, NULL))
        rc = fail_at(&p, 0, "the filter is not valid UTF-8 text");
    else if (next(&p) < 0)
        rc = -1;
    else if (p.tok.kind == T_EOF)
        rc = fail_at(&p, 0, "the filter is empty");
    else if (expr(&p) < 0)
        rc = -1;
    else if (p.tok.kind != T_EOF) {
        char tmp[64];
        rc = fail_at(&p, p.tok.at, "expected and, or or the end, found %s", tok_words(&p, tmp, sizeof(tmp)));
    } else
        rc = 0;
    free(p.tok.text);
    if (rc < 0) {
        buf_free(&p.sql);
        for (size_t i = 0; i < p.nparams; i++)
            free(p.params[i]);
        free(p.params);
        return -1;
    }
    out->sql = buf_detach(&p.sql, NULL);
    out->params = p.params;
    out->nparams = p.nparams;
    return 0;
}

/* segment_sql_free - see segment.h. */
void segment_sql_free(struct segment_sql *sql)
{
    free(sql->sql);
    for (size_t i = 0; i < sql->nparams; i++)
        free(sql->params[i]);
    free(sql->params);
    memset(sql, 0, sizeof(*sql));
}

/* segment_params_literal - see segment.h. */
char *segment_params_literal(const struct segment_sql *sql)
{
    struct buf b;
    buf_init(&b);
    buf_appendc(&b, '{');
    for (size_t i = 0; i < sql->nparams; i++) {
        buf_appends(&b, i ? ",\"" : "\"");
        for (const char *c = sql->params[i]; *c; c++) {
            if (*c == '"' || *c == '\\')
                buf_appendc(&b, '\\');
            buf_appendc(&b, *c);
        }
        buf_appendc(&b, '"');
    }
    buf_appendc(&b, '}');
    return buf_detach(&b, NULL);
}
