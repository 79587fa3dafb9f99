/*
 * validate - from parsed records to clean subscriber rows, or a reason to reject.
 *
 * import_map_add           one --map COLUMN=FIELD (FIELD: email, name, an attribute key, or - / empty to skip)
 * import_map_free          forget the mappings
 * import_columns_from_header  decide what each CSV column is: email, name, attribute or skipped
 * import_columns_free      release the column plan
 * import_lists_add / _find / _free   the lists a record may name (XML <list>)
 * import_row_init / _free  a reusable clean row
 * import_row_add_list      the row joins one more list
 * import_row_from_csv      check and normalise one CSV record
 * import_row_from_xml      check and normalise one XML record
 *
 * A clean row has a normalised address (address_normalize: trimmed, domain
 * lower-cased, IDN in ASCII form), a trimmed name (NULL when absent or
 * empty; line breaks and tabs inside kept, as messy exports have them, other
 * control characters refused: mime_name_check), and its attributes as one
 * JSON object text (empty values left out). The row functions return 0, or -1 with a one-line reason in WHY that
 * names the column or value at fault; a rejected record never stops the import.
 */
#ifndef POSTINO_IMPORTERS_VALIDATE_H
#define POSTINO_IMPORTERS_VALIDATE_H

#include <stdbool.h>
#include <stddef.h>

#include "engine/mail/address.h"
#include "engine/util/buf.h"
#include "importers/csv.h"
#include "importers/xml.h"

struct import_map_entry {
    char *column;
    char *field;        /* "email", "name", an attribute key, or "" to skip */
    bool used;
};

struct import_map {
    struct import_map_entry *v;
    size_t n;
};

enum import_col_kind { IMPORT_COL_SKIP, IMPORT_COL_EMAIL, IMPORT_COL_NAME, IMPORT_COL_ATTR };

struct import_columns {
    size_t n;
    enum import_col_kind *kind;
    char **header;      /* as written, trimmed */
    char **key;         /* the attribute key of an IMPORT_COL_ATTR column */
    size_t email;       /* index of the email column */
};

struct import_list_ref {
    char *name;
    long long id;
};

struct import_lists {
    struct import_list_ref *v;
    size_t n;
};

struct import_row {
    long line;
    char email[ADDRESS_MAX + 1];
    struct buf name;
    bool has_name;
    struct buf attribs;         /* a JSON object */
    long long *lists;           /* extra lists (XML <list>), by id */
    size_t nlists, caplists;
};

int import_map_add(struct import_map *m, const char *spec, char *err, size_t errlen);
void import_map_free(struct import_map *m);

int import_columns_from_header(struct import_columns *c, const struct csv_record *hdr, struct import_map *m,
                               char *err, size_t errlen);
void import_columns_free(struct import_columns *c);

void import_lists_add(struct import_lists *l, const char *name, long long id);
long long import_lists_find(const struct import_lists *l, const char *name);
void import_lists_free(struct import_lists *l);

void import_row_init(struct import_row *row);
void import_row_free(struct import_row *row);
void import_row_add_list(struct import_row *row, long long id);
int import_row_from_csv(struct import_row *row, const struct import_columns *c, const struct csv_record *rec,
                        char *why, size_t whylen);
int import_row_from_xml(struct import_row *row, const struct xml_record *rec, const struct import_map *m,
                        const struct import_lists *lists, char *why, size_t whylen);

#endif
