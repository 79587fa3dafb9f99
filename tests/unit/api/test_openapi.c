/*
 * test_openapi - api/openapi.yaml and the router's table agree both ways:
 * every route served is in the spec, every route in the spec is served.
 * The spec's paths are read line by line: a path is a key indented two
 * spaces under "paths:", a method a key indented four under it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cmocka.h>

#include "api/router.h"

#define MAX_SPEC 256

struct spec_route {
    char method[8];
    char path[200];
};

static FILE *open_spec(void)
{
    FILE *f = fopen("api/openapi.yaml", "r");
    if (!f) {
        /* run from elsewhere: find it beside this source file */
        char path[512];
        const char *src = __FILE__, *cut = strstr(src, "tests/unit/api/");
        snprintf(path, sizeof(path), "%.*sapi/openapi.yaml", cut ? (int)(cut - src) : 0, src);
        f = fopen(path, "r");
    }
    return f;
}

static size_t read_spec(struct spec_route *out)
{
    static const char *const methods[] = { "get", "post", "put", "patch", "delete", "head", "options", NULL };
    FILE *f = open_spec();
    char line[1024], path[200] = "";
    size_t n = 0;
    int in_paths = 0;
    assert_non_null(f);
    while (fgets(line, sizeof(line), f)) {
        line[strcspn(line, "\r\n")] = 0;
        if (line[0] && line[0] != ' ' && line[0] != '#') {
            in_paths = strcmp(line, "paths:") == 0;
            continue;
        }
        if (!in_paths)
            continue;
        if (strncmp(line, "  /", 3) == 0 && line[strlen(line) - 1] == ':') {
            snprintf(path, sizeof(path), "%.*s", (int)strlen(line) - 3, line + 2);
            continue;
        }
        if (strncmp(line, "    ", 4) == 0 && line[4] != ' ') {
            for (size_t i = 0; methods[i]; i++) {
                size_t ml = strlen(methods[i]);
                if (strncmp(line + 4, methods[i], ml) == 0 && line[4 + ml] == ':') {
                    assert_true(n < MAX_SPEC);
                    assert_true(path[0] == '/');
                    for (size_t k = 0; k <= ml; k++)
                        out[n].method[k] = (char)(methods[i][k] >= 'a' ? methods[i][k] - 32 : methods[i][k]);
                    snprintf(out[n].path, sizeof(out[n].path), "%s", path);
                    n++;
                }
            }
        }
    }
    fclose(f);
    return n;
}

static void test_openapi_every_served_route_is_in_the_spec(void **state)
{
    (void)state;
    struct spec_route *spec = calloc(MAX_SPEC, sizeof(*spec));
    size_t n = read_spec(spec);
    assert_true(n > 0);
    for (size_t i = 0; api_routes[i].method; i++) {
        int found = 0;
        for (size_t k = 0; k < n && !found; k++)
            found = strcmp(spec[k].method, api_routes[i].method) == 0 && strcmp(spec[k].path, api_routes[i].pattern) == 0;
        if (!found)
            fail_msg("served but not in api/openapi.yaml: %s %s", api_routes[i].method, api_routes[i].pattern);
    }
    free(spec);
}

static void test_openapi_every_spec_route_is_served(void **state)
{
    (void)state;
    struct spec_route *spec = calloc(MAX_SPEC, sizeof(*spec));
    size_t n = read_spec(spec);
    for (size_t k = 0; k < n; k++) {
        int found = 0;
        for (size_t i = 0; api_routes[i].method && !found; i++)
            found = strcmp(spec[k].method, api_routes[i].method) == 0 && strcmp(spec[k].path, api_routes[i].pattern) == 0;
        if (!found)
            fail_msg("in api/openapi.yaml but not served: %s %s", spec[k].method, spec[k].path);
    }
    free(spec);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_openapi_every_served_route_is_in_the_spec),
        cmocka_unit_test(test_openapi_every_spec_route_is_served),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
