/*
 * fuzz_xml - the XML subscriber reader and the record checks on arbitrary bytes.
 *
 * Every record is checked (with one known list) and serialised for a
 * rejects file; the reader must end cleanly or with an error, never crash,
 * leak or expand entities.
 */
#include <stdint.h>
#include <string.h>

#include "importers/validate.h"
#include "importers/xml.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct import_lists lists = { 0 };
    struct import_row row;
    struct xml_record rec;
    char why[320];
    import_lists_add(&lists, "news", 1);
    import_row_init(&row);
    struct xml_reader *r = xml_reader_new_mem((const char *)data, size, NULL);
    if (r) {
        int n = 0;
        while (n++ < 10000 && xml_reader_next(r, &rec) > 0) {
            if (import_row_from_xml(&row, &rec, NULL, &lists, why, sizeof(why)) < 0)
                (void)strlen(xml_reader_raw(r));
        }
        (void)strlen(xml_reader_error(r));
        xml_reader_free(r);
    }
    import_row_free(&row);
    import_lists_free(&lists);
    return 0;
}
