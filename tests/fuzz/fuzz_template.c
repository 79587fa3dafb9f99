/*
 * fuzz_template - libFuzzer target for the template compiler and renderer.
 *
 * The input is compiled as a template; when it holds a NUL byte, the part
 * before is a layout and the part after its content (tmpl_compile_wrap).
 * Whatever compiles is rendered in both modes with values that exercise
 * every variable kind. Compile errors must be one line starting "line " or
 * "content: line " (or the missing-placeholder message).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "engine/mail/template.h"
#include "engine/util/buf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static json_t *attribs;

static void check_error(const char *err)
{
    if (strncmp(err, "line ", 5) != 0 && strncmp(err, "content: line ", 14) != 0 &&
        strcmp(err, "template has no [CONTENT] or {{ content }} placeholder") != 0)
        abort();
    if (strchr(err, '\n'))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!attribs)
        attribs = json_pack("{s:s, s:i, s:b, s:n, s:s, s:[i], s:{s:s}, s:s}", "city", "Köln", "visits", 3, "vip",
                            1, "none", "plan", "gold", "tags", 1, "obj", "a", "b", "FirstName", "<Ann & \"co\">");
    struct tmpl_values v = {
        .email = "a@example.org",
        .name = "Ann Lee",
        .attribs = attribs,
        .unsubscribe_url = "https://x.example/u?a=1&b=2",
        .campaign_name = "c",
        .campaign_subject = "s & t",
        .list_name = "l",
        .content = "<p>c</p>",
    };
    char err[TMPL_ERR_MAX];
    const char *src = (const char *)data;
    const char *nul = memchr(data, 0, size);
    struct tmpl *t;
    err[0] = 0;
    if (nul) {
        size_t n = (size_t)(nul - src);
        t = tmpl_compile_wrap(src, n, nul + 1, size - n - 1, err, sizeof(err));
    } else {
        t = tmpl_compile(src, size, err, sizeof(err));
    }
    if (!t) {
        check_error(err);
        return 0;
    }
    struct buf out = BUF_INIT;
    tmpl_render(t, &v, TMPL_HTML, &out);
    tmpl_render(t, &v, TMPL_TEXT, &out);
    v.attribs = NULL;
    v.name = NULL;
    tmpl_render(t, &v, TMPL_HTML, &out);
    buf_free(&out);
    tmpl_free(t);
    return 0;
}
