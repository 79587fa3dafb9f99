/*
 * import - drive one import: pick the parser, check each record, count, report.
 *
 * The parsers yield records; each becomes a clean row for the sink or a line
 * in the rejects file. Memory is bounded by one input chunk, one record, the
 * loader's address hashes and the store's send buffer, whatever the size of
 * the file.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "engine/util/alloc.h"
#include "engine/util/log.h"
#include "importers/csv.h"
#include "importers/import.h"
#include "importers/xml.h"

#define REJECTS_LOGGED 10

struct import_run_state {
    const struct import_opts *o;
    const struct import_lists *lists;
    const struct import_sink *sink;
    struct import_source *src;
    FILE *rejects;
    struct import_counts *c;
    struct import_columns cols;
    bool have_header;
    struct import_row row;
    char *err;
    size_t errlen;
    double started, last_progress;
};

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* tell O's progress callback, when there is one, that the import is in PHASE */
static void progress_tell(const struct import_opts *o, const struct import_counts *c, struct import_source *src,
                          const char *phase)
{
    if (!o->on_progress)
        return;
    struct import_progress p = { c->read, c->rejected, src ? import_source_pos(src) : 0,
                                 src ? import_source_size(src) : -1, phase };
    o->on_progress(o->progress_arg, &p);
}

static void progress(struct import_run_state *st, bool last)
{
    if (!st->o->progress && !st->o->on_progress)
        return;
    double t = now_seconds();
    if (!last && t - st->last_progress < 0.25)
        return;
    st->last_progress = t;
    progress_tell(st->o, st->c, st->src, "reading");
    if (!st->o->progress)
        return;
    double rate = t > st->started ? (double)st->c->read / (t - st->started) : 0;
    long long size = import_source_size(st->src);
    if (size > 0)
        fprintf(stderr, "\r%lld rows, %.0f rows/s, %d%%\033[K", st->c->read, rate,
                (int)(100.0 * (double)import_source_pos(st->src) / (double)size));
    else
        fprintf(stderr, "\r%lld rows, %.0f rows/s\033[K", st->c->read, rate);
    if (last)
        fputs("\r\033[K", stderr);
    fflush(stderr);
}

/*
 * Write S as one CSV field, quoted when it must be. A field a spreadsheet
 * would run as a formula (starting with =, +, -, @, a tab or a carriage
 * return: OWASP's CSV injection guidance) is written quoted after a single
 * quote, so it shows as text.
 */
static void csv_field_write(FILE *f, const char *s, size_t len)
{
    bool formula = len && strchr("=+-@\t\r", s[0]);
    bool quote = formula || (len && (s[0] == ' ' || s[len - 1] == ' '));
    for (size_t i = 0; i < len && !quote; i++)
        if (s[i] == ',' || s[i] == '"' || s[i] == '\n' || s[i] == '\r')
            quote = true;
    if (!quote) {
        fwrite(s, 1, len, f);
        return;
    }
    fputc('"', f);
    if (formula)
        fputc('\'', f);
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '"')
            fputc('"', f);
        fputc(s[i], f);
    }
    fputc('"', f);
}

static void reject(struct import_run_state *st, long line, const char *why, const char *raw, size_t rawlen)
{
    st->c->rejected++;
    if (st->c->nfirst < IMPORT_FIRST_REJECTS) {
        struct import_reject_note *n = &st->c->first[st->c->nfirst++];
        n->line = line;
        snprintf(n->why, sizeof(n->why), "%s", why);
        n->rowlen = rawlen < sizeof(n->row) ? rawlen : sizeof(n->row);
        memcpy(n->row, raw, n->rowlen);
    }
    if (st->rejects) {
        fprintf(st->rejects, "%ld,", line);
        csv_field_write(st->rejects, why, strlen(why));
        fputc(',', st->rejects);
        csv_field_write(st->rejects, raw, rawlen);
        fputc('\n', st->rejects);
    } else if (st->c->rejected <= REJECTS_LOGGED) {
        log_warn("line %ld rejected: %s", line, why);
    }
}

