/*
 * fuzz_markdown - libFuzzer target for Markdown bodies (markdown_render): any
 * input renders (no crash, no read out of bounds, no leak), and every tag
 * set aside is put back: no marker word is left in the HTML of a source that
 * had none (and no character reference that could spell one).
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "engine/mail/markdown.h"
#include "engine/util/buf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char mark[] = "zqpostinomd";
    struct buf html = BUF_INIT;
    if (markdown_render((const char *)data, size, &html) < 0)
        __builtin_trap();
    if (!memmem(data, size, mark, sizeof(mark) - 1) && !memchr(data, '&', size) && html.len &&
        memmem(html.data, html.len, mark, sizeof(mark) - 1))
        __builtin_trap();
    buf_free(&html);
    return 0;
}
