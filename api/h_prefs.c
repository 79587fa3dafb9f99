/*
 * h_prefs - the preference page /p/TOKEN: a subscriber's public lists to
 * join or leave, the name and the attributes [preferences] attributes names
 * to edit, and "unsubscribe from everything".
 *
 * The token (kind 'p': the subscriber and the day its message was made) is
 * checked here rather than when the headers arrive, because a bad one gets a
 * page: one altered or signed with another key says the link is not valid
 * (403), one older than [preferences] token_days that it has expired (410);
 * neither shows anything of anyone. One that is not a token at all, or of
 * another kind, is 404 as every public link.
 *
 * GET only shows the page. Its form POSTs urlencoded fields (form.h): the
 * token again (it must be the path's), name, attr.KEY, shown and list (list
 * ids: those the page showed, and of them the ones ticked), action (save or
 * unsubscribe_all); it must come from this site's page (api_same_site).
 * Changes are recorded as made via 'preferences' by the subscriber.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "api/handlers.h"
#include "engine/mail/template.h"
#include "engine/send/settings_send.h"
#include "engine/store/prefs.h"
#include "engine/util/alloc.h"
#include "engine/util/embedded.h"
#include "engine/util/form.h"
#include "engine/util/log.h"
#include "engine/util/str.h"

/* load - the embedded page template NAME, compiled (a bug when it is not there) */
static struct tmpl *load(const char *name)
{
    const struct embedded_file *f = embedded_find(name);
    char err[TMPL_ERR_MAX];
    struct tmpl *t = f ? tmpl_compile((const char *)f->data, f->len, err, sizeof(err)) : NULL;
    if (!t)
        log_panic("%s: %s", name, f ? err : "not embedded");
    return t;
}

/* lists_html - one row of templates/preferences_list.html per public list of P */
static void lists_html(json_t *p, struct buf *out)
{
    struct tmpl *t = load("templates/preferences_list.html");
    size_t i;
    json_t *l;
    json_array_foreach(json_object_get(p, "lists"), i, l) {
        const char *st = json_string_value(json_object_get(l, "status"));
        bool on = st && strcmp(st, "unsubscribed") != 0;
        json_t *a = json_pack("{s:I, s:s, s:s, s:O}", "id", json_integer_value(json_object_get(l, "id")), "on",
                              on ? "yes" : "", "pending", st && strcmp(st, "unconfirmed") == 0 ? "yes" : "",
                              "description", json_object_get(l, "description"));
        struct tmpl_values v = { .list_name = json_string_value(json_object_get(l, "name")), .attribs = a };
        tmpl_render(t, &v, TMPL_HTML, out);
        json_decref(a);
    }
    tmpl_free(t);
}

/* attrs_html - one row of templates/preferences_attr.html per editable attribute, with P's value */
static void attrs_html(json_t *p, struct buf *out)
{
    struct tmpl *t = load("templates/preferences_attr.html");
    const char *list = mail_settings.prefs_attributes ? mail_settings.prefs_attributes : "";
    json_t *attribs = json_object_get(p, "attribs");
    char buf[201];
    for (const char *s = list; *s;) {
        size_t n = strcspn(s, ",");
        snprintf(buf, sizeof(buf), "%.*s", (int)(n < 200 ? n : 200), s);
        const char *key = str_trim(buf);
        s += n + (s[n] == ',');
        if (!*key)
            continue;
        json_t *val = json_object_get(attribs, key);
        json_t *a = json_pack("{s:s, s:s}", "key", key, "value", json_is_string(val) ? json_string_value(val) : "");
        if (val && !json_is_string(val) && !json_is_null(val)) {
            char *txt = json_dumps(val, JSON_ENCODE_ANY | JSON_COMPACT);
            json_object_set_new(a, "value", json_string(txt ? txt : ""));
            free(txt);
        }
        struct tmpl_values v = { .attribs = a };
        tmpl_render(t, &v, TMPL_HTML, out);
        json_decref(a);
    }
    tmpl_free(t);
}

