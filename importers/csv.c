/*
 * csv - streaming CSV records with line numbers and original text, on libcsv.
 *
 * The input is fed to libcsv one physical line at a time (each piece ends at
 * a CR or LF), so a record always completes at the end of a piece and the
 * bytes fed since the last record are exactly its original text. Blank lines
 * leave libcsv in its "row not begun" state and are dropped.
 */
#include <csv.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "engine/util/alloc.h"
#include "engine/util/buf.h"
#include "importers/csv.h"

#define CSV_ROW_NOT_BEGUN 0   /* libcsv's pstate before any byte of a row */

struct csv_reader {
    struct csv_parser parser;
    struct buf raw;             /* the current record's original bytes */
    struct buf fdata;           /* its fields, each NUL-terminated */
    size_t *offs, *lens;
    struct csv_field *fields;
    size_t nfields, cap;
    long line;                  /* the physical line the next byte is on */
    long rec_line;              /* the line the current record started on */
    bool prev_cr;               /* the last byte fed was CR (a CRLF may follow) */
    bool row_done;              /* libcsv completed a row in the last piece */
    bool failed;
    char err[160];
};

static const char delimiters[] = { ',', ';', '\t', '|' };

/*
 * csv_detect_delimiter - the delimiter of the first line of DATA: whichever
 * of , ; TAB | occurs most often outside quotes (ties in that order); ','
 * when none does.
 */
int csv_detect_delimiter(const char *data, size_t len)
{
    size_t count[sizeof(delimiters)] = { 0 };
    bool quoted = false;
    for (size_t i = 0; i < len; i++) {
        char c = data[i];
        if (c == '"')
            quoted = !quoted;
        else if (!quoted && (c == '\n' || c == '\r'))
            break;
        else if (!quoted)
            for (size_t d = 0; d < sizeof(delimiters); d++)
                if (c == delimiters[d])
                    count[d]++;
    }
    size_t best = 0;
    for (size_t d = 1; d < sizeof(delimiters); d++)
        if (count[d] > count[best])
            best = d;
    return delimiters[best];
}

static int only_space(unsigned char c)
{
    return c == ' ';
}

/* csv_reader_new - a reader splitting fields at DELIM; the caller csv_reader_free()s it. */
struct csv_reader *csv_reader_new(int delim)
{
    struct csv_reader *r = xcalloc(1, sizeof(*r));
    (void)csv_init(&r->parser, 0);   /* fails only for a NULL parser */
    csv_set_realloc_func(&r->parser, xrealloc);
    csv_set_free_func(&r->parser, xfree);
    csv_set_space_func(&r->parser, only_space);
    csv_set_delim(&r->parser, (unsigned char)delim);
    r->line = 1;
    r->rec_line = 1;
    return r;
}

static void on_field(void *data, size_t len, void *arg)
{
    struct csv_reader *r = arg;
    if (r->nfields == r->cap) {
        r->cap = r->cap ? r->cap * 2 : 16;
        r->offs = xrealloc(r->offs, r->cap * sizeof(*r->offs));
        r->lens = xrealloc(r->lens, r->cap * sizeof(*r->lens));
    }
    r->offs[r->nfields] = r->fdata.len;
    r->lens[r->nfields] = len;
    r->nfields++;
    buf_append(&r->fdata, data, len);
    buf_appendc(&r->fdata, 0);
}

static void on_row(int c, void *arg)
{
    struct csv_reader *r = arg;
    (void)c;
    r->row_done = true;
}

/* Hand the completed record to FN and start the next one. */
static int emit(struct csv_reader *r, csv_record_fn fn, void *arg)
{
    size_t rawlen = r->raw.len;
    while (rawlen && (r->raw.data[rawlen - 1] == '\n' || r->raw.data[rawlen - 1] == '\r'))
        rawlen--;
    buf_truncate(&r->raw, rawlen);
    r->fields = xrealloc(r->fields, (r->nfields ? r->nfields : 1) * sizeof(*r->fields));
    for (size_t i = 0; i < r->nfields; i++) {
        r->fields[i].data = r->fdata.data + r->offs[i];
        r->fields[i].len = r->lens[i];
    }
    struct csv_record rec = { r->rec_line, r->nfields, r->fields, buf_cstr(&r->raw), rawlen };
    int rc = fn(&rec, arg);
    r->nfields = 0;
    buf_reset(&r->fdata);
    buf_reset(&r->raw);
    r->row_done = false;
    r->rec_line = r->line;
    return rc;
}

/* Feed one piece: bytes up to and including at most one line end, at its end. */
static int feed_piece(struct csv_reader *r, const char *p, size_t n, csv_record_fn fn, void *arg)
{
    if (r->raw.len == 0)
        r->rec_line = r->line;
    buf_append(&r->raw, p, n);
    if (csv_parse(&r->parser, p, n, on_field, on_row, r) != n) {
        snprintf(r->err, sizeof(r->err), "line %ld: %s", r->rec_line, csv_strerror(csv_error(&r->parser)));
        r->failed = true;
        return -1;
    }
    char last = p[n - 1];
    if (last == '\n') {
        if (!(r->prev_cr && n == 1))   /* the LF of a CRLF split from its CR is no new line */
            r->line++;
        r->prev_cr = false;
    } else if (last == '\r') {
        r->line++;
        r->prev_cr = true;
    } else {
        r->prev_cr = false;
    }
    if (r->row_done)
        return emit(r, fn, arg);
    if (r->parser.pstate == CSV_ROW_NOT_BEGUN && (last == '\n' || last == '\r')) {
        buf_reset(&r->raw);   /* a blank line */
        r->rec_line = r->line;
    } else if (r->raw.len > CSV_RECORD_MAX) {
        snprintf(r->err, sizeof(r->err), "line %ld: record longer than %d bytes (an unclosed quote?)",
                 r->rec_line, CSV_RECORD_MAX);
        r->failed = true;
        return -1;
    }
    return 0;
}

/*
 * csv_reader_feed - parse LEN bytes of DATA, calling FN for each record they
 * complete. Returns 0, FN's non-zero value when it stopped, or -1 when the
 * input cannot be read as CSV (csv_reader_error says why).
 */
int csv_reader_feed(struct csv_reader *r, const char *data, size_t len, csv_record_fn fn, void *arg)
{
    if (r->failed)
        return -1;
    size_t i = 0;
    while (i < len) {
        size_t j = i;
        while (j < len && data[j] != '\n' && data[j] != '\r')
            j++;
        if (j < len)
            j++;
        int rc = feed_piece(r, data + i, j - i, fn, arg);
        if (rc != 0)
            return rc;
        i = j;
    }
    return 0;
}

/* csv_reader_finish - end of input: emit the last record when it lacks a line end. As feed. */
int csv_reader_finish(struct csv_reader *r, csv_record_fn fn, void *arg)
{
    if (r->failed)
        return -1;
    csv_fini(&r->parser, on_field, on_row, r);
    if (r->row_done)
        return emit(r, fn, arg);
    return 0;
}

/* csv_reader_error - why the reader stopped, or "" when it did not. */
const char *csv_reader_error(const struct csv_reader *r)
{
    return r->err;
}

/* csv_reader_free - release R and everything it holds; NULL is accepted. */
void csv_reader_free(struct csv_reader *r)
{
    if (!r)
        return;
    csv_free(&r->parser);
    buf_free(&r->raw);
    buf_free(&r->fdata);
    xfree(r->offs);
    xfree(r->lens);
    xfree(r->fields);
    xfree(r);
}
