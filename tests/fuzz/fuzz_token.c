/*
 * fuzz_token - libFuzzer target for the token parser, which reads the
 * untrusted last segment of /u/, /c/, /o/ and /l/ URLs and of VERP bounce
 * addresses. The input (cut at 200 bytes) is parsed as a token; then kind
 * and two ids taken from its first bytes must survive token_make and
 * token_parse unchanged, and one flipped character must be refused.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "engine/mail/token.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const unsigned char key[TOKEN_KEY_LEN] = "fuzz-key-0123456789abcdef-fuzz!";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char in[201], tok[TOKEN_MAX + 1], kind, k2;
    uint64_t a, b, a2, b2;
    size_t n = size < 200 ? size : 200;
    memcpy(in, data, n);
    in[n] = 0;
    if (token_parse(key, in, &kind, &a, &b) == 0 && strlen(in) > TOKEN_MAX)
        __builtin_trap();
    if (size < 17)
        return 0;
    memcpy(&a, data + 1, 8);
    memcpy(&b, data + 9, 8);
    kind = (char)data[0];
    int len = token_make(key, kind, a, b, tok, sizeof(tok));
    if (len <= 0 || (size_t)len != strlen(tok))
        __builtin_trap();
    if (token_parse(key, tok, &k2, &a2, &b2) != 0 || k2 != kind || a2 != a || b2 != b)
        __builtin_trap();
    size_t at = data[0] % (size_t)len;
    tok[at] = tok[at] == 'a' ? 'b' : 'a';
    if (token_parse(key, tok, &k2, &a2, &b2) == 0 && (k2 != kind || a2 != a || b2 != b))
        __builtin_trap();
    return 0;
}
