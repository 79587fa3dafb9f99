/* test_json - strict decoding of request bodies and the error envelope. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "api/auth.h"
#include "api/json.h"

static const struct api_field fields[] = {
    { "email", API_FIELD_STRING, true, 20, 0, 0 },
    { "name", API_FIELD_STRING, false, 0, 0, 0 },
    { "count", API_FIELD_INT, false, 0, 1, 1000 },
    { "flag", API_FIELD_BOOL, false, 0, 0, 0 },
    { "attribs", API_FIELD_OBJECT, false, 0, 0, 0 },
    { "lists", API_FIELD_REFS, false, 3, 0, 0 },
    { NULL, 0, false, 0, 0, 0 },
};

static void test_json_decoding_table(void **state)
{
    (void)state;
    static const struct {
        const char *body;
        size_t len;          /* 0: strlen */
        int rc;
        const char *code, *field, *message;
    } cases[] = {
        { "{\"email\":\"a@b.c\"}", 0, 0, "", "", NULL },
        { "{\"email\":\"a@b.c\",\"name\":\"x' OR 1=1; --\",\"count\":5,\"flag\":true,\"attribs\":{\"k\":[1]},"
          "\"lists\":[\"news\",7]}", 0, 0, "", "", NULL },
        { "{\"email\":\"a@b.c\",\"name\":null}", 0, 0, "", "", NULL },
        { "", 0, -1, "invalid_json", "", "the request body is empty; a JSON object is expected" },
        { "{\"email\":", 0, -1, "invalid_json", "", "malformed JSON at line 1, column 9" },
        { "{\"email\":\"a\"", 0, -1, "invalid_json", "", NULL },
        { "[1,2]", 0, -1, "invalid_json", "", "the request body must be a JSON object" },
        { "\"x\"", 0, -1, "invalid_json", "", NULL },
        { "{\"email\":\"a@b.c\"} x", 0, -1, "invalid_json", "", NULL },
        { "{\"email\":\"\xff\"}", 0, -1, "invalid_utf8", "", "the request body is not valid UTF-8 (byte 10)" },
        { "{\"email\":\"\xc0\xaf\"}", 0, -1, "invalid_utf8", "", NULL },
        { "{\"email\":\"a\\u0000b\"}", 0, -1, "invalid_json", "", NULL },
        { "{\"email\":\"a\",\"email\":\"b\"}", 0, -1, "invalid_json", "", NULL },
        { "{\"email\":\"a\",\"count\":99999999999999999999999}", 0, -1, "invalid_json", "", NULL },
        { "{\"email\":\"a\",\"count\":1e999}", 0, -1, "invalid_json", "", NULL },
        { "{\"email\":\"a\",\"count\":1001}", 0, -1, "invalid_field", "count", "field \"count\" must be from 1 to 1000" },
        { "{\"email\":\"a\",\"count\":1.5}", 0, -1, "invalid_field", "count", "field \"count\" must be an integer" },
        { "{\"email\":\"a\",\"count\":\"5\"}", 0, -1, "invalid_field", "count", NULL },
        { "{\"email\":5}", 0, -1, "invalid_field", "email", "field \"email\" must be a string" },
        { "{\"email\":\"a\",\"flag\":1}", 0, -1, "invalid_field", "flag", "field \"flag\" must be true or false" },
        { "{\"email\":\"a\",\"attribs\":[]}", 0, -1, "invalid_field", "attribs", "field \"attribs\" must be an object" },
        { "{\"email\":\"a\",\"lists\":\"news\"}", 0, -1, "invalid_field", "lists", NULL },
        { "{\"email\":\"a\",\"lists\":[-1]}", 0, -1, "invalid_field", "lists", NULL },
        { "{\"email\":\"a\",\"lists\":[\"\"]}", 0, -1, "invalid_field", "lists", NULL },
        { "{\"email\":\"a\",\"lists\":[true]}", 0, -1, "invalid_field", "lists", NULL },
        { "{\"email\":\"a\",\"lists\":[1,2,3,4]}", 0, -1, "invalid_field", "lists", "field \"lists\" has more than 3 elements" },
        { "{\"email\":\"123456789012345678901\"}", 0, -1, "invalid_field", "email", "field \"email\" is longer than 20 bytes" },
        { "{\"emial\":\"a\"}", 0, -1, "unknown_field", "emial", "unknown field \"emial\"" },
        { "{\"email\":\"a\",\"\":1}", 0, -1, "unknown_field", "", "unknown field \"\"" },
        { "{\"email\":\"a\",\"Email\":\"b\"}", 0, -1, "unknown_field", "Email", NULL },
        { "{\"email\":\"a\",\"attribs\":{\"x\":1e308}}", 0, -1, "invalid_field", "attribs", "field \"attribs\" holds a number too large" },
        { "{\"email\":\"a\",\"attribs\":{\"x\":[-1.5e20]}}", 0, -1, "invalid_field", "attribs", NULL },
        { "{\"email\":\"a\",\"attribs\":{\"x\":9.2e17,\"y\":1.5e-320,\"z\":9223372036854775807}}", 0, 0, "", "", NULL },
        { "{\"email\":\"a\",\"attribs\":{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":1}}}}}}}}}}}}}}}}", 0, 0, "", "", NULL },
        { "{\"email\":\"a\",\"attribs\":{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":1}}}}}}}}}}}}}}}}}", 0, -1, "invalid_field", "attribs", "field \"attribs\" is nested more than 16 deep" },
        { "{}", 0, -1, "missing_field", "email", "field \"email\" is required" },
        { "{\"email\":null}", 0, -1, "missing_field", "email", NULL },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct api_err e = { 0 };
        json_t *j = NULL;
        size_t len = cases[i].len ? cases[i].len : strlen(cases[i].body);
        int rc = api_json_parse(cases[i].body, len, &j, &e);
        if (rc == 0)
            rc = api_json_check(j, fields, &e);
        if (rc != cases[i].rc)
            fail_msg("case %zu (%s): rc %d, expected %d (%s)", i, cases[i].body, rc, cases[i].rc, e.message);
        if (rc < 0) {
            assert_int_equal(e.status, 400);
            assert_string_equal(e.code, cases[i].code);
            assert_string_equal(e.field, cases[i].field);
            assert_int_equal(e.has_field, strcmp(cases[i].code, "invalid_utf8") != 0 && strcmp(cases[i].code, "invalid_json") != 0);
            if (cases[i].message)
                assert_string_equal(e.message, cases[i].message);
        }
        json_decref(j);
    }
}

