/*
 * fuzz_links - libFuzzer target for click tracking's link finder: the input
 * is compiled as a template and its links rewritten (compose_track_links).
 * Every URL chosen must be trackable and within LINKS_URL_MAX, the copy
 * without a link function must render exactly as the original, and with one
 * it must render (jumps remapped right: no crash, no read out of bounds).
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "engine/mail/compose.h"
#include "engine/mail/links.h"
#include "engine/util/buf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void link_fn(const void *ctx, unsigned idx, struct buf *out)
{
    (void)ctx;
    buf_appendf(out, "https://t.example/l/%u&\"", idx);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[TMPL_ERR_MAX], **urls;
    size_t n;
    struct tmpl *t = tmpl_compile((const char *)data, size, err, sizeof(err));
    if (!t)
        return 0;
    struct tmpl *tr = compose_track_links(t, "https://news.example", &urls, &n);
    for (size_t i = 0; i < n; i++)
        if (!links_trackable(urls[i]) || strlen(urls[i]) > LINKS_URL_MAX)
            __builtin_trap();
    struct tmpl_values v = { .email = "a@example.org", .name = "Ann", .unsubscribe_url = "https://news.example/u/x" };
    struct buf a = BUF_INIT, b = BUF_INIT, u = BUF_INIT;
    tmpl_render(t, &v, TMPL_HTML, &a);
    tmpl_render(tr, &v, TMPL_HTML, &b);
    if (a.len != b.len || (a.len && memcmp(a.data, b.data, a.len) != 0))
        __builtin_trap();
    v.link = link_fn;
    tmpl_render(tr, &v, TMPL_HTML, &b);
    links_url((const char *)data, size, &u);
    buf_free(&a);
    buf_free(&b);
    buf_free(&u);
    compose_links_free(urls, n);
    tmpl_free(tr);
    tmpl_free(t);
    return 0;
}
