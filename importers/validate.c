/*
 * validate - column plans, address and text checks, and the JSON of attributes.
 */
#include <stdio.h>
#include <string.h>

#include "engine/mail/subscriber_fields.h"
#include "engine/util/alloc.h"
#include "engine/util/str.h"
#include "importers/validate.h"

/* A trimmed copy of the LEN bytes at S, owned by the caller. */
static char *trimmed_dup(const char *s, size_t len)
{
    char *d = xstrndup(s, len);
    char *t = str_trim(d);
    memmove(d, t, strlen(t) + 1);
    return d;
}

static const char *const email_headers[] = { "email", "e-mail", "email address", "e-mail address", "mail" };
static const char *const name_headers[] = { "name", "full name", "fullname" };

/*
 * import_map_add - add SPEC ("COLUMN=FIELD") to M. FIELD "-" or "" skips the
 * column. Returns 0, or -1 with ERR when SPEC has no '=' or no column.
 */
int import_map_add(struct import_map *m, const char *spec, char *err, size_t errlen)
{
    const char *eq = strrchr(spec, '=');
    if (!eq || eq == spec) {
        snprintf(err, errlen, "--map takes COLUMN=FIELD, not \"%s\"", spec);
        return -1;
    }
    char *column = trimmed_dup(spec, (size_t)(eq - spec));
    char *field = trimmed_dup(eq + 1, strlen(eq + 1));
    if (strcmp(field, "-") == 0)
        field[0] = 0;
    m->v = xrealloc(m->v, (m->n + 1) * sizeof(*m->v));
    m->v[m->n].column = column;
    m->v[m->n].field = field;
    m->v[m->n].used = false;
    m->n++;
    return 0;
}

/* import_map_free - release M's entries. */
void import_map_free(struct import_map *m)
{
    for (size_t i = 0; i < m->n; i++) {
        xfree(m->v[i].column);
        xfree(m->v[i].field);
    }
    xfree(m->v);
    m->v = NULL;
    m->n = 0;
}

static struct import_map_entry *map_find(const struct import_map *m, const char *column)
{
    for (size_t i = 0; m && i < m->n; i++)
        if (str_eq_nocase(m->v[i].column, column))
            return &m->v[i];
    return NULL;
}

static bool is_one_of(const char *s, const char *const *names, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (str_eq_nocase(s, names[i]))
            return true;
    return false;
}

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* Decide what column I (header H) is, following the map first. */
static void plan_column(struct import_columns *c, size_t i, const char *h, struct import_map *m)
{
    struct import_map_entry *e = map_find(m, h);
    const char *field = e ? e->field : h;
    if (e)
        e->used = true;
    c->key[i] = NULL;
    if (!*field)
        c->kind[i] = IMPORT_COL_SKIP;
    else if (e ? str_eq_nocase(field, "email") : is_one_of(field, email_headers, COUNT(email_headers)))
        c->kind[i] = IMPORT_COL_EMAIL;
    else if (e ? str_eq_nocase(field, "name") : is_one_of(field, name_headers, COUNT(name_headers)))
        c->kind[i] = IMPORT_COL_NAME;
    else {
        c->kind[i] = IMPORT_COL_ATTR;
        c->key[i] = xstrdup(field);
    }
}

/*
 * import_columns_from_header - plan the columns of the header record HDR
 * with the mappings M. Exactly one column must be the email; columns with an
 * empty header are skipped. Returns 0, or -1 with ERR (no email column, two
 * of them, two name columns, a header that is not UTF-8, a --map naming no
 * column, an attribute column whose name breaks subscriber_attr_key_check). The caller import_columns_free()s C in both cases.
 */
int import_columns_from_header(struct import_columns *c, const struct csv_record *hdr, struct import_map *m,
                               char *err, size_t errlen)
{
    memset(c, 0, sizeof(*c));
    c->n = hdr->nfields;
    c->kind = xcalloc(c->n ? c->n : 1, sizeof(*c->kind));
    c->header = xcalloc(c->n ? c->n : 1, sizeof(*c->header));
    c->key = xcalloc(c->n ? c->n : 1, sizeof(*c->key));
    int emails = 0, names = 0;
    for (size_t i = 0; i < c->n; i++) {
        const struct csv_field *f = &hdr->fields[i];
        if (!str_utf8_valid(f->data, f->len, NULL) || memchr(f->data, 0, f->len)) {
            snprintf(err, errlen, "line %ld: the header is not valid UTF-8 (is the file latin1? try --encoding latin1)",
                     hdr->line);
            return -1;
        }
        c->header[i] = trimmed_dup(f->data, f->len);
        plan_column(c, i, c->header[i], m);
        if (!c->header[i][0])
            c->kind[i] = IMPORT_COL_SKIP;
        if (c->kind[i] == IMPORT_COL_EMAIL && emails++ == 0)
            c->email = i;
        if (c->kind[i] == IMPORT_COL_NAME)
            names++;
    }
    for (size_t i = 0; m && i < m->n; i++)
        if (!m->v[i].used) {
            snprintf(err, errlen, "--map %s=…: the header has no column \"%s\"", m->v[i].column, m->v[i].column);
            return -1;
        }
    if (emails == 0) {
        snprintf(err, errlen, "the header has no email column (name one \"email\" or use --map COLUMN=email)");
        return -1;
    }
    if (emails > 1 || names > 1) {
        snprintf(err, errlen, "the header has two %s columns (skip one with --map COLUMN=-)",
                 emails > 1 ? "email" : "name");
        return -1;
    }
    for (size_t i = 0; i < c->n; i++) {
        const char *why;
        if (c->kind[i] == IMPORT_COL_ATTR && subscriber_attr_key_check(c->key[i], &why) < 0) {
            snprintf(err, errlen, "column %zu: the attribute name %s (rename it with --map COLUMN=KEY or skip it"
                     " with --map COLUMN=-)", i + 1, why);
            return -1;
        }
    }
    return 0;
}

