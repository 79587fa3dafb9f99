/*
 * json - request bodies are decoded in two steps: jansson parses the text
 * (rejecting duplicate keys, NUL characters and numbers beyond 64 bits),
 * then a table of fields says what each member must be. Anything the table
 * does not name is refused, so a typo never silently does nothing.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "api/json.h"
#include "engine/util/alloc.h"
#include "engine/util/str.h"

#define API_STRING_MAX_DEFAULT 10000
#define API_REFS_MAX_DEFAULT 100
#define API_OBJECT_DEPTH_MAX 16
#define API_REAL_MAX 1e18

/* api_err_set - fill ERR; returns -1. FIELD may be NULL. */
int api_err_set(struct api_err *err, int status, const char *code, const char *field, const char *fmt, ...)
{
    va_list ap;
    err->status = status;
    snprintf(err->code, sizeof(err->code), "%s", code);
    err->has_field = field != NULL;
    snprintf(err->field, sizeof(err->field), "%s", field ? field : "");
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof(err->message), fmt, ap);
    va_end(ap);
    err->message[strcspn(err->message, "\n")] = 0;
    return -1;
}

/* api_no_fields - a body with no members: {} (or none, where the body is optional) */
const struct api_field api_no_fields[] = { { NULL, 0, false, 0, 0, 0 } };

/* api_error_json - the error envelope for ERR, a new reference. */
json_t *api_error_json(const struct api_err *err)
{
    json_t *inner = json_object();
    json_object_set_new(inner, "code", json_string(err->code));
    /* messages may quote input: keep only valid UTF-8 */
    json_t *msg = json_string(err->message);
    json_object_set_new(inner, "message", msg ? msg : json_string("invalid input"));
    if (err->has_field) {
        json_t *f = json_string(err->field);
        json_object_set_new(inner, "field", f ? f : json_string("?"));
    }
    json_t *outer = json_object();
    json_object_set_new(outer, "error", inner);
    return outer;
}

/* api_json_parse - BODY (LEN bytes) as one JSON object in *OUT (the caller's reference). */
int api_json_parse(const char *body, size_t len, json_t **out, struct api_err *err)
{
    size_t bad = 0;
    json_error_t jerr;
    *out = NULL;
    if (len == 0)
        return api_err_set(err, 400, "invalid_json", NULL, "the request body is empty; a JSON object is expected");
    if (!str_utf8_valid(body, len, &bad))
        return api_err_set(err, 400, "invalid_utf8", NULL, "the request body is not valid UTF-8 (byte %zu)", bad);
    json_t *j = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!j) {
        const char *why = jerr.text;
        if (strstr(why, "too big") || strstr(why, "overflow"))
            why = "a number is too large";
        else if (strstr(why, "duplicate"))
            why = "a member is given twice";
        else if (strstr(why, "\\u0000"))
            why = "a string holds a NUL character";
        else
            why = "malformed JSON";
        return api_err_set(err, 400, "invalid_json", NULL, "%s at line %d, column %d", why, jerr.line, jerr.column);
    }
    if (!json_is_object(j)) {
        json_decref(j);
        return api_err_set(err, 400, "invalid_json", NULL, "the request body must be a JSON object");
    }
    *out = j;
    return 0;
}

static const char *type_name(enum api_field_type t)
{
    switch (t) {
    case API_FIELD_STRING: return "a string";
    case API_FIELD_INT: return "an integer";
    case API_FIELD_BOOL: return "true or false";
    case API_FIELD_OBJECT: return "an object";
    case API_FIELD_REFS: return "an array of names or ids";
    }
    return "?";
}

static int check_string(json_t *v, const struct api_field *f, struct api_err *err)
{
    size_t max = f->max_len ? f->max_len : API_STRING_MAX_DEFAULT;
    size_t n = json_string_length(v);
    if (n > max)
        return api_err_set(err, 400, "invalid_field", f->name, "field \"%s\" is longer than %zu bytes", f->name, max);
    if (memchr(json_string_value(v), 0, n))
        return api_err_set(err, 400, "invalid_field", f->name, "field \"%s\" holds a NUL character", f->name);
    return 0;
}

static int check_refs(json_t *v, const struct api_field *f, struct api_err *err)
{
    size_t max = f->max_len ? f->max_len : API_REFS_MAX_DEFAULT, i;
    json_t *el;
    if (json_array_size(v) > max)
        return api_err_set(err, 400, "invalid_field", f->name, "field \"%s\" has more than %zu elements", f->name, max);
    json_array_foreach(v, i, el) {
        if (json_is_integer(el) && json_integer_value(el) >= 0)
            continue;
        if (json_is_string(el) && json_string_length(el) > 0 && json_string_length(el) <= 200 &&
            !memchr(json_string_value(el), 0, json_string_length(el)))
            continue;
        return api_err_set(err, 400, "invalid_field", f->name,
                           "field \"%s\": element %zu must be a name (1 to 200 characters) or an id", f->name, i);
    }
    return 0;
}

/*
 * An object field (attributes) is stored as jsonb and read back through
 * jansson: keep it shallow, and keep real numbers where PostgreSQL's
 * decimal form of them still fits jansson's 64-bit integers.
 */
