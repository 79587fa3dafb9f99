/*
 * preview - what an import would read, for a person to check before it runs.
 *
 * import_preview       the format, delimiter and encoding, what each column
 *                      becomes, the first rows checked as the import checks them
 * import__text_json    bytes from a file as a JSON string a person can read
 *
 * Nothing here touches the database. The rows go through the functions the
 * import itself uses (validate.h), so a row shown rejected here is rejected
 * by the import in the same words; XML <list> names are looked up in the
 * lists the caller gives. Text shown from the file is made valid UTF-8
 * (U+FFFD for a bad byte) and cut at PREVIEW_TEXT_MAX bytes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/util/alloc.h"
#include "engine/util/buf.h"
#include "engine/util/str.h"
#include "importers/csv.h"
#include "importers/import.h"
#include "importers/xml.h"

#define PREVIEW_TEXT_MAX 2000   /* bytes of a row's text shown */

/* import__text_json - LEN bytes at S as a JSON string: valid UTF-8 (U+FFFD for each bad byte), no NUL, at most MAX bytes */
json_t *import__text_json(const char *s, size_t len, size_t max)
{
    struct buf b = BUF_INIT;
    size_t i = 0;
    while (i < len && b.len < max) {
        size_t bad;
        if (str_utf8_valid(s + i, len - i, &bad))
            bad = len - i;
        /* the valid run, cut at MAX on a character's first byte */
        size_t run = bad;
        if (b.len + run > max) {
            run = max - b.len;
            while (run > 0 && ((unsigned char)s[i + run] & 0xc0) == 0x80)
                run--;
        }
        for (size_t k = 0; k < run; k++)
            if (s[i + k])
                buf_appendc(&b, s[i + k]);
        i += run;
        if (run < bad)
            break;
        if (i < len) {
            buf_appends(&b, "\xef\xbf\xbd");
            i++;
        }
    }
    json_t *j = json_stringn(b.data ? b.data : "", b.len);
    buf_free(&b);
    return j;
}

/*
 * The encoding the first bytes look like: "utf-16" after its byte order
 * mark, "utf-8" when they are valid UTF-8 (a sequence cut by the end of
 * the sample counts as valid), else "windows-1252" (which reads latin1 too).
 */
static const char *encoding_detect(const char *data, size_t len, bool *bom)
{
    size_t bad;
    *bom = len >= 3 && memcmp(data, "\xef\xbb\xbf", 3) == 0;
    if (len >= 2 && (memcmp(data, "\xff\xfe", 2) == 0 || memcmp(data, "\xfe\xff", 2) == 0))
        return "utf-16";
    if (str_utf8_valid(data, len, &bad) || bad + 4 > len)
        return "utf-8";
    return "windows-1252";
}

struct preview {
    struct import_opts *o;
    const struct import_lists *lists;
    size_t max_rows;
    bool partial;       /* the file is the start of one: its last, unended record is cut */
    json_t *columns, *rows;
    bool have_header, more;
    struct import_columns cols;
    struct import_row row;
    char header_err[512];
};

static const char *const kind_names[] = { "skip", "email", "name", "attribute" };

/* the columns of the header record as planned (also when the plan failed) */
static json_t *columns_json(const struct import_columns *c)
{
    json_t *a = json_array();
    for (size_t i = 0; i < c->n && c->header && c->header[i]; i++) {
        json_t *col = json_pack("{s:I, s:s, s:s}", "index", (json_int_t)i, "header", c->header[i], "field",
                                kind_names[c->kind[i]]);
        if (c->kind[i] == IMPORT_COL_ATTR && c->key[i])
            json_object_set_new(col, "key", json_string(c->key[i]));
        json_array_append_new(a, col);
    }
    return a;
}

/* one clean row as JSON */
static json_t *row_json(const struct import_row *row)
{
    json_t *attrs = json_loadb(row->attribs.data, row->attribs.len, 0, NULL);
    json_t *lists = json_array();
    for (size_t i = 0; i < row->nlists; i++)
        json_array_append_new(lists, json_integer(row->lists[i]));
    return json_pack("{s:I, s:s, s:o, s:o, s:o}", "line", (json_int_t)row->line, "email", row->email, "name",
                     row->has_name ? import__text_json(row->name.data, row->name.len, PREVIEW_TEXT_MAX) : json_null(),
                     "attributes", attrs ? attrs : json_object(), "lists", lists);
}

static json_t *reject_json(long line, const char *why, const char *raw, size_t rawlen)
{
    return json_pack("{s:I, s:o, s:o}", "line", (json_int_t)line, "rejected", import__text_json(why, strlen(why), 400),
                     "row", import__text_json(raw, rawlen, PREVIEW_TEXT_MAX));
}

/* a CSV record: the header plans the columns; then each row is checked, until MAX_ROWS are shown */
static int preview_csv_record(const struct csv_record *rec, void *arg)
{
    struct preview *p = arg;
    char why[320];
    if (!p->have_header) {
        p->have_header = true;
        int rc = import_columns_from_header(&p->cols, rec, p->o->map, p->header_err, sizeof(p->header_err));
        json_decref(p->columns);
        p->columns = columns_json(&p->cols);
        return rc < 0 ? 2 : 0;
    }
    if (json_array_size(p->rows) == p->max_rows) {
        p->more = true;
        return 1;
    }
    if (import_row_from_csv(&p->row, &p->cols, rec, why, sizeof(why)) < 0)
        json_array_append_new(p->rows, reject_json(rec->line, why, rec->raw, rec->rawlen));
    else
        json_array_append_new(p->rows, row_json(&p->row));
    return 0;
}