/* import_columns_free - release C. */
void import_columns_free(struct import_columns *c)
{
    for (size_t i = 0; i < c->n; i++) {
        if (c->header)
            xfree(c->header[i]);
        if (c->key)
            xfree(c->key[i]);
    }
    xfree(c->kind);
    xfree(c->header);
    xfree(c->key);
    memset(c, 0, sizeof(*c));
}

/* import_lists_add - remember that list NAME has id ID. */
void import_lists_add(struct import_lists *l, const char *name, long long id)
{
    l->v = xrealloc(l->v, (l->n + 1) * sizeof(*l->v));
    l->v[l->n].name = xstrdup(name);
    l->v[l->n].id = id;
    l->n++;
}

/* import_lists_find - the id of the list named NAME, or -1. */
long long import_lists_find(const struct import_lists *l, const char *name)
{
    for (size_t i = 0; l && i < l->n; i++)
        if (strcmp(l->v[i].name, name) == 0)
            return l->v[i].id;
    return -1;
}

/* import_lists_free - release L. */
void import_lists_free(struct import_lists *l)
{
    for (size_t i = 0; i < l->n; i++)
        xfree(l->v[i].name);
    xfree(l->v);
    l->v = NULL;
    l->n = 0;
}

/* import_row_init - an empty row. */
void import_row_init(struct import_row *row)
{
    memset(row, 0, sizeof(*row));
    buf_init(&row->name);
    buf_init(&row->attribs);
}

/* import_row_free - release ROW's memory. */
void import_row_free(struct import_row *row)
{
    buf_free(&row->name);
    buf_free(&row->attribs);
    xfree(row->lists);
    memset(row, 0, sizeof(*row));
}

static void row_reset(struct import_row *row, long line)
{
    row->line = line;
    row->email[0] = 0;
    buf_reset(&row->name);
    row->has_name = false;
    buf_reset(&row->attribs);
    buf_appendc(&row->attribs, '{');
    row->nlists = 0;
}

static bool is_blank(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v';
}

/* Trim ASCII whitespace off the LEN bytes at *P. */
static void trim_span(const char **p, size_t *len)
{
    while (*len && is_blank((unsigned char)**p))
        (*p)++, (*len)--;
    while (*len && is_blank((unsigned char)(*p)[*len - 1]))
        (*len)--;
}

static void json_string(struct buf *b, const char *s, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    buf_reserve(b, len + 2);
    buf_appendc(b, '"');
    size_t run = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        buf_append(b, s + run, i - run);
        run = i + 1;
        if (c == '"' || c == '\\') {
            buf_appendc(b, '\\');
            buf_appendc(b, (char)c);
        } else {
            char u[6] = { '\\', 'u', '0', '0', hex[c >> 4], hex[c & 15] };
            buf_append(b, u, 6);
        }
    }
    buf_append(b, s + run, len - run);
    buf_appendc(b, '"');
}

static void row_add_attr(struct import_row *row, const char *key, const char *value, size_t len)
{
    trim_span(&value, &len);
    if (!len)
        return;
    if (row->attribs.len > 1)
        buf_appendc(&row->attribs, ',');
    json_string(&row->attribs, key, strlen(key));
    buf_appendc(&row->attribs, ':');
    json_string(&row->attribs, value, len);
}

/*
 * row_set_name - the trimmed name, line breaks and tabs inside kept (they are
 * spaces in headers); -1 with WHY for another control character, in the
 * words of store_subscriber_add
 */
static int row_set_name(struct import_row *row, const char *s, size_t len, char *why, size_t whylen)
{
    const char *holds;
    trim_span(&s, &len);
    buf_reset(&row->name);
    buf_append(&row->name, s, len);
    row->has_name = len > 0;
    if (subscriber_name_check(buf_cstr(&row->name), &holds) < 0) {
        snprintf(why, whylen, "the subscriber name %s", holds);
        return -1;
    }
    return 0;
}

