/* test_subscriber_fields - what a subscriber's name and attribute names may be, in the words every front end shows. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "engine/mail/subscriber_fields.h"

#define KEY50 "k123456789k123456789k123456789k123456789k123456789"

static void test_subscriber_fields_attr_keys(void **state)
{
    (void)state;
    const struct { const char *key; const char *why; } cases[] = {
        { "city", NULL },
        { "Straße du <b>code</b> postal", NULL },
        { KEY50 KEY50 KEY50 KEY50, NULL },
        { KEY50 KEY50 KEY50 KEY50 "x", "is longer than 200 bytes" },
        { "", "is empty" },
        { "a\tb", "holds a control character" },
        { "line\nbreak", "holds a control character" },
        { "del\x7f", "holds a control character" },
        { "Stra\xdf" "e", "is not valid UTF-8" },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *why = NULL;
        int rc = subscriber_attr_key_check(cases[i].key, &why);
        if (cases[i].why) {
            assert_int_equal(rc, -1);
            assert_string_equal(why, cases[i].why);
        } else {
            assert_int_equal(rc, 0);
        }
    }
}

static void test_subscriber_fields_names(void **state)
{
    (void)state;
    char long_name[1002];
    const char *why = NULL;
    memset(long_name, 'n', 1000);
    long_name[1000] = 0;
    assert_int_equal(subscriber_name_check(long_name, &why), 0);
    assert_int_equal(subscriber_name_check("<script>alert(1)</script>", &why), 0);
    long_name[1000] = 'n';
    long_name[1001] = 0;
    assert_int_equal(subscriber_name_check(long_name, &why), -1);
    assert_string_equal(why, "is longer than 1000 bytes");
    assert_int_equal(subscriber_name_check("Jos\xe9", &why), -1);
    assert_string_equal(why, "is not valid UTF-8");
}

static void test_subscriber_fields_attribs_null_removes_only_in_an_edit(void **state)
{
    (void)state;
    const char *key, *why;
    json_t *a = json_pack("{s:s, s:n, s:i}", "city", "Lyon", "plan", "score", 7);
    assert_int_equal(subscriber_attribs_check(a, true, &key, &why), 0);
    assert_int_equal(subscriber_attribs_check(a, false, &key, &why), -1);
    assert_string_equal(key, "plan");
    assert_string_equal(why, "is null (a value is needed)");
    json_object_set_new(a, "", json_string("x"));
    assert_int_equal(subscriber_attribs_check(a, true, &key, &why), -1);
    assert_string_equal(key, "");
    assert_string_equal(why, "is empty");
    json_decref(a);

    json_t *arr = json_array();
    assert_int_equal(subscriber_attribs_check(arr, true, &key, &why), -1);
    assert_null(key);
    assert_string_equal(why, "must be an object");
    json_decref(arr);

    json_t *many = json_object();
    char k[16];
    for (int i = 0; i <= SUBSCRIBER_ATTRS_MAX; i++) {
        snprintf(k, sizeof(k), "k%d", i);
        json_object_set_new(many, k, json_string("v"));
    }
    assert_int_equal(subscriber_attribs_check(many, false, &key, &why), -1);
    assert_null(key);
    assert_string_equal(why, "has more than 200 keys");
    json_decref(many);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_subscriber_fields_attr_keys),
        cmocka_unit_test(test_subscriber_fields_names),
        cmocka_unit_test(test_subscriber_fields_attribs_null_removes_only_in_an_edit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