/* page - answer STATUS with the preference page in STATE (form, forged, expired) for P (NULL for the last two) */
static void page(struct api_req *r, int status, const char *state, json_t *p, const char *notice, const char *error)
{
    struct tmpl *t = load("templates/preferences.html");
    struct buf url = BUF_INIT, lists = BUF_INIT, attrs = BUF_INIT, html = BUF_INIT;
    json_t *a = json_pack("{s:s, s:s, s:s, s:s}", "state", state, "token", p ? api_param(r, 0) : "", "notice",
                          notice ? notice : "", "error", error ? error : "");
    if (p) {
        lists_html(p, &lists);
        attrs_html(p, &attrs);
        json_object_set_new(a, "lists_html", json_string(buf_cstr(&lists)));
        json_object_set_new(a, "attrs_html", json_string(buf_cstr(&attrs)));
    }
    buf_appendf(&url, "/p/%s", api_param(r, 0));
    struct tmpl_values v = {
        .email = p ? json_string_value(json_object_get(p, "email")) : NULL,
        .name = p ? json_string_value(json_object_get(p, "name")) : NULL,
        .preferences_url = buf_cstr(&url),
        .attribs = a,
    };
    tmpl_render(t, &v, TMPL_HTML, &html);
    /* the form's POST carries this site as its Origin (api_same_site); the token goes nowhere else */
    r->referrer_policy = "same-origin";
    api_reply_page(r, status, &html);
    json_decref(a);
    buf_free(&url);
    buf_free(&lists);
    buf_free(&attrs);
    tmpl_free(t);
}

/*
 * prefs_token - the subscriber R's token names; 0, or -1 with the answer
 * set: 404 when it is no token of kind 'p', the page saying so when it is
 * forged (403) or expired (410).
 */
static int prefs_token(struct api_req *r, uint64_t *sub)
{
    unsigned char key[TOKEN_KEY_LEN];
    const char *tok = api_param(r, 0);
    uint64_t day;
    char kind = 0;
    if (strlen(tok) > TOKEN_MAX) {
        api_reply_error(r, 404, "not_found", NULL, "this link is not valid");
        return -1;
    }
    if (api_token_key(r, key) < 0)
        return -1;
    int rc = token_parse(key, tok, &kind, sub, &day);
    uint64_t today = (uint64_t)time(NULL) / 86400;
    if (rc == TOKEN_EFORGED || (rc == 0 && kind == 'p' && day > today + 1)) {
        page(r, 403, "forged", NULL, NULL, NULL);
        return -1;
    }
    if (rc < 0 || kind != 'p') {
        api_reply_error(r, 404, "not_found", NULL, "this link is not valid");
        return -1;
    }
    if (today > day && today - day > mail_settings.prefs_token_days) {
        page(r, 410, "expired", NULL, NULL, NULL);
        return -1;
    }
    return 0;
}

/* show - the page for SUB with NOTICE or ERROR, as it is now; STATUS when all is well */
static void show(struct api_req *r, int status, uint64_t sub, const char *notice, const char *error)
{
    struct store_err e;
    json_t *p = NULL;
    if (store_prefs_get(r->conn, sub, &p, &e) < 0) {
        if (e.code == STORE_ERR_NOTFOUND)
            api_reply_error(r, 404, "not_found", NULL, "this link is not valid");
        else
            api_reply_store(r, &e);
        return;
    }
    page(r, status, "form", p, notice, error);
    json_decref(p);
}

/* api_prefs_page - GET /p/{token} */
void api_prefs_page(struct api_req *r)
{
    uint64_t sub;
    if (prefs_token(r, &sub) < 0 || !api_db(r))
        return;
    show(r, 200, sub, NULL, NULL);
}

/* What the form posted. */
struct posted {
    const char *token;          /* the path's token, to be matched */
    bool token_ok, seen_token;
    const char *action;         /* "" until given */
    const char *bad;            /* the field a refused pair is, when it is one this page takes */
    char *name;
    json_t *attribs;
    uint64_t shown[PREFS_LISTS_MAX], ticked[PREFS_LISTS_MAX];
    size_t nshown, nticked;
};

/* list_id - VALUE as a list id into IDS (N of them so far); -1 with *WHY when it is not one */
static int list_id(const char *value, uint64_t *ids, size_t *n, const char **why)
{
    long v;
    if (str_parse_long(value, 1, INT64_MAX, &v) < 0) {
        *why = "field \"list\" and \"shown\" must be list ids";
        return -1;
    }
    if (*n == PREFS_LISTS_MAX) {
        *why = "too many lists";
        return -1;
    }
    ids[(*n)++] = (uint64_t)v;
    return 0;
}