static int row_set_email(struct import_row *row, const char *s, size_t len, char *why, size_t whylen)
{
    const char *reason;
    trim_span(&s, &len);
    /* "Display Name <address>", as mail clients export it: the address inside the brackets. */
    if (len > 2 && s[len - 1] == '>') {
        const char *lt = memrchr(s, '<', len);
        if (lt) {
            len = (size_t)(s + len - 1 - (lt + 1));
            s = lt + 1;
        }
    }
    if (!len) {
        snprintf(why, whylen, "no email address");
        return -1;
    }
    if (len > 1000) {
        snprintf(why, whylen, "invalid address: longer than %d octets", ADDRESS_MAX);
        return -1;
    }
    char tmp[1001];
    memcpy(tmp, s, len);
    tmp[len] = 0;
    if (address_normalize(tmp, row->email, sizeof(row->email), &reason) < 0) {
        snprintf(why, whylen, "invalid address \"%.120s\": %s", tmp, reason);
        return -1;
    }
    return 0;
}

/*
 * import_row_from_csv - check record REC against the column plan C and fill
 * ROW. Returns 0, or -1 with WHY: more non-empty fields than the header has,
 * a NUL byte or invalid UTF-8 in a column (named), a control character in the
 * name (line breaks and tabs are kept), no or an invalid address.
 */
int import_row_from_csv(struct import_row *row, const struct import_columns *c, const struct csv_record *rec,
                        char *why, size_t whylen)
{
    row_reset(row, rec->line);
    for (size_t i = c->n; i < rec->nfields; i++) {
        const char *p = rec->fields[i].data;
        size_t len = rec->fields[i].len;
        trim_span(&p, &len);
        if (len) {
            snprintf(why, whylen, "%zu fields, the header has %zu", rec->nfields, c->n);
            return -1;
        }
    }
    for (size_t i = 0; i < c->n && i < rec->nfields; i++) {
        const struct csv_field *f = &rec->fields[i];
        if (c->kind[i] == IMPORT_COL_SKIP || f->len == 0)
            continue;
        size_t bad;
        if (memchr(f->data, 0, f->len)) {
            snprintf(why, whylen, "NUL byte in column \"%.80s\"", c->header[i]);
            return -1;
        }
        if (!str_utf8_valid(f->data, f->len, &bad)) {
            snprintf(why, whylen, "invalid UTF-8 in column \"%.80s\" at byte %zu", c->header[i], bad + 1);
            return -1;
        }
        if (c->kind[i] == IMPORT_COL_NAME) {
            if (row_set_name(row, f->data, f->len, why, whylen) < 0)
                return -1;
        } else if (c->kind[i] == IMPORT_COL_ATTR) {
            row_add_attr(row, c->key[i], f->data, f->len);
        }
    }
    buf_appendc(&row->attribs, '}');
    const char *email = c->email < rec->nfields ? rec->fields[c->email].data : "";
    size_t elen = c->email < rec->nfields ? rec->fields[c->email].len : 0;
    return row_set_email(row, email, elen, why, whylen);
}

/* import_row_add_list - ROW joins the list ID besides (an XML <list>, or a further list of the import). */
void import_row_add_list(struct import_row *row, long long id)
{
    if (row->nlists == row->caplists) {
        row->caplists = row->caplists ? row->caplists * 2 : 4;
        row->lists = xrealloc(row->lists, row->caplists * sizeof(*row->lists));
    }
    row->lists[row->nlists++] = id;
}

/*
 * import_row_from_xml - check record REC (attribute keys renamed or skipped
 * by M; each <list> looked up in LISTS) and fill ROW. Returns 0, or -1 with
 * WHY: the reader's problem with the record, a control character in the name,
 * no or an invalid address, a list that does not exist.
 */
int import_row_from_xml(struct import_row *row, const struct xml_record *rec, const struct import_map *m,
                        const struct import_lists *lists, char *why, size_t whylen)
{
    row_reset(row, rec->line);
    if (rec->problem) {
        snprintf(why, whylen, "%s", rec->problem);
        return -1;
    }
    const char *email = rec->email;
    const char *name = rec->name;
    for (size_t i = 0; i < rec->nattrs; i++) {
        const struct import_map_entry *e = map_find(m, rec->attrs[i].key);
        const char *key = e ? e->field : rec->attrs[i].key;
        if (!*key)
            continue;
        if (e && str_eq_nocase(key, "email"))
            email = email ? email : rec->attrs[i].value;
        else if (e && str_eq_nocase(key, "name"))
            name = name ? name : rec->attrs[i].value;
        else
            row_add_attr(row, key, rec->attrs[i].value, strlen(rec->attrs[i].value));
    }
    buf_appendc(&row->attribs, '}');
    if (name && row_set_name(row, name, strlen(name), why, whylen) < 0)
        return -1;
    for (size_t i = 0; i < rec->nlists; i++) {
        const char *l = rec->lists[i];
        size_t len = strlen(l);
        trim_span(&l, &len);
        if (!len)
            continue;
        char *ln = xstrndup(l, len);
        long long id = import_lists_find(lists, ln);
        if (id < 0) {
            snprintf(why, whylen, "unknown list \"%.100s\"", ln);
            xfree(ln);
            return -1;
        }
        xfree(ln);
        import_row_add_list(row, id);
    }
    return row_set_email(row, email ? email : "", email ? strlen(email) : 0, why, whylen);
}