static int csv_on_record(const struct csv_record *rec, void *arg)
{
    struct import_run_state *st = arg;
    char why[320];
    if (!st->have_header) {
        st->have_header = true;
        return import_columns_from_header(&st->cols, rec, st->o->map, st->err, st->errlen) < 0 ? -2 : 0;
    }
    st->c->read++;
    if ((st->c->read & 4095) == 0)
        progress(st, false);
    if (import_row_from_csv(&st->row, &st->cols, rec, why, sizeof(why)) < 0) {
        reject(st, rec->line, why, rec->raw, rec->rawlen);
        return 0;
    }
    for (size_t i = 0; i < st->o->nmore_ids; i++)
        import_row_add_list(&st->row, st->o->more_ids[i]);
    return st->sink->row(st->sink->arg, &st->row, st->err, st->errlen) < 0 ? -2 : 0;
}

/*
 * import__csv_delimiter - make SRC return UTF-8 from O's encoding and tell
 * the delimiter: O's, else the one its first line uses. -1 with ERR for an
 * unknown encoding.
 */
int import__csv_delimiter(struct import_source *src, const struct import_opts *o, char *err, size_t errlen)
{
    size_t plen;
    const char *peek = import_source_peek(src, &plen);
    if (import_source_convert(src, o->encoding, err, errlen) < 0)
        return -1;
    if (o->delimiter)
        return o->delimiter;
    size_t skip = plen >= 3 && memcmp(peek, "\xef\xbb\xbf", 3) == 0 ? 3 : 0;
    return csv_detect_delimiter(peek + skip, plen - skip);
}

static int parse_csv(struct import_run_state *st)
{
    int delim = import__csv_delimiter(st->src, st->o, st->err, st->errlen);
    if (delim < 0)
        return -1;
    struct csv_reader *r = csv_reader_new(delim);
    const char *data;
    size_t len;
    int rc, got;
    while ((got = import_source_read(st->src, &data, &len, st->err, st->errlen)) > 0)
        if ((rc = csv_reader_feed(r, data, len, csv_on_record, st)) != 0)
            break;
    if (got == 0)
        rc = csv_reader_finish(r, csv_on_record, st);
    else if (got < 0)
        rc = -2;
    if (rc == -1)
        snprintf(st->err, st->errlen, "%s", csv_reader_error(r));
    csv_reader_free(r);
    if (rc == 0 && !st->have_header) {
        snprintf(st->err, st->errlen, "the file is empty (a CSV file starts with a header row)");
        return -1;
    }
    return rc == 0 ? 0 : -1;
}

struct xml_pull {
    struct import_source *src;
    const char *data;
    size_t len;
    bool failed;
    char *err;
    size_t errlen;
};

static int xml_pull_read(void *arg, char *buf, int want)
{
    struct xml_pull *p = arg;
    if (p->len == 0) {
        int got = import_source_read(p->src, &p->data, &p->len, p->err, p->errlen);
        if (got < 0) {
            p->failed = true;
            return -1;
        }
        if (got == 0)
            return 0;
    }
    size_t n = p->len < (size_t)want ? p->len : (size_t)want;
    memcpy(buf, p->data, n);
    p->data += n;
    p->len -= n;
    return (int)n;
}

/*
 * import__xml_open - an XML reader over SRC in O's encoding (NULL: as the
 * document declares); *PULL is its input state, freed by the caller with
 * free() after xml_reader_free. NULL with ERR when the parser cannot start.
 */
struct xml_reader *import__xml_open(struct import_source *src, const struct import_opts *o, void **pull,
                                    char *err, size_t errlen)
{
    struct xml_pull *p = xcalloc(1, sizeof(*p));
    const char *enc = o->encoding;
    *p = (struct xml_pull){ src, NULL, 0, false, err, errlen };
    if (enc && (strcasecmp(enc, "utf-8") == 0 || strcasecmp(enc, "utf8") == 0))
        enc = NULL;
    else if (enc && strcasecmp(enc, "latin1") == 0)
        enc = "ISO-8859-1";
    struct xml_reader *r = xml_reader_new(xml_pull_read, p, enc);
    if (!r) {
        snprintf(err, errlen, "cannot start the XML parser");
        xfree(p);
        p = NULL;
    }
    *pull = p;
    return r;
}

