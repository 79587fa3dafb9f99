/*
 * signup - the HTML of public signup forms (see signup.h).
 */
#include <stdio.h>
#include <string.h>

#include "engine/mail/signup.h"
#include "engine/mail/template.h"
#include "engine/util/embedded.h"
#include "engine/util/log.h"

/* embedded - the compiled embedded template PATH (a bug when it is missing or does not compile) */
static struct tmpl *embedded(const char *path)
{
    const struct embedded_file *f = embedded_find(path);
    char err[TMPL_ERR_MAX];
    struct tmpl *t = f ? tmpl_compile((const char *)f->data, f->len, err, sizeof(err)) : NULL;
    if (!t)
        log_panic("%s: %s", path, f ? err : "not embedded");
    return t;
}

/* signup_lists_html - see signup.h. */
void signup_lists_html(json_t *lists, struct buf *out)
{
    if (json_array_size(lists) == 1) {
        buf_appendf(out, "<input type=\"hidden\" name=\"list\" value=\"%lld\">",
                    (long long)json_integer_value(json_object_get(json_array_get(lists, 0), "id")));
        return;
    }
    struct tmpl *t = embedded("templates/signup_list.html");
    size_t i;
    json_t *l;
    json_array_foreach(lists, i, l) {
        struct tmpl_values v = { .list_name = json_string_value(json_object_get(l, "name")), .attribs = l };
        tmpl_render(t, &v, TMPL_HTML, out);
    }
    /* the lists offered, so that a post choosing none gets the same form again */
    json_array_foreach(lists, i, l)
        buf_appendf(out, "<input type=\"hidden\" name=\"offered\" value=\"%lld\">",
                    (long long)json_integer_value(json_object_get(l, "id")));
    tmpl_free(t);
}

/* base - PUBLIC_URL without its trailing slashes, as a JSON string */
static json_t *base(const char *public_url)
{
    size_t n = public_url ? strlen(public_url) : 0;
    while (n > 0 && public_url[n - 1] == '/')
        n--;
    return json_stringn(public_url ? public_url : "", n);
}

/* signup_snippet - see signup.h. */
void signup_snippet(json_t *lists, const char *public_url, unsigned pow_bits, struct buf *out)
{
    struct tmpl *t = embedded("templates/signup_snippet.html");
    struct buf rows = BUF_INIT;
    char pow[16] = "";
    if (pow_bits)
        snprintf(pow, sizeof(pow), "%u", pow_bits);
    signup_lists_html(lists, &rows);
    json_t *a = json_pack("{s:o, s:s, s:s}", "base", base(public_url), "lists_html", buf_cstr(&rows), "pow", pow);
    struct tmpl_values v = { .attribs = a };
    tmpl_render(t, &v, TMPL_HTML, out);
    json_decref(a);
    buf_free(&rows);
    tmpl_free(t);
}

/* signup_url - see signup.h. */
void signup_url(json_t *lists, const char *public_url, struct buf *out)
{
    json_t *b = base(public_url);
    size_t i;
    json_t *l;
    buf_appendf(out, "%s/s/", json_string_value(b));
    json_decref(b);
    json_array_foreach(lists, i, l) buf_appendf(out, "%s%lld", i ? "," : "", json_integer_value(json_object_get(l, "id")));
}

/* signup_page - see signup.h. */
int signup_page(const char *src, json_t *attribs, struct buf *out, char *err, size_t errlen)
{
    struct tmpl *t = src ? tmpl_compile(src, strlen(src), err, errlen) : embedded("templates/signup.html");
    if (!t)
        return -1;
    struct tmpl_values v = { .attribs = attribs };
    tmpl_render(t, &v, TMPL_HTML, out);
    tmpl_free(t);
    return 0;
}
