/*
 * fuzz_abtest - libFuzzer target for an A/B test as the API takes it: the
 * input is read as JSON and given to abtest_parse. A test it takes must
 * hold what abtest.h promises (2 to 4 variants with subjects, a sample of
 * 1%..99% or a positive count but not both, a window in range, a known
 * metric); a refusal must name an "ab" field and say something.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <jansson.h>

#include "engine/mail/abtest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_error_t je;
    json_t *in = json_loadb((const char *)data, size, JSON_DECODE_ANY, &je);
    if (!in)
        return 0;
    struct abtest ab;
    const char *field = NULL;
    char msg[300];
    if (abtest_parse(in, &ab, &field, msg, sizeof(msg)) == 0) {
        if (ab.nvariants < ABTEST_VARIANTS_MIN || ab.nvariants > ABTEST_VARIANTS_MAX)
            __builtin_trap();
        for (size_t i = 0; i < ab.nvariants; i++)
            if (!ab.v[i].subject || !*ab.v[i].subject)
                __builtin_trap();
        if ((ab.sample_pct != 0) == (ab.sample_count != 0) || ab.sample_pct < 0 || ab.sample_pct > 99 ||
            ab.sample_count < 0)
            __builtin_trap();
        if (ab.window_s < 1 || ab.window_s > ABTEST_WINDOW_MAX)
            __builtin_trap();
        if (strcmp(ab.metric, "opens") != 0 && strcmp(ab.metric, "clicks") != 0)
            __builtin_trap();
    } else if (!field || strncmp(field, "ab", 2) != 0 || !msg[0]) {
        __builtin_trap();
    }
    json_decref(in);
    return 0;
}
