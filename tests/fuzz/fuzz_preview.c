/*
 * fuzz_preview - an import's preview (import_preview) and its summary with
 * the first rejected records (import_parse, import_summary_json) on arbitrary
 * bytes.
 *
 * The bytes are a file previewed as CSV and as XML, with a map, then read
 * as CSV; every string of the answers must be valid UTF-8 (jansson refuses
 * others, so a bad byte shown from the file would lose a member or make the
 * answer NULL), and the dump must succeed.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "importers/import.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(json_t *j)
{
    if (!j)
        abort();
    char *s = json_dumps(j, JSON_COMPACT);
    if (!s)
        abort();
    free(s);
    json_decref(j);
}

static int no_row(void *arg, const struct import_row *row, char *err, size_t errlen)
{
    (void)arg;
    (void)row;
    (void)err;
    (void)errlen;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char path[64];
    if (!path[0]) {
        snprintf(path, sizeof(path), "/tmp/fuzz-preview-%d", (int)getpid());
    }
    FILE *f = fopen(path, "wb");
    if (!f)
        return 0;
    fwrite(data, 1, size, f);
    fclose(f);
    struct import_lists lists = { 0 };
    struct import_map map = { 0 };
    char err[512];
    import_lists_add(&lists, "news", 1);
    import_map_add(&map, "mail=email", err, sizeof(err));
    for (int fmt = 0; fmt < 2; fmt++) {
        struct import_opts o = { .path = path, .format_given = true,
                                 .format = fmt ? IMPORT_FORMAT_XML : IMPORT_FORMAT_CSV };
        json_t *j = import_preview(&o, &lists, 5, fmt == 1, err, sizeof(err));
        if (j)
            check(j);
        struct import_opts m = { .path = path, .map = &map, .format_given = true, .format = IMPORT_FORMAT_CSV };
        j = import_preview(&m, &lists, 5, true, err, sizeof(err));
        if (j)
            check(j);
    }
    struct import_opts p = { .format_given = true };
    struct import_counts c = { 0 };
    struct import_sink sink = { no_row, NULL };
    struct import_source *src = import_source_open(path, err, sizeof(err));
    if (src) {
        if (import_parse(src, &p, IMPORT_FORMAT_CSV, &lists, &sink, NULL, &c, err, sizeof(err)) == 0) {
            json_t *j = import_summary_json(&p, "f", &c);
            if (json_array_size(json_object_get(j, "first_rejects")) != c.nfirst)
                abort();
            check(j);
        }
        import_source_close(src);
    }
    import_map_free(&map);
    import_lists_free(&lists);
    unlink(path);
    return 0;
}
