/*
 * json - strict decoding of API request bodies and the error envelope.
 *
 * api_json_parse   parse a request body: UTF-8, one JSON object, no duplicate
 *                  keys, no NUL in strings, numbers within 64 bits
 * api_json_check   check an object against a field table: unknown fields,
 *                  wrong types, missing required fields, lengths and ranges
 * api_json_str / api_json_int / api_json_bool  a checked field's value (or a default)
 * api_error_json   {"error":{"code":…,"message":…[,"field":…]}}
 * api_no_fields    the field table of a body that may only be {}
 *
 * Both decoders return 0, or -1 with ERR filled: an HTTP status (400), a
 * code, a one-line message naming the field and never echoing more than a
 * short piece of the input.
 */
#ifndef POSTINO_API_JSON_H
#define POSTINO_API_JSON_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

enum api_field_type {
    API_FIELD_STRING,        /* max_len bytes (0: 10000), valid UTF-8 */
    API_FIELD_INT,           /* an integer from min to max */
    API_FIELD_BOOL,
    API_FIELD_OBJECT,        /* a JSON object (attributes): at most 16 deep, reals below 1e18 */
    API_FIELD_REFS,          /* an array of strings or non-negative integers: names or ids */
};

struct api_field {
    const char *name;
    enum api_field_type type;
    bool required;
    size_t max_len;          /* strings; REFS: most elements */
    long long min, max;      /* INT */
};

struct api_err {
    int status;
    char code[32];
    bool has_field;          /* the error is about FIELD (which may be "") */
    char field[64];
    char message[256];
};

extern const struct api_field api_no_fields[];

int api_json_parse(const char *body, size_t len, json_t **out, struct api_err *err);
int api_json_check(json_t *obj, const struct api_field *fields, struct api_err *err);
const char *api_json_str(json_t *obj, const char *name, const char *def);
long long api_json_int(json_t *obj, const char *name, long long def);
bool api_json_bool(json_t *obj, const char *name, bool def);
int api_json_refs(json_t *obj, const char *name, char ***refs, size_t *n);
void api_json_refs_free(char **refs, size_t n);

int api_err_set(struct api_err *err, int status, const char *code, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
json_t *api_error_json(const struct api_err *err);

#endif
