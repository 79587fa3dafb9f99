/*
 * case_filter - linked into every cmocka test program: when POSTINO_TEST_CASE
 * is set (make test T=... CASE=NAME), only the cases whose names match it run
 * (cmocka's pattern: * and ? wildcards).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

__attribute__((constructor)) static void case_filter(void)
{
    const char *pattern = getenv("POSTINO_TEST_CASE");
    if (pattern && *pattern)
        cmocka_set_test_filter(pattern);
}