/* field - one pair of the form (a form_field_cb) */
static int field(const char *name, const char *value, void *arg, const char **why)
{
    struct posted *f = arg;
    if (strcmp(name, "token") == 0) {
        f->seen_token = true;
        f->token_ok = strcmp(value, f->token) == 0;
    } else if (strcmp(name, "action") == 0) {
        if (strcmp(value, "save") != 0 && strcmp(value, "unsubscribe_all") != 0) {
            f->bad = "action";
            *why = "field \"action\" must be save or unsubscribe_all";
            return -1;
        }
        f->action = strcmp(value, "save") == 0 ? "save" : "unsubscribe_all";
    } else if (strcmp(name, "name") == 0) {
        xfree(f->name);
        f->name = xstrdup(value);
    } else if (strncmp(name, "attr.", 5) == 0 && name[5]) {
        if (!f->attribs)
            f->attribs = json_object();
        json_object_set_new(f->attribs, name + 5, json_string(value));
    } else if (strcmp(name, "shown") == 0 || strcmp(name, "list") == 0) {
        bool shown = name[0] == 's';
        int rc = shown ? list_id(value, f->shown, &f->nshown, why) : list_id(value, f->ticked, &f->nticked, why);
        if (rc < 0)
            f->bad = shown ? "shown" : "list";
        return rc;
    } else {
        *why = "the form has a field this page does not take";
        return -1;
    }
    return 0;
}

/* is_form_type - is TYPE application/x-www-form-urlencoded (parameters aside)? */
static bool is_form_type(const char *type)
{
    static const char want[] = "application/x-www-form-urlencoded";
    return type && strncasecmp(type, want, sizeof(want) - 1) == 0 &&
           (type[sizeof(want) - 1] == 0 || type[sizeof(want) - 1] == ';' || type[sizeof(want) - 1] == ' ');
}

/* apply - make what F asks of SUB and answer with the page as it is then */
static void apply(struct api_req *r, uint64_t sub, struct posted *f)
{
    struct store_err e;
    json_t *done = NULL;
    struct prefs_change c = {
        .unsubscribe_all = strcmp(f->action, "unsubscribe_all") == 0,
        .name = f->name,
        .attribs = f->attribs,
        .editable = mail_settings.prefs_attributes,
        .shown = f->shown,
        .nshown = f->nshown,
        .ticked = f->ticked,
        .nticked = f->nticked,
    };
    if (api_consent(r, "preferences") < 0)
        return;
    int rc = store_prefs_apply(r->conn, sub, &c, &done, &e);
    if (rc == STORE_ERR_INVALID) {
        show(r, 400, sub, NULL, e.msg);
    } else if (rc < 0) {
        if (e.code == STORE_ERR_NOTFOUND)
            api_reply_error(r, 404, "not_found", NULL, "this link is not valid");
        else
            api_reply_store(r, &e);
    } else {
        log_info("api: subscriber %llu changed their preferences (%zu joined, %zu left%s)", (unsigned long long)sub,
                 json_array_size(json_object_get(done, "joined")), json_array_size(json_object_get(done, "left")),
                 c.unsubscribe_all ? ", unsubscribed from everything" : "");
        show(r, 200, sub, c.unsubscribe_all ? "You are unsubscribed from everything: we will send you no more mail."
                                            : "Your preferences are saved.", NULL);
    }
    json_decref(done);
}

/* api_prefs_post - POST /p/{token} */
void api_prefs_post(struct api_req *r)
{
    uint64_t sub;
    const char *why = NULL;
    if (prefs_token(r, &sub) < 0)
        return;
    if (!api_same_site(r))
        return api_reply_error(r, 403, "forbidden", NULL, "this form must be sent from its own page");
    if (!is_form_type(r->content_type))
        return api_reply_error(r, 415, "unsupported_media_type", NULL,
                               "the request body must be application/x-www-form-urlencoded");
    struct posted f = { .token = api_param(r, 0), .action = "" };
    if (form_parse(r->body ? r->body : "", r->body_len, field, &f, &why) < 0)
        api_reply_error(r, 400, "invalid_field", f.bad, "%s", why);
    else if (!f.seen_token || !f.token_ok)
        api_reply_error(r, 403, "forbidden", "token", "field \"token\" must be this page's own");
    else if (!*f.action)
        api_reply_error(r, 400, "invalid_field", "action", "field \"action\" must be save or unsubscribe_all");
    else if (api_db(r))
        apply(r, sub, &f);
    xfree(f.name);
    json_decref(f.attribs);
}