static int check_value(json_t *v, const struct api_field *f, int depth, struct api_err *err)
{
    const char *key;
    size_t i;
    json_t *el;
    if (depth > API_OBJECT_DEPTH_MAX)
        return api_err_set(err, 400, "invalid_field", f->name, "field \"%s\" is nested more than %d deep", f->name,
                           API_OBJECT_DEPTH_MAX);
    if (json_is_real(v) && (json_real_value(v) >= API_REAL_MAX || json_real_value(v) <= -API_REAL_MAX))
        return api_err_set(err, 400, "invalid_field", f->name, "field \"%s\" holds a number too large", f->name);
    if (json_is_object(v))
        json_object_foreach(v, key, el) if (check_value(el, f, depth + 1, err) < 0) return -1;
    if (json_is_array(v))
        json_array_foreach(v, i, el) if (check_value(el, f, depth + 1, err) < 0) return -1;
    return 0;
}

static int check_one(json_t *v, const struct api_field *f, struct api_err *err)
{
    bool ok;
    switch (f->type) {
    case API_FIELD_STRING: ok = json_is_string(v); break;
    case API_FIELD_INT: ok = json_is_integer(v); break;
    case API_FIELD_BOOL: ok = json_is_boolean(v); break;
    case API_FIELD_OBJECT: ok = json_is_object(v); break;
    case API_FIELD_REFS: ok = json_is_array(v); break;
    default: ok = false;
    }
    if (!ok)
        return api_err_set(err, 400, "invalid_field", f->name, "field \"%s\" must be %s", f->name, type_name(f->type));
    if (f->type == API_FIELD_STRING)
        return check_string(v, f, err);
    if (f->type == API_FIELD_REFS)
        return check_refs(v, f, err);
    if (f->type == API_FIELD_OBJECT)
        return check_value(v, f, 1, err);
    if (f->type == API_FIELD_INT && (json_integer_value(v) < f->min || json_integer_value(v) > f->max))
        return api_err_set(err, 400, "invalid_field", f->name, "field \"%s\" must be from %lld to %lld", f->name,
                           f->min, f->max);
    return 0;
}

/* api_json_check - OBJ against FIELDS (ended by a NULL name); 0 or -1 with ERR naming the field. */
int api_json_check(json_t *obj, const struct api_field *fields, struct api_err *err)
{
    const char *key;
    json_t *v;
    json_object_foreach(obj, key, v) {
        const struct api_field *f = fields;
        while (f->name && strcmp(f->name, key) != 0)
            f++;
        if (!f->name) {
            char shown[48];
            size_t n = strlen(key);
            /* the name is valid UTF-8 (jansson checked); cut it on a character boundary */
            if (n > 40) {
                n = 40;
                while (n > 0 && ((unsigned char)key[n] & 0xC0) == 0x80)
                    n--;
            }
            snprintf(shown, sizeof(shown), "%.*s", (int)n, key);
            return api_err_set(err, 400, "unknown_field", shown, "unknown field \"%s\"", shown);
        }
        if (json_is_null(v)) {
            if (f->required)
                return api_err_set(err, 400, "missing_field", f->name, "field \"%s\" is required", f->name);
            continue;
        }
        if (check_one(v, f, err) < 0)
            return -1;
    }
    for (const struct api_field *f = fields; f->name; f++)
        if (f->required && (!(v = json_object_get(obj, f->name)) || json_is_null(v)))
            return api_err_set(err, 400, "missing_field", f->name, "field \"%s\" is required", f->name);
    return 0;
}

/* api_json_str - member NAME of a checked OBJ as a string, or DEF when absent or null. */
const char *api_json_str(json_t *obj, const char *name, const char *def)
{
    json_t *v = json_object_get(obj, name);
    return json_is_string(v) ? json_string_value(v) : def;
}

/* api_json_int - member NAME as an integer, or DEF. */
long long api_json_int(json_t *obj, const char *name, long long def)
{
    json_t *v = json_object_get(obj, name);
    return json_is_integer(v) ? json_integer_value(v) : def;
}

/* api_json_bool - member NAME as a boolean, or DEF. */
bool api_json_bool(json_t *obj, const char *name, bool def)
{
    json_t *v = json_object_get(obj, name);
    return json_is_boolean(v) ? json_is_true(v) : def;
}

/*
 * api_json_refs - the checked REFS member NAME as strings (ids in decimal) in
 * *REFS, *N of them; 0 (none when absent). Free with api_json_refs_free.
 */
int api_json_refs(json_t *obj, const char *name, char ***refs, size_t *n)
{
    json_t *v = json_object_get(obj, name), *el;
    size_t i;
    *refs = NULL;
    *n = 0;
    if (!json_is_array(v) || json_array_size(v) == 0)
        return 0;
    *refs = xcalloc(json_array_size(v), sizeof(char *));
    json_array_foreach(v, i, el) {
        if (json_is_integer(el))
            (*refs)[i] = xasprintf("%lld", (long long)json_integer_value(el));
        else
            (*refs)[i] = xstrdup(json_string_value(el));
    }
    *n = json_array_size(v);
    return 0;
}

/* api_json_refs_free - release what api_json_refs gave. */
void api_json_refs_free(char **refs, size_t n)
{
    for (size_t i = 0; i < n; i++)
        xfree(refs[i]);
    xfree(refs);
}
