/*
 * fuzz_provider - libFuzzer target for what reads provider input: the relay
 * field (as Postfix logs it, or as typed for provider match), domain and
 * host patterns, names, and an address or a domain. The input (cut at 600
 * bytes) goes to each; what is taken must be non-empty lower case of the
 * allowed characters, and a refusal must say why.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "engine/mail/provider.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int rc, const char *out, const char *why, const char *allowed)
{
    if (rc == 0) {
        if (!out[0] || strspn(out, allowed) != strlen(out) || strlen(out) > PROVIDER_PATTERN_MAX + 2)
            __builtin_trap();
    } else if (rc != -1 || !why || !why[0]) {
        __builtin_trap();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char in[601], out[PROVIDER_PATTERN_MAX + 3];
    size_t n = size < 600 ? size : 600;
    memcpy(in, data, n);
    in[n] = 0;
    const char *why = NULL;
    check(provider_relay_host(in, out, sizeof(out), &why), out, why, "abcdefghijklmnopqrstuvwxyz0123456789.-");
    why = NULL;
    check(provider_domain_pattern(in, out, sizeof(out), &why), out, why, "abcdefghijklmnopqrstuvwxyz0123456789.-*");
    why = NULL;
    check(provider_mx_pattern(in, out, sizeof(out), &why), out, why, "abcdefghijklmnopqrstuvwxyz0123456789.-*");
    why = NULL;
    check(provider_target(in, out, sizeof(out), &why), out, why, "abcdefghijklmnopqrstuvwxyz0123456789.-");
    why = NULL;
    int rc = provider_name_check(in, &why);
    if (rc != 0 && (!why || !why[0]))
        __builtin_trap();
    return 0;
}