/* import__xml_failed - did the input under an XML reader fail (its error is then in the ERR given) */
bool import__xml_failed(void *pull)
{
    return ((struct xml_pull *)pull)->failed;
}

static int parse_xml(struct import_run_state *st)
{
    void *pull;
    struct xml_reader *r = import__xml_open(st->src, st->o, &pull, st->err, st->errlen);
    if (!r)
        return -1;
    struct xml_record rec;
    char why[320];
    int got, rc = 0;
    while ((got = xml_reader_next(r, &rec)) > 0) {
        st->c->read++;
        if ((st->c->read & 4095) == 0)
            progress(st, false);
        if (import_row_from_xml(&st->row, &rec, st->o->map, st->lists, why, sizeof(why)) < 0) {
            const char *raw = xml_reader_raw(r);
            reject(st, rec.line, why, raw, strlen(raw));
            continue;
        }
        for (size_t i = 0; i < st->o->nmore_ids; i++)
            import_row_add_list(&st->row, st->o->more_ids[i]);
        if (st->sink->row(st->sink->arg, &st->row, st->err, st->errlen) < 0) {
            rc = -1;
            break;
        }
    }
    if (got < 0 && !import__xml_failed(pull))
        snprintf(st->err, st->errlen, "%s", xml_reader_error(r));
    xml_reader_free(r);
    xfree(pull);
    return got < 0 ? -1 : rc;
}

/*
 * import_parse - read every record of SRC as FORMAT, pass clean rows to SINK
 * and rejects to REJECTS (NULL: log the first few). Counts C->read and
 * C->rejected. Returns 0, or -1 with ERR when the file cannot be read as a
 * whole or the sink fails.
 */
int import_parse(struct import_source *src, const struct import_opts *o, enum import_format format,
                 const struct import_lists *lists, const struct import_sink *sink, FILE *rejects,
                 struct import_counts *c, char *err, size_t errlen)
{
    struct import_run_state st = { 0 };
    st.o = o;
    st.lists = lists;
    st.sink = sink;
    st.src = src;
    st.rejects = rejects;
    st.c = c;
    st.err = err;
    st.errlen = errlen;
    st.started = st.last_progress = now_seconds();
    import_row_init(&st.row);
    if (rejects)
        fputs("line,reason,row\n", rejects);
    int rc = format == IMPORT_FORMAT_XML ? parse_xml(&st) : parse_csv(&st);
    progress(&st, true);
    if (!rejects && c->rejected > REJECTS_LOGGED)
        log_warn("%lld more rows rejected (see them all with --rejects FILE)", c->rejected - REJECTS_LOGGED);
    import_columns_free(&st.cols);
    import_row_free(&st.row);
    return rc;
}

/* the list named or numbered REF among LISTS: its id, or -1 */
static long long list_ref_find(const struct import_lists *lists, const char *ref)
{
    long long id = import_lists_find(lists, ref);
    if (id >= 0 || !*ref || strspn(ref, "0123456789") != strlen(ref) || strlen(ref) > 18)
        return id;
    long long n = strtoll(ref, NULL, 10);
    for (size_t i = 0; i < lists->n; i++)
        if (lists->v[i].id == n)
            return n;
    return -1;
}

/*
 * the ids of O's further lists into O->more_ids, each once and not the first
 * list; -1 with ERR naming one that does not exist
 */
static int more_lists_resolve(struct import_opts *o, const struct import_lists *lists, char *err, size_t errlen)
{
    long long first = o->load.list ? list_ref_find(lists, o->load.list) : -1;
    o->nmore_ids = 0;
    for (size_t i = 0; i < o->nmore; i++) {
        long long id = list_ref_find(lists, o->more_lists[i]);
        if (id < 0) {
            snprintf(err, errlen, "no list \"%s\"", o->more_lists[i]);
            return -1;
        }
        bool seen = id == first;
        for (size_t k = 0; k < o->nmore_ids && !seen; k++)
            seen = o->more_ids[k] == id;
        if (!seen)
            o->more_ids[o->nmore_ids++] = id;
    }
    return 0;
}

