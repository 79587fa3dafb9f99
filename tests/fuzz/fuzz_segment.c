/*
 * fuzz_segment - libFuzzer target for the segment filter language: the input
 * is a filter as a person or a program might send it. A compiled filter must
 * hold only the compiler's words: no quote of its own beyond the literals the
 * compiler writes, every placeholder an element of the one values array that
 * exists; a refused one must say where, on one line of valid UTF-8 (what it
 * quotes of the filter cut at a character, its control characters shown as ?).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "engine/mail/segment.h"
#include "engine/util/str.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *expr = malloc(size + 1);
    memcpy(expr, data, size);
    expr[size] = '\0';
    struct segment_sql q;
    char err[256];
    if (segment_compile(expr, 5, &q, err, sizeof(err)) == 0) {
        for (const char *c = q.sql; *c; c++) {
            if (*c == '$' && c[1] >= '0' && c[1] <= '9') {
                /* ($5::text[])[K] with K among the values */
                if (strncmp(c, "$5::text[])[", 12) != 0)
                    __builtin_trap();
                long k = strtol(c + 12, NULL, 10);
                if (k < 1 || k > (long)q.nparams)
                    __builtin_trap();
            }
            /* text the input chose would show as a byte the compiler never writes */
            if ((unsigned char)*c >= 0x80 || *c == ';' || *c == '"' || (*c == '-' && c[1] == '-'))
                __builtin_trap();
        }
        segment_sql_free(&q);
    } else if (strncmp(err, "line ", 5) != 0 || strchr(err, '\n') || !str_utf8_valid(err, strlen(err), NULL)) {
        __builtin_trap();
    }
    free(expr);
    return 0;
}
