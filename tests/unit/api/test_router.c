/* test_router - path patterns, captured segments, 404 and 405. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "api/router.h"

static void h_a(struct api_req *r) { (void)r; }
static void h_b(struct api_req *r) { (void)r; }
static void h_c(struct api_req *r) { (void)r; }
static void h_d(struct api_req *r) { (void)r; }

static const struct api_route table[] = {
    { "GET", "/api/v1/lists", API_USER, API_BODY_NONE, h_a, 0, 0 },
    { "POST", "/api/v1/lists", API_USER, API_BODY_JSON, h_b, 0, 0 },
    { "GET", "/api/v1/lists/{list}", API_USER, API_BODY_NONE, h_c, 0, 0 },
    { "POST", "/api/v1/campaigns/{id}/send", API_USER, API_BODY_OPT_JSON, h_d, 0, 0 },
    { "GET", "/a/{x}/b/{y}", API_PUBLIC, API_BODY_NONE, h_a, 0, 0 },
    { "GET", "/o/{t}.gif", API_PUBLIC, API_BODY_NONE, h_b, 0, 0 },
    { "GET", "/admin", API_PUBLIC, API_BODY_NONE, h_c, API_TRAILING_SLASH, 0 },
    { "GET", "/c/{t}", API_PUBLIC, API_BODY_NONE, h_d, API_GET_ACTS, 'c' },
    { NULL, NULL, API_PUBLIC, API_BODY_NONE, NULL, 0, 0 },
};

static void test_router_table(void **state)
{
    (void)state;
    static const struct {
        const char *method, *path;
        int rc;
        size_t index, nparams;
        const char *p0, *p1;
    } cases[] = {
        { "GET", "/api/v1/lists", 0, 0, 0, NULL, NULL },
        { "POST", "/api/v1/lists", 0, 1, 0, NULL, NULL },
        { "DELETE", "/api/v1/lists", API_ROUTE_BAD_METHOD, 0, 0, NULL, NULL },
        { "GET", "/api/v1/lists/news", 0, 2, 1, "news", NULL },
        { "GET", "/api/v1/lists/42", 0, 2, 1, "42", NULL },
        { "GET", "/api/v1/lists/", API_ROUTE_NOT_FOUND, 0, 0, NULL, NULL },
        { "GET", "/api/v1/lists//", API_ROUTE_NOT_FOUND, 0, 0, NULL, NULL },
        { "GET", "/api/v1/lists/a/b", API_ROUTE_NOT_FOUND, 0, 0, NULL, NULL },
        { "GET", "/api/v1/list", API_ROUTE_NOT_FOUND, 0, 0, NULL, NULL },
        { "GET", "/api/v1/listsx", API_ROUTE_NOT_FOUND, 0, 0, NULL, NULL },
        { "GET", "api/v1/lists", API_ROUTE_NOT_FOUND, 0, 0, NULL, NULL },
        { "GET", "", API_ROUTE_NOT_FOUND, 0, 0, NULL, NULL },
        { "GET", "/", API_ROUTE_NOT_FOUND, 0, 0, NULL, NULL },
        { "POST", "/api/v1/campaigns/7/send", 0, 3, 1, "7", NULL },
        { "GET", "/api/v1/campaigns/7/send", API_ROUTE_BAD_METHOD, 0, 0, NULL, NULL },
        { "POST", "/api/v1/campaigns/7/sendx", API_ROUTE_NOT_FOUND, 0, 0, NULL, NULL },
        { "GET", "/a/1/b/2", 0, 4, 2, "1", "2" },
        { "GET", "/a/1/c/2", API_ROUTE_NOT_FOUND, 0, 0, NULL, NULL },
        { "get", "/api/v1/lists", API_ROUTE_BAD_METHOD, 0, 0, NULL, NULL },
        /* HEAD is answered by the GET route; where there is none, it is not allowed */
        { "HEAD", "/api/v1/lists", 0, 0, 0, NULL, NULL },
        { "HEAD", "/api/v1/lists/news", 0, 2, 1, "news", NULL },
        { "HEAD", "/api/v1/campaigns/7/send", API_ROUTE_BAD_METHOD, 0, 0, NULL, NULL },
        { "HEAD", "/nothing", API_ROUTE_NOT_FOUND, 0, 0, NULL, NULL },
        /* but not where GET does something (confirms, counts): a link checker's HEAD changes nothing */
        { "GET", "/c/abc", 0, 7, 1, "abc", NULL },
        { "HEAD", "/c/abc", API_ROUTE_BAD_METHOD, 0, 0, NULL, NULL },
        { "HEAD", "/admin/", 0, 6, 0, NULL, NULL },
        /* a segment with a literal suffix: only the part before it is captured */
        { "GET", "/o/abc.gif", 0, 5, 1, "abc", NULL },
        { "GET", "/o/a.b.gif", 0, 5, 1, "a.b", NULL },
        { "GET", "/o/.gif", API_ROUTE_NOT_FOUND, 0, 0, NULL, NULL },
        { "GET", "/o/abc", API_ROUTE_NOT_FOUND, 0, 0, NULL, NULL },
        { "GET", "/o/abc.gifx", API_ROUTE_NOT_FOUND, 0, 0, NULL, NULL },
        { "GET", "/o/abc.GIF", API_ROUTE_NOT_FOUND, 0, 0, NULL, NULL },
        { "GET", "/o/abc.gif/x", API_ROUTE_NOT_FOUND, 0, 0, NULL, NULL },
        /* one slash more is the same route only where the route says so */
        { "GET", "/admin", 0, 6, 0, NULL, NULL },
        { "GET", "/admin/", 0, 6, 0, NULL, NULL },
        { "GET", "/admin//", API_ROUTE_NOT_FOUND, 0, 0, NULL, NULL },
        { "POST", "/admin/", API_ROUTE_NOT_FOUND, 0, 0, NULL, NULL },
        { "GET", "/api/v1/lists/", API_ROUTE_NOT_FOUND, 0, 0, NULL, NULL },
        { "DELETE", "/api/v1/lists/", API_ROUTE_NOT_FOUND, 0, 0, NULL, NULL },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct api_match m;
        int rc = api_router_match(table, cases[i].method, cases[i].path, &m);
        assert_int_equal(rc, cases[i].rc);
        if (rc == 0) {
            assert_ptr_equal(m.route, &table[cases[i].index]);
            assert_int_equal(m.index, cases[i].index);
            assert_int_equal(m.nparams, cases[i].nparams);
            if (cases[i].p0)
                assert_string_equal(m.params[0], cases[i].p0);
            if (cases[i].p1)
                assert_string_equal(m.params[1], cases[i].p1);
        } else {
            assert_null(m.route);
            assert_int_equal(m.nparams, 0);
        }
        api_match_free(&m);
    }
}