static int loader_sink_row(void *arg, const struct import_row *row, char *err, size_t errlen)
{
    return import_loader_add(arg, row, err, errlen);
}

/*
 * import_run - import O->path into the database on CONN. Fills C (time
 * included). Returns 0, or -1 with ERR; then nothing was written.
 */
int import_run(PGconn *conn, struct import_opts *o, struct import_counts *c, char *err, size_t errlen)
{
    double t0 = now_seconds();
    struct import_lists lists = { 0 };
    struct import_loader *l = NULL;
    FILE *rejects = NULL;
    int rc = -1;
    memset(c, 0, sizeof(*c));
    struct import_source *src = import_source_open(o->path, err, errlen);
    if (!src)
        return -1;
    enum import_format format = o->format_given ? o->format : import_source_guess(src);
    o->format = format;
    if (o->rejects_path && !(rejects = fopen(o->rejects_path, "w"))) {
        snprintf(err, errlen, "cannot write %s: %s", o->rejects_path, strerror(errno));
        goto out;
    }
    /* XML records may name further lists (<list>); their names are looked up as they are read. */
    bool want_lists = format == IMPORT_FORMAT_XML || o->nmore > 0;
    if (!(l = import_loader_begin(conn, &o->load, want_lists ? &lists : NULL, err, errlen)))
        goto out;
    if (more_lists_resolve(o, &lists, err, errlen) < 0) {
        import_loader_abort(l, err);
        goto out;
    }
    struct import_sink sink = { loader_sink_row, l };
    if (import_parse(src, o, format, &lists, &sink, rejects, c, err, errlen) < 0) {
        import_loader_abort(l, err);
        goto out;
    }
    progress_tell(o, c, src, "merging");
    log_debug("import: %.2f s to read, check and send %lld rows", now_seconds() - t0, c->read);
    if (o->progress) {
        fputs("merging…", stderr);
        fflush(stderr);
    }
    rc = import_loader_finish(l, c, err, errlen);
    if (o->progress)
        fputs("\r\033[K", stderr);
    if (rc == 0)
        progress_tell(o, c, src, "done");
out:
    if (rejects && fclose(rejects) != 0 && rc == 0) {
        snprintf(err, errlen, "cannot write %s: %s", o->rejects_path, strerror(errno));
        rc = -1;
    }
    if (rejects && rc < 0)
        unlink(o->rejects_path);   /* nothing was imported: no partial account of it */
    import_loader_free(l);
    import_lists_free(&lists);
    import_source_close(src);
    c->seconds = now_seconds() - t0;
    return rc;
}

/* import_summary_json - the counts C of import O from SOURCE (a file name) as a new JSON object. */
json_t *import_summary_json(const struct import_opts *o, const char *source, const struct import_counts *c)
{
    json_t *lists = json_array();
    if (o->load.list)
        json_array_append_new(lists, json_string(o->load.list));
    for (size_t i = 0; i < o->nmore; i++)
        json_array_append_new(lists, json_string(o->more_lists[i]));
    json_t *j = json_pack("{s:s, s:s?, s:s, s:s, s:b, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:f}", "file", source,
                     "list", o->load.list, "format", o->format == IMPORT_FORMAT_XML ? "xml" : "csv", "mode",
                     import_mode_name(o->load.mode), "dry_run", o->load.dry_run, "rows_read", (json_int_t)c->read,
                     "new_subscribers", (json_int_t)c->added, "existing_updated", (json_int_t)c->updated,
                     "already_subscribed", (json_int_t)(o->load.mode == IMPORT_SUBSCRIBE ? c->unchanged : 0),
                     "unchanged", (json_int_t)c->unchanged, "skipped", (json_int_t)c->skipped, "not_found",
                     (json_int_t)c->not_found, "duplicates_in_file", (json_int_t)c->duplicates, "rejected",
                     (json_int_t)c->rejected, "seconds", (double)(long long)(c->seconds * 1000 + 0.5) / 1000);
    json_object_set_new(j, "lists", lists);
    /* the first rejected records, their text as a spreadsheet would get it in the rejects file */
    json_t *first = json_array();
    for (size_t i = 0; i < c->nfirst; i++) {
        const struct import_reject_note *n = &c->first[i];
        bool formula = n->rowlen && strchr("=+-@\t\r", n->row[0]);
        json_t *row = import__text_json(n->row, n->rowlen, IMPORT_REJECT_ROW_MAX);
        if (formula) {
            json_t *guarded = json_sprintf("'%s", json_string_value(row));
            json_decref(row);
            row = guarded;
        }
        json_array_append_new(first, json_pack("{s:I, s:o, s:o}", "line", (json_int_t)n->line, "reason",
                                               import__text_json(n->why, strlen(n->why), sizeof(n->why)), "row",
                                               row));
    }
    json_object_set_new(j, "first_rejects", first);
    return j;
}

