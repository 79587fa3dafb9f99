/*
 * fuzz_form - libFuzzer target for the urlencoded form parser, which reads
 * the untrusted body of POST /p/TOKEN. Every pair handed out must be
 * NUL-terminated UTF-8 no longer than the body; a refused body names why.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "engine/util/form.h"
#include "engine/util/str.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static size_t body_len;

static int pair(const char *name, const char *value, void *arg, const char **why)
{
    size_t *n = arg;
    size_t nl = strlen(name), vl = strlen(value);
    if (nl > body_len || vl > body_len || !str_utf8_valid(name, nl, NULL) || !str_utf8_valid(value, vl, NULL))
        __builtin_trap();
    (*n)++;
    if (strcmp(name, "stop") == 0) {
        *why = "stopped";
        return -1;
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *why = NULL;
    size_t n = 0;
    body_len = size;
    int rc = form_parse((const char *)data, size, pair, &n, &why);
    if ((rc < 0 && !why) || n > FORM_FIELDS_MAX)
        __builtin_trap();
    return 0;
}
