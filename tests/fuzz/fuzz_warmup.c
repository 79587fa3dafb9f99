/*
 * fuzz_warmup - libFuzzer target for warm-up input: a curve of daily caps
 * and a target. The input (cut at 4000 bytes) goes to each; a curve taken
 * must be 1 to WARMUP_DAYS_MAX caps in range, never falling; a target taken
 * must be lower case of the allowed characters or relay:NAME; a refusal
 * must say why.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "engine/mail/warmup.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char in[4001], out[WARMUP_TARGET_MAX + 1];
    int days[WARMUP_DAYS_MAX];
    size_t n = size < 4000 ? size : 4000, nd = 0;
    memcpy(in, data, n);
    in[n] = 0;
    const char *why = NULL;
    if (warmup_days_parse(in, days, &nd, &why) == 0) {
        if (nd < 1 || nd > WARMUP_DAYS_MAX)
            __builtin_trap();
        for (size_t i = 0; i < nd; i++)
            if (days[i] < 1 || days[i] > WARMUP_CAP_MAX || (i > 0 && days[i] < days[i - 1]))
                __builtin_trap();
    } else if (!why || !why[0]) {
        __builtin_trap();
    }
    why = NULL;
    if (warmup_target_check(in, out, sizeof(out), &why) == 0) {
        size_t len = strlen(out);
        if (strncmp(out, "relay:", 6) == 0) {
            if (len < 7 || strspn(out + 6, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-") != len - 6)
                __builtin_trap();
        } else if (len < 3 || strspn(out, "abcdefghijklmnopqrstuvwxyz0123456789.-") != len) {
            __builtin_trap();
        }
    } else if (!why || !why[0]) {
        __builtin_trap();
    }
    return 0;
}