static void test_router_api_table_is_unambiguous(void **state)
{
    (void)state;
    /* each route, asked with its own pattern as the path, finds itself */
    for (size_t i = 0; api_routes[i].method; i++) {
        struct api_match m;
        assert_int_equal(api_router_match(api_routes, api_routes[i].method, api_routes[i].pattern, &m), 0);
        assert_int_equal(m.index, i);
        assert_non_null(api_routes[i].fn);
        api_match_free(&m);
    }
}

static void test_router_api_access(void **state)
{
    (void)state;
    for (size_t i = 0; api_routes[i].method; i++) {
        const struct api_route *r = &api_routes[i];
        bool secret_write = strcmp(r->method, "GET") != 0 && (strncmp(r->pattern, "/api/v1/relays", 14) == 0 ||
                                                             strncmp(r->pattern, "/api/v1/dkim-keys", 17) == 0 ||
                                                             strncmp(r->pattern, "/api/v1/webhooks", 16) == 0 ||
                                                             strncmp(r->pattern, "/api/v1/providers", 17) == 0 ||
                                                             strncmp(r->pattern, "/api/v1/rate-texts", 18) == 0 ||
                                                             strncmp(r->pattern, "/api/v1/warmups", 15) == 0);
        if (strncmp(r->pattern, "/api/v1/users", 13) == 0 || secret_write)
            assert_int_equal(r->access, API_ADMIN);
        else if (strcmp(r->method, "POST") == 0 && strcmp(r->pattern, "/api/v1/session") == 0)
            assert_int_equal(r->access, API_PUBLIC);   /* the login itself */
        else if (strncmp(r->pattern, "/api/", 5) == 0 || strcmp(r->pattern, "/metrics") == 0 ||
                 strcmp(r->pattern, "/admin/preview/{id}") == 0)   /* a user's own rendered preview */
            assert_int_equal(r->access, API_USER);
        else
            assert_int_equal(r->access, API_PUBLIC);
    }
}