static void test_json_values_and_refs(void **state)
{
    (void)state;
    struct api_err e;
    json_t *j;
    const char *body = "{\"email\":\"a@b.c\",\"count\":7,\"flag\":false,\"lists\":[\"news\",12]}";
    assert_int_equal(api_json_parse(body, strlen(body), &j, &e), 0);
    assert_int_equal(api_json_check(j, fields, &e), 0);
    assert_string_equal(api_json_str(j, "email", NULL), "a@b.c");
    assert_string_equal(api_json_str(j, "name", "none"), "none");
    assert_int_equal(api_json_int(j, "count", 0), 7);
    assert_false(api_json_bool(j, "flag", true));
    char **refs;
    size_t n;
    api_json_refs(j, "lists", &refs, &n);
    assert_int_equal(n, 2);
    assert_string_equal(refs[0], "news");
    assert_string_equal(refs[1], "12");
    api_json_refs_free(refs, n);
    json_decref(j);
}

static void test_json_unknown_field_name_is_cut_on_a_character(void **state)
{
    (void)state;
    struct api_err e;
    json_t *j;
    /* 39 ASCII letters then a 2-byte character straddling the 40-byte cut */
    const char *body = "{\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\xc3\xa9zzzz\":1}";
    assert_int_equal(api_json_parse(body, strlen(body), &j, &e), 0);
    assert_int_equal(api_json_check(j, fields, &e), -1);
    assert_string_equal(e.field, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
    json_decref(j);
}

static void test_json_error_envelope(void **state)
{
    (void)state;
    struct api_err e;
    api_err_set(&e, 400, "invalid_field", "email", "field \"%s\" is bad", "email");
    json_t *j = api_error_json(&e);
    char *s = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
    assert_string_equal(s, "{\"error\":{\"code\":\"invalid_field\",\"message\":\"field \\\"email\\\" is bad\",\"field\":\"email\"}}");
    free(s);
    json_decref(j);
    api_err_set(&e, 404, "not_found", NULL, "no such resource");
    j = api_error_json(&e);
    s = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
    assert_string_equal(s, "{\"error\":{\"code\":\"not_found\",\"message\":\"no such resource\"}}");
    free(s);
    json_decref(j);
}

static void test_auth_tokens_and_passwords(void **state)
{
    (void)state;
    char tok[AUTH_TOKEN_MAX + 1], hash[AUTH_TOKEN_HASH_LEN + 1], again[AUTH_TOKEN_HASH_LEN + 1];
    assert_int_equal(auth_token_new(tok, hash), 0);
    assert_int_equal(strlen(tok), 4 + 43);
    assert_memory_equal(tok, "pst_", 4);
    assert_int_equal(strspn(tok + 4, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"), 43);
    auth_token_hash(tok, again);
    assert_string_equal(hash, again);
    auth_token_hash("abc", again);
    assert_string_equal(again, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    char ph[AUTH_HASH_MAX];
    assert_int_equal(auth_password_hash("correct horse", ph), 0);
    assert_memory_equal(ph, "$y$", 3);
    assert_true(auth_password_verify("correct horse", ph));
    assert_false(auth_password_verify("correct horsE", ph));
    assert_false(auth_password_verify("correct horse", "plain"));
    assert_null(auth_password_check("12345678"));
    assert_string_equal(auth_password_check("1234567"), "a password needs at least 8 characters");
    assert_string_equal(auth_password_check("12345678\xff"), "a password must be valid UTF-8");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_json_decoding_table),
        cmocka_unit_test(test_json_values_and_refs),
        cmocka_unit_test(test_json_unknown_field_name_is_cut_on_a_character),
        cmocka_unit_test(test_json_error_envelope),
        cmocka_unit_test(test_auth_tokens_and_passwords),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
