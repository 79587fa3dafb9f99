/* test_preview_cache - previews kept for their user alone, for their TTL, within their bounds, the oldest going first. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "api/preview_cache.h"

#define DAY_MS (24u * 3600 * 1000)
#define NOW 1000000   /* the clock of every put and get but the expiry test's */

/* put HTML for USER in C, its id in ID; asserts success */
static void put(struct preview_cache *c, long long user, const char *html, char id[PREVIEW_ID_LEN + 1])
{
    assert_int_equal(preview_cache_put(c, NOW, user, html, strlen(html), id), 0);
}

/* the document ID of USER in C, or "(none)" */
static const char *get(struct preview_cache *c, long long user, const char *id)
{
    static char out[256];
    struct buf b = BUF_INIT;
    int rc = preview_cache_get(c, NOW, user, id, &b);
    if (rc == 0)
        snprintf(out, sizeof(out), "%.*s", (int)b.len, b.data);
    else
        snprintf(out, sizeof(out), "(none)");
    assert_true(rc == 0 || rc == -ENOENT);
    buf_free(&b);
    return out;
}

static void test_preview_cache_gives_a_document_to_its_user_alone(void **state)
{
    (void)state;
    struct preview_cache *c = preview_cache_new(DAY_MS, 1 << 20);
    char a[PREVIEW_ID_LEN + 1], b[PREVIEW_ID_LEN + 1];
    put(c, 1, "<p>one</p>", a);
    put(c, 2, "<p>two</p>", b);
    assert_int_equal(strlen(a), PREVIEW_ID_LEN);
    assert_int_equal(strspn(a, "0123456789abcdef"), PREVIEW_ID_LEN);
    assert_string_not_equal(a, b);
    assert_string_equal(get(c, 1, a), "<p>one</p>");
    assert_string_equal(get(c, 1, a), "<p>one</p>");   /* read as often as the frame loads it */
    assert_string_equal(get(c, 2, b), "<p>two</p>");
    assert_string_equal(get(c, 2, a), "(none)");
    assert_string_equal(get(c, 1, b), "(none)");
    preview_cache_free(c);
}

static void test_preview_cache_unknown_and_malformed_ids_are_none(void **state)
{
    (void)state;
    struct preview_cache *c = preview_cache_new(DAY_MS, 1 << 20);
    char a[PREVIEW_ID_LEN + 1], shorter[PREVIEW_ID_LEN];
    put(c, 1, "x", a);
    memcpy(shorter, a, PREVIEW_ID_LEN - 1);
    shorter[PREVIEW_ID_LEN - 1] = 0;
    assert_string_equal(get(c, 1, shorter), "(none)");
    assert_string_equal(get(c, 1, "00000000000000000000000000000000"), "(none)");
    assert_string_equal(get(c, 1, ""), "(none)");
    preview_cache_free(c);
}

static void test_preview_cache_a_document_lasts_its_ttl_then_is_none(void **state)
{
    (void)state;
    struct preview_cache *c = preview_cache_new(5000, 1 << 20);
    char a[PREVIEW_ID_LEN + 1], b[PREVIEW_ID_LEN + 1];
    struct buf out = BUF_INIT;
    assert_int_equal(preview_cache_put(c, 1000, 1, "<p>a</p>", 8, a), 0);
    assert_int_equal(preview_cache_put(c, 3000, 1, "<p>b</p>", 8, b), 0);
    assert_int_equal(preview_cache_get(c, 5999, 1, a, &out), 0);
    assert_int_equal(preview_cache_get(c, 6000, 1, a, &out), -ENOENT);
    assert_int_equal(preview_cache_get(c, 5999, 1, a, &out), -ENOENT);   /* gone for good, not only late */
    assert_int_equal(preview_cache_get(c, 7999, 1, b, &out), 0);
    assert_int_equal(preview_cache_get(c, 8000, 1, b, &out), -ENOENT);
    assert_int_equal(out.len, 16);
    assert_memory_equal(out.data, "<p>a</p><p>b</p>", 16);
    buf_free(&out);
    preview_cache_free(c);
}

static void test_preview_cache_a_user_holds_a_few_the_oldest_go(void **state)
{
    (void)state;
    struct preview_cache *c = preview_cache_new(DAY_MS, 1 << 20);
    char ids[PREVIEW_CACHE_PER_USER + 1][PREVIEW_ID_LEN + 1], other[PREVIEW_ID_LEN + 1], html[16];
    put(c, 7, "other user's", other);
    for (int i = 0; i <= PREVIEW_CACHE_PER_USER; i++) {
        snprintf(html, sizeof(html), "doc %d", i);
        put(c, 1, html, ids[i]);
    }
    assert_string_equal(get(c, 1, ids[0]), "(none)");
    for (int i = 1; i <= PREVIEW_CACHE_PER_USER; i++) {
        snprintf(html, sizeof(html), "doc %d", i);
        assert_string_equal(get(c, 1, ids[i]), html);
    }
    assert_string_equal(get(c, 7, other), "other user's");   /* one user's typing drops no one else's */
    preview_cache_free(c);
}

static void test_preview_cache_bytes_bounded_the_oldest_go_first(void **state)
{
    (void)state;
    struct preview_cache *c = preview_cache_new(DAY_MS, 10);
    char a[PREVIEW_ID_LEN + 1], b[PREVIEW_ID_LEN + 1], d[PREVIEW_ID_LEN + 1];
    put(c, 1, "aaaa", a);
    put(c, 2, "bbbb", b);
    put(c, 3, "dddd", d);   /* 12 bytes would be over 10: the oldest goes */
    assert_string_equal(get(c, 1, a), "(none)");
    assert_string_equal(get(c, 2, b), "bbbb");
    assert_string_equal(get(c, 3, d), "dddd");
    assert_int_equal(preview_cache_put(c, NOW, 1, "01234567890", 11, a), -EFBIG);   /* alone over the bound */
    assert_string_equal(get(c, 2, b), "bbbb");   /* nothing dropped for it */
    put(c, 4, "0123456789", a);                  /* exactly the bound: all else goes */
    assert_string_equal(get(c, 4, a), "0123456789");
    assert_string_equal(get(c, 2, b), "(none)");
    assert_string_equal(get(c, 3, d), "(none)");
    preview_cache_free(c);
}

static void test_preview_cache_a_full_table_drops_the_oldest(void **state)
{
    (void)state;
    struct preview_cache *c = preview_cache_new(DAY_MS, 1 << 20);
    char first[PREVIEW_ID_LEN + 1], second[PREVIEW_ID_LEN + 1], id[PREVIEW_ID_LEN + 1];
    put(c, 1, "first", first);
    put(c, 2, "second", second);
    for (long long u = 3; u <= PREVIEW_CACHE_SLOTS; u++)
        put(c, u, "x", id);
    put(c, 1000, "one more", id);
    assert_string_equal(get(c, 1, first), "(none)");
    assert_string_equal(get(c, 2, second), "second");
    assert_string_equal(get(c, 1000, id), "one more");
    preview_cache_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_preview_cache_gives_a_document_to_its_user_alone),
        cmocka_unit_test(test_preview_cache_unknown_and_malformed_ids_are_none),
        cmocka_unit_test(test_preview_cache_a_document_lasts_its_ttl_then_is_none),
        cmocka_unit_test(test_preview_cache_a_user_holds_a_few_the_oldest_go),
        cmocka_unit_test(test_preview_cache_bytes_bounded_the_oldest_go_first),
        cmocka_unit_test(test_preview_cache_a_full_table_drops_the_oldest),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