static void test_router_api_writes_to_users_and_tokens_forget_logins(void **state)
{
    (void)state;
    /* exactly the writes to users, to one's own password and tokens, and logout empty the login cache */
    static const char *const forgetting[] = {
        "POST /api/v1/users",           "DELETE /api/v1/users/{user}",          "POST /api/v1/users/{user}/disable",
        "POST /api/v1/users/{user}/enable", "POST /api/v1/users/{user}/password", "POST /api/v1/me/password",
        "POST /api/v1/me/tokens",       "DELETE /api/v1/me/tokens/{token}",     "DELETE /api/v1/session",
        NULL,
    };
    size_t flagged = 0, listed = 0;
    while (forgetting[listed])
        listed++;
    for (size_t i = 0; api_routes[i].method; i++) {
        char name[200];
        snprintf(name, sizeof(name), "%s %s", api_routes[i].method, api_routes[i].pattern);
        bool listed_here = false;
        for (size_t k = 0; forgetting[k]; k++)
            listed_here |= strcmp(forgetting[k], name) == 0;
        assert_int_equal(!!(api_routes[i].flags & API_FORGET_LOGINS), listed_here);
        flagged += listed_here;
    }
    assert_int_equal(flagged, listed);
}

static void test_router_api_only_metrics_is_served_on_metrics_listen(void **state)
{
    (void)state;
    size_t flagged = 0;
    for (size_t i = 0; api_routes[i].method; i++)
        if (api_routes[i].flags & API_METRICS_LISTEN) {
            assert_string_equal(api_routes[i].method, "GET");
            assert_string_equal(api_routes[i].pattern, "/metrics");
            flagged++;
        }
    assert_int_equal(flagged, 1);
}

static void test_router_api_links_are_the_public_token_routes(void **state)
{
    (void)state;
    /* each public {token} route checks its kind before the body, but the preference page's, which
       answers a forged or expired token with a page of its own; nothing else is a link */
    static const struct {
        const char *route;
        char kind;
    } links[] = {
        { "GET /u/{token}", 'u' }, { "POST /u/{token}", 'u' }, { "GET /c/{token}", 'c' },
        { "POST /c/{token}", 'c' }, { "GET /o/{token}.gif", 'o' }, { "GET /l/{token}", 'l' },
    };
    static const char *const own_token[] = { "GET /p/{token}", "POST /p/{token}" };
    size_t seen = 0;
    for (size_t i = 0; api_routes[i].method; i++) {
        char name[200];
        snprintf(name, sizeof(name), "%s %s", api_routes[i].method, api_routes[i].pattern);
        char want = 0;
        for (size_t k = 0; k < sizeof(links) / sizeof(links[0]); k++)
            if (strcmp(links[k].route, name) == 0)
                want = links[k].kind, seen++;
        assert_int_equal(api_routes[i].link, want);
        bool own = strcmp(name, own_token[0]) == 0 || strcmp(name, own_token[1]) == 0;
        if (api_routes[i].access == API_PUBLIC && strstr(api_routes[i].pattern, "{token}"))
            assert_true(want != 0 || own);
    }
    assert_int_equal(seen, sizeof(links) / sizeof(links[0]));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_router_table),
        cmocka_unit_test(test_router_api_table_is_unambiguous),
        cmocka_unit_test(test_router_api_links_are_the_public_token_routes),
        cmocka_unit_test(test_router_api_access),
        cmocka_unit_test(test_router_api_writes_to_users_and_tokens_forget_logins),
        cmocka_unit_test(test_router_api_only_metrics_is_served_on_metrics_listen),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