/* the CSV part of a preview: -1 with ERR when the input cannot be read or the reader stopped on bad syntax */
static int preview_csv(struct preview *p, struct import_source *src, json_t *out, char *err, size_t errlen)
{
    int delim = import__csv_delimiter(src, p->o, err, errlen);
    if (delim < 0)
        return -1;
    char d[2] = { (char)delim, 0 };
    json_object_set_new(out, "delimiter", json_string(delim == '\t' ? "tab" : d));
    struct csv_reader *r = csv_reader_new(delim);
    const char *data;
    size_t len;
    int rc = 0, got;
    while (rc == 0 && (got = import_source_read(src, &data, &len, err, errlen)) > 0)
        rc = csv_reader_feed(r, data, len, preview_csv_record, p);
    if (rc == 0 && got == 0 && !p->partial)
        rc = csv_reader_finish(r, preview_csv_record, p);
    else if (rc == 0 && got == 0)
        p->more = true;     /* the record after the last line end was cut, and more follow it */
    if (rc == -1)
        snprintf(err, errlen, "%s", csv_reader_error(r));
    csv_reader_free(r);
    if (rc == 0 && !p->have_header)
        snprintf(p->header_err, sizeof(p->header_err), "the file is empty (a CSV file starts with a header row)");
    return rc < 0 || (rc == 0 && got < 0) ? -1 : 0;
}

/* the XML part of a preview */
static int preview_xml(struct preview *p, struct import_source *src, char *err, size_t errlen)
{
    void *pull;
    struct xml_reader *r = import__xml_open(src, p->o, &pull, err, errlen);
    struct xml_record rec;
    char why[320];
    int got;
    if (!r)
        return -1;
    while ((got = xml_reader_next(r, &rec)) > 0) {
        if (json_array_size(p->rows) == p->max_rows) {
            p->more = true;
            break;
        }
        if (import_row_from_xml(&p->row, &rec, p->o->map, p->lists, why, sizeof(why)) < 0) {
            const char *raw = xml_reader_raw(r);
            json_array_append_new(p->rows, reject_json(rec.line, why, raw, strlen(raw)));
        } else {
            json_array_append_new(p->rows, row_json(&p->row));
        }
    }
    if (got < 0 && !import__xml_failed(pull))
        snprintf(err, errlen, "%s", xml_reader_error(r));
    xml_reader_free(r);
    xfree(pull);
    return got < 0 ? -1 : 0;
}

/*
 * import_preview - read the start of O->path as the import would (O's
 * format, else guessed and set in O; O's delimiter, encoding and map) and
 * describe it: {format, delimiter, encoding, encoding_detected, bom,
 * columns: [{index, header, field, key}], rows: [{line, email, name,
 * attributes, lists} or {line, rejected, row}], more, error}. At most
 * MAX_ROWS rows are shown; MORE says there are others. A file the import
 * would refuse as a whole (no email column, bad XML) is still described,
 * with ERROR saying why. PARTIAL says the file is only the start of one (a
 * client sent its first bytes): a CSV record after the last line end is cut
 * and left out, an XML document that ends not well-formed after some records
 * is no error; there is more. Returns the JSON (the caller's), or
 * NULL with ERR when the file cannot be opened or read, or the encoding is
 * unknown.
 */
json_t *import_preview(struct import_opts *o, const struct import_lists *lists, size_t max_rows, bool partial,
                       char *err, size_t errlen)
{
    struct preview p = { .o = o, .lists = lists, .max_rows = max_rows, .partial = partial };
    struct import_source *src = import_source_open(o->path, err, errlen);
    if (!src)
        return NULL;
    size_t plen;
    bool bom;
    const char *peek = import_source_peek(src, &plen);
    const char *detected = encoding_detect(peek, plen, &bom);
    if (!o->format_given)
        o->format = import_source_guess(src);
    json_t *out = json_pack("{s:s, s:n, s:s, s:s, s:b}", "format", o->format == IMPORT_FORMAT_XML ? "xml" : "csv",
                            "delimiter", "encoding", o->encoding ? o->encoding : "utf-8", "encoding_detected",
                            detected, "bom", bom);
    p.columns = json_array();
    p.rows = json_array();
    import_row_init(&p.row);
    char read_err[512] = "";
    int rc = o->format == IMPORT_FORMAT_XML ? preview_xml(&p, src, read_err, sizeof(read_err))
                                            : preview_csv(&p, src, out, read_err, sizeof(read_err));
    import_source_close(src);
    import_columns_free(&p.cols);
    import_row_free(&p.row);
    if (rc < 0 && strstr(read_err, "unknown encoding")) {
        snprintf(err, errlen, "%s", read_err);
        json_decref(p.columns);
        json_decref(p.rows);
        json_decref(out);
        return NULL;
    }
    if (rc < 0 && partial && o->format == IMPORT_FORMAT_XML && json_array_size(p.rows) > 0) {
        rc = 0;             /* not well-formed where it was cut: the rest is in the file */
        p.more = true;
    }
    const char *why = rc < 0 ? read_err : p.header_err[0] ? p.header_err : NULL;
    json_object_set_new(out, "columns", p.columns);
    json_object_set_new(out, "rows", p.rows);
    json_object_set_new(out, "more", json_boolean(p.more));
    json_object_set_new(out, "error", why ? import__text_json(why, strlen(why), PREVIEW_TEXT_MAX) : json_null());
    return out;
}
