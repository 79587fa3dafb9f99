/*
 * fuzz_csv - the CSV row reader and the record checks on arbitrary bytes.
 *
 * The input is parsed twice, whole and in pieces whose size comes from its
 * first byte; both must give the same records. The first record is taken as
 * the header, the rest go through import_row_from_csv.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "engine/util/buf.h"
#include "importers/csv.h"
#include "importers/validate.h"

struct state {
    struct buf digest;
    bool have_header, header_ok;
    struct import_columns cols;
    struct import_row row;
};

static int on_record(const struct csv_record *rec, void *arg)
{
    struct state *st = arg;
    char err[320];
    buf_appendf(&st->digest, "%ld:%zu:%zu;", rec->line, rec->nfields, rec->rawlen);
    for (size_t i = 0; i < rec->nfields; i++)
        buf_append(&st->digest, rec->fields[i].data, rec->fields[i].len);
    if (!st->have_header) {
        st->have_header = true;
        st->header_ok = import_columns_from_header(&st->cols, rec, NULL, err, sizeof(err)) == 0;
    } else if (st->header_ok) {
        import_row_from_csv(&st->row, &st->cols, rec, err, sizeof(err));
    }
    return 0;
}

static void run(const uint8_t *data, size_t size, size_t step, struct state *st)
{
    memset(st, 0, sizeof(*st));
    import_row_init(&st->row);
    struct csv_reader *r = csv_reader_new(csv_detect_delimiter((const char *)data, size));
    int rc = 0;
    for (size_t i = 0; i < size && rc == 0; i += step)
        rc = csv_reader_feed(r, (const char *)data + i, size - i < step ? size - i : step, on_record, st);
    if (rc == 0)
        csv_reader_finish(r, on_record, st);
    buf_appendf(&st->digest, "|%d", rc);
    csv_reader_free(r);
    import_columns_free(&st->cols);
    import_row_free(&st->row);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct state whole, pieces;
    run(data, size, size ? size : 1, &whole);
    run(data, size, size ? 1 + data[0] % 17 : 1, &pieces);
    if (whole.digest.len != pieces.digest.len || memcmp(whole.digest.data, pieces.digest.data, whole.digest.len) != 0)
        abort();
    buf_free(&whole.digest);
    buf_free(&pieces.digest);
    return 0;
}