/* the text of V for a message: at most 40 bytes of it */
#define SHOWN(v) (int)(strlen(v) > 40 ? 40 : strlen(v)), (v)

/* import_option - see import.h. */
int import_option(struct import_opts *o, const char *name, const char *value, char *why, size_t whylen)
{
    size_t n = strlen(value);
    if (strcmp(name, "list") == 0) {
        if (n == 0 || n > 200)
            return snprintf(why, whylen, "must be a list name or id"), -1;
        if (!o->load.list)
            o->load.list = value;
        else if (o->nmore < IMPORT_LISTS_MAX - 1)
            o->more_lists[o->nmore++] = value;
        else
            return snprintf(why, whylen, "is given more than %d times", IMPORT_LISTS_MAX), -1;
    } else if (strcmp(name, "format") == 0) {
        if (strcmp(value, "csv") != 0 && strcmp(value, "xml") != 0)
            return snprintf(why, whylen, "must be csv or xml, not '%.*s'", SHOWN(value)), -1;
        o->format_given = true;
        o->format = value[0] == 'x' ? IMPORT_FORMAT_XML : IMPORT_FORMAT_CSV;
    } else if (strcmp(name, "mode") == 0) {
        if (strcmp(value, "subscribe") == 0)
            o->load.mode = IMPORT_SUBSCRIBE;
        else if (strcmp(value, "unsubscribe") == 0)
            o->load.mode = IMPORT_UNSUBSCRIBE;
        else if (strcmp(value, "blocklist") == 0)
            o->load.mode = IMPORT_BLOCKLIST;
        else
            return snprintf(why, whylen, "must be subscribe, unsubscribe or blocklist, not '%.*s'", SHOWN(value)), -1;
    } else if (strcmp(name, "status") == 0) {
        if (strcmp(value, "confirmed") != 0 && strcmp(value, "unconfirmed") != 0)
            return snprintf(why, whylen, "must be confirmed or unconfirmed, not '%.*s'", SHOWN(value)), -1;
        o->load.status = value;
    } else if (strcmp(name, "delimiter") == 0) {
        if (strcasecmp(value, "tab") == 0 || strcmp(value, "\\t") == 0 || strcmp(value, "\t") == 0)
            o->delimiter = '\t';
        else if (n == 1 && strchr(",;|:", value[0]))
            o->delimiter = value[0];
        else
            return snprintf(why, whylen, "must be one of , ; | : or tab, not '%.*s'", SHOWN(value)), -1;
    } else if (strcmp(name, "encoding") == 0) {
        if (n == 0 || n > 32 ||
            strspn(value, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_:.") != n)
            return snprintf(why, whylen, "must be an encoding name, not '%.*s'", SHOWN(value)), -1;
        o->encoding = value;
    } else {
        return snprintf(why, whylen, "is not an import option"), -1;
    }
    return 0;
}

/* import_opts_check - see import.h. */
int import_opts_check(const struct import_opts *o, char *why, size_t whylen)
{
    if (!o->load.list && o->load.mode != IMPORT_BLOCKLIST)
        return snprintf(why, whylen, "a list is required (except with mode blocklist)"), -1;
    if (o->nmore && o->load.mode != IMPORT_SUBSCRIBE)
        return snprintf(why, whylen, "several lists are for mode subscribe only"), -1;
    return 0;
}
