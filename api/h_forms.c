/*
 * h_forms - public signup forms.
 *
 * GET  /s/{lists}       the hosted page: one list, or several (ids or names
 *                       joined by ",") for the subscriber to choose from;
 *                       only public lists; from the template "signup" when
 *                       the admin made one, else templates/signup.html
 * GET  /s/signup.js     the proof of work's script (for the page and snippets)
 * GET  /s/challenge     {"challenge", "bits"}: a signed proof-of-work challenge
 * POST /s               a signup: urlencoded (a form) or JSON (an application)
 * GET  /api/v1/lists/{list}/form  the snippet to paste into any site, and the hosted page's URL
 *
 * A post carries email, name, list (repeated; ids or names; JSON: "lists"),
 * website (the honeypot: a person never sees it), pow_challenge and
 * pow_nonce (when [forms] pow_bits asks for work), offered (the lists a
 * form of several showed, to show it again when none was ticked) and form (hosted or
 * snippet: whose text the consent record hashes). In order: the fields are
 * checked (400 naming the field), the client address counted ([forms]
 * ip_limit a hour, else 429), the proof of work checked and spent, the
 * posted address counted ([forms] address_limit, else 429), then
 * store_form_signup. A filled honeypot gets the same answer as a signup,
 * and nothing is stored. The answer never depends on whether the address
 * was known (forms.h): "check your inbox" when a chosen list asks for
 * confirmation, "thank you" otherwise. Posts and the challenge answer any
 * origin (Access-Control-Allow-Origin: *), since a snippet lives on
 * another site.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/evp.h>

#include "api/handlers.h"
#include "engine/mail/address.h"
#include "engine/mail/pow.h"
#include "engine/mail/signup.h"
#include "engine/mail/template.h"
#include "engine/send/settings_send.h"
#include "engine/store/forms.h"
#include "engine/util/alloc.h"
#include "engine/util/embedded.h"
#include "engine/util/form.h"
#include "engine/util/log.h"
#include "engine/util/str.h"

#define HOUR 3600

static unsigned long n_signups, n_honeypot, n_limited;

/* the hosted page's Content-Security-Policy: its own script (the proof of work) and nothing else */
static const char page_csp[] = "default-src 'none'; style-src 'unsafe-inline'; script-src 'self'; "
                               "connect-src 'self'; form-action 'self'; frame-ancestors 'none'";

/* hex - the hex SHA-256 of LEN bytes of DATA into OUT (65 bytes) */
static void hex_sha256(const void *data, size_t len, char out[65])
{
    unsigned char md[32];
    unsigned mdlen = 0;
    EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL);
    for (size_t i = 0; i < 32; i++)
        snprintf(out + 2 * i, 3, "%02x", md[i]);
}

/* page_attribs - the hosted page's variables for LISTS in STATE */
static json_t *page_attribs(json_t *lists, const char *state)
{
    struct buf rows = BUF_INIT;
    char pow[16] = "";
    if (mail_settings.forms_pow_bits)
        snprintf(pow, sizeof(pow), "%u", mail_settings.forms_pow_bits);
    signup_lists_html(lists, &rows);
    json_t *one = json_array_size(lists) == 1 ? json_array_get(lists, 0) : NULL;
    json_t *a = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "state", state, "base", "", "lists_html",
                          buf_cstr(&rows), "pow", pow, "title",
                          one ? json_string_value(json_object_get(one, "name")) : "", "description",
                          one ? json_string_value(json_object_get(one, "description")) : "");
    buf_free(&rows);
    return a;
}

/* render - the hosted page with A into OUT: the admin's template, or the default when there is none or it fails */
static int render(struct api_req *r, json_t *a, struct buf *out)
{
    struct store_err e;
    char *src = NULL, err[TMPL_ERR_MAX];
    if (store_form_page(r->conn, &src, &e) < 0) {
        api_reply_store(r, &e);
        return -1;
    }
    if (src && signup_page(src, a, out, err, sizeof(err)) < 0) {
        log_warn("api: the template \"" FORM_PAGE_TEMPLATE "\" does not compile (%s): the default page is shown",
                 err);
        xfree(src);
        src = NULL;
    }
    if (!src)
        signup_page(NULL, a, out, err, sizeof(err));
    xfree(src);
    return 0;
}

/* reply_page - answer STATUS with the hosted page for LISTS in STATE, with ERROR and PENDING */
static void reply_page(struct api_req *r, int status, json_t *lists, const char *state, const char *error,
                       bool pending)
{
    struct buf html = BUF_INIT;
    json_t *none = lists ? NULL : json_array();
    json_t *a = page_attribs(lists ? lists : none, state);
    json_decref(none);
    json_object_set_new(a, "error", json_string(error ? error : ""));
    json_object_set_new(a, "pending", json_string(pending ? "yes" : ""));
    if (render(r, a, &html) == 0) {
        r->csp = page_csp;
        api_reply_page(r, status, &html);
    }
    json_decref(a);
    buf_free(&html);
}

/* api_signup_page - GET /s/{lists} */
void api_signup_page(struct api_req *r)
{
    struct store_err e;
    json_t *lists = NULL;
    if (!api_db(r))
        return;
    int rc = store_form_lists_text(r->conn, api_param(r, 0), &lists, &e);
    if (rc == STORE_ERR_NOTFOUND || rc == STORE_ERR_INVALID)
        reply_page(r, 404, NULL, "missing", NULL, false);
    else if (rc < 0)
        api_reply_store(r, &e);
    else
        reply_page(r, 200, lists, "form", NULL, false);
    json_decref(lists);
}

/* api_signup_script - GET /s/signup.js */
void api_signup_script(struct api_req *r)
{
    const struct embedded_file *f = embedded_find("templates/signup.js");
    struct buf js = BUF_INIT;
    buf_append(&js, f->data, f->len);
    r->cache_control = "public, max-age=3600";
    api_reply_text(r, 200, "text/javascript; charset=utf-8", &js);
}

/* api_signup_challenge - GET /s/challenge */
void api_signup_challenge(struct api_req *r)
{
    unsigned char key[TOKEN_KEY_LEN];
    char c[POW_CHALLENGE_MAX + 1] = "";
    unsigned bits = mail_settings.forms_pow_bits;
    r->cors_any = true;
    if (bits && (api_token_key(r, key) < 0 || pow_make(key, time(NULL), bits, c, sizeof(c)) < 0)) {
        if (!r->status)
            api_reply_error(r, 500, "internal", NULL, "cannot make a challenge");
        return;
    }
    api_reply_json(r, 200, json_pack("{s:s, s:i}", "challenge", c, "bits", (int)bits));
}

/* What a signup posted. */
struct posted {
    char *email, *name, *website, *challenge, *nonce, *form;
    char *refs[FORM_LISTS_MAX], *offered[FORM_LISTS_MAX];
    size_t nrefs, noffered;
    const char *bad;      /* the field the error is about */
    bool json;
};

static void posted_free(struct posted *p)
{
    xfree(p->email);
    xfree(p->name);
    xfree(p->website);
    xfree(p->challenge);
    xfree(p->nonce);
    xfree(p->form);
    for (size_t i = 0; i < p->nrefs; i++)
        xfree(p->refs[i]);
    for (size_t i = 0; i < p->noffered; i++)
        xfree(p->offered[i]);
}

/* set - *DST = a copy of VALUE (the last one given wins) */
static void set(char **dst, const char *value)
{
    xfree(*dst);
    *dst = xstrdup(value);
}

/* field - one pair of a posted form (a form_field_cb); fields it does not know are left alone */
static int field(const char *name, const char *value, void *arg, const char **why)
{
    struct posted *p = arg;
    if (strcmp(name, "email") == 0) {
        set(&p->email, value);
    } else if (strcmp(name, "name") == 0) {
        set(&p->name, value);
    } else if (strcmp(name, "website") == 0) {
        set(&p->website, value);
    } else if (strcmp(name, "pow_challenge") == 0) {
        set(&p->challenge, value);
    } else if (strcmp(name, "pow_nonce") == 0) {
        set(&p->nonce, value);
    } else if (strcmp(name, "form") == 0) {
        set(&p->form, value);
    } else if (strcmp(name, "list") == 0 && *value) {
        if (p->nrefs == FORM_LISTS_MAX) {
            p->bad = "list";
            *why = "a form signs up to 20 lists at most";
            return -1;
        }
        p->refs[p->nrefs++] = xstrdup(value);
    } else if (strcmp(name, "offered") == 0 && *value && p->noffered < FORM_LISTS_MAX) {
        p->offered[p->noffered++] = xstrdup(value);
    }
    return 0;
}

static const struct api_field json_fields[] = {
    { "email", API_FIELD_STRING, true, 320, 0, 0 },
    { "name", API_FIELD_STRING, false, 200, 0, 0 },
    { "lists", API_FIELD_REFS, true, FORM_LISTS_MAX, 0, 0 },
    { "website", API_FIELD_STRING, false, 1000, 0, 0 },
    { "pow_challenge", API_FIELD_STRING, false, POW_CHALLENGE_MAX, 0, 0 },
    { "pow_nonce", API_FIELD_STRING, false, POW_NONCE_MAX, 0, 0 },
    { "form", API_FIELD_STRING, false, 20, 0, 0 },
    { 0 },
};

/* parse - R's body into P; 0, or -1 with the answer set */
static int parse(struct api_req *r, struct posted *p)
{
    const char *why = NULL;
    const char *type = r->content_type ? r->content_type : "";
    if (strncasecmp(type, "application/json", 16) == 0) {
        json_t *j;
        char **refs;
        size_t n;
        p->json = true;
        if (api_body(r, json_fields, &j) < 0)
            return -1;
        p->email = xstrdup(api_json_str(j, "email", ""));
        p->name = xstrdup(api_json_str(j, "name", ""));
        p->website = xstrdup(api_json_str(j, "website", ""));
        p->challenge = xstrdup(api_json_str(j, "pow_challenge", ""));
        p->nonce = xstrdup(api_json_str(j, "pow_nonce", ""));
        p->form = xstrdup(api_json_str(j, "form", "api"));
        api_json_refs(j, "lists", &refs, &n);
        for (size_t i = 0; i < n && i < FORM_LISTS_MAX; i++)
            p->refs[p->nrefs++] = xstrdup(refs[i]);
        api_json_refs_free(refs, n);
        json_decref(j);
        return 0;
    }
    if (strncasecmp(type, "application/x-www-form-urlencoded", 33) != 0 || (type[33] && type[33] != ';' &&
                                                                              type[33] != ' ')) {
        api_reply_error(r, 415, "unsupported_media_type", NULL,
                        "the request body must be application/x-www-form-urlencoded or application/json");
        return -1;
    }
    if (form_parse(r->body ? r->body : "", r->body_len, field, p, &why) < 0) {
        api_reply_error(r, 400, "invalid_field", p->bad, "%s", why);
        return -1;
    }
    return 0;
}

/* refuse - answer a post P with STATUS: the page again with ERROR for a form, the error envelope for JSON */
static void refuse(struct api_req *r, struct posted *p, json_t *lists, int status, const char *code,
                   const char *field, const char *error)
{
    if (p->json || !lists)
        api_reply_error(r, status, code, field, "%s", error);
    else
        reply_page(r, status, lists, "form", error, false);
}

/* done - the answer to a post P that was taken (or looked as if it was): the same whatever the address */
static void done(struct api_req *r, struct posted *p, json_t *lists)
{
    bool pending = false;
    size_t i;
    json_t *l;
    json_array_foreach(lists, i, l) pending |= strcmp(json_string_value(json_object_get(l, "optin")), "double") == 0;
    const char *msg = pending ? "Almost done: we sent a message to confirm the subscription."
                              : "Thank you for subscribing.";
    if (p->json)
        api_reply_json(r, 200, json_pack("{s:s, s:s}", "status", pending ? "confirm" : "subscribed", "message",
                                         msg));
    else
        reply_page(r, 200, lists, "done", NULL, pending);
}

/* form_hash - the hex SHA-256 of the text of the form P was posted from (FORM kind) for LISTS into OUT */
static int form_hash(struct api_req *r, struct posted *p, json_t *lists, char out[65])
{
    struct buf text = BUF_INIT;
    if (strcmp(p->form, "hosted") == 0) {
        json_t *a = page_attribs(lists, "form");
        json_object_set_new(a, "error", json_string(""));
        json_object_set_new(a, "pending", json_string(""));
        int rc = render(r, a, &text);
        json_decref(a);
        if (rc < 0) {
            buf_free(&text);
            return -1;
        }
    } else if (strcmp(p->form, "snippet") == 0) {
        signup_snippet(lists, mail_settings.public_url, mail_settings.forms_pow_bits, &text);
    } else {
        buf_appendf(&text, "%s", p->form);   /* an application's own form: its name is all there is */
    }
    hex_sha256(text.data ? text.data : "", text.len, out);
    buf_free(&text);
    return 0;
}

/* limited - count a post against KEY's hourly LIMIT: 0 go on, 1 over (429 set), -1 failed (answer set) */
static int limited(struct api_req *r, struct posted *p, json_t *lists, const char *what, const char *value,
                   unsigned limit)
{
    struct store_err e;
    char hash[65], key[80];
    bool over;
    if (!limit)
        return 0;
    if (strcmp(what, "addr") == 0)
        store_form_addr_hash(value, hash);   /* an address in any case is one address, as subscribers are */
    else
        hex_sha256(value, strlen(value), hash);
    snprintf(key, sizeof(key), "%s:%s", what, hash);
    if (store_form_hit(r->conn, key, limit, HOUR, &over, &e) < 0) {
        api_reply_store(r, &e);
        return -1;
    }
    if (!over)
        return 0;
    __atomic_add_fetch(&n_limited, 1, __ATOMIC_RELAXED);
    r->retry_after = HOUR;
    refuse(r, p, lists, 429, "rate_limited", NULL, "Too many sign-ups from here or for this address: try again later.");
    return 1;
}

/* proof - check and spend P's proof of work when one is asked: 0, or -1 with the answer set */
static int proof(struct api_req *r, struct posted *p, json_t *lists)
{
    unsigned char key[TOKEN_KEY_LEN];
    struct store_err e;
    const char *why;
    bool fresh;
    unsigned bits = mail_settings.forms_pow_bits;
    if (!bits)
        return 0;
    if (api_token_key(r, key) < 0)
        return -1;
    if (pow_check(key, p->challenge, p->nonce, time(NULL), mail_settings.forms_pow_max_age, bits, &why) < 0) {
        refuse(r, p, lists, 400, "invalid_field", "pow_nonce", why);
        return -1;
    }
    if (store_form_pow_spend(r->conn, p->challenge, mail_settings.forms_pow_max_age + 120, &fresh, &e) < 0) {
        api_reply_store(r, &e);
        return -1;
    }
    if (!fresh) {
        refuse(r, p, lists, 400, "invalid_field", "pow_challenge",
               "the form's challenge was used already: reload the page and send it again");
        return -1;
    }
    return 0;
}

/* signup - the checked post P to LISTS, made */
static void signup(struct api_req *r, struct posted *p, const char *email, json_t *lists)
{
    struct store_err e;
    struct form_outcome o;
    uint64_t ids[FORM_LISTS_MAX];
    char hash[65];
    size_t n = 0, i;
    json_t *l;
    json_array_foreach(lists, i, l) ids[n++] = (uint64_t)json_integer_value(json_object_get(l, "id"));
    if (form_hash(r, p, lists, hash) < 0 || api_consent_form(r, "form", hash) < 0)
        return;
    struct form_signup s = {
        .email = email,
        .name = p->name,
        .lists = ids,
        .nlists = n,
        .confirm_interval = mail_settings.forms_confirm_interval,
    };
    if (store_form_signup(r->conn, &s, &o, &e) < 0)
        return api_reply_store(r, &e);
    __atomic_add_fetch(&n_signups, 1, __ATOMIC_RELAXED);
    log_info("api: signup form: %zu list%s, %s subscriber, %d joined, %d waiting for confirmation, %d message%s%s%s",
             n, n == 1 ? "" : "s", o.refused ? "a suppressed" : o.created ? "a new" : "a known", o.joined, o.pending,
             o.mailed, o.mailed == 1 ? "" : "s", o.held ? " (held: [forms] confirm_interval)" : "",
             o.refused ? ", nothing done" : "");
    done(r, p, lists);
}

/* api_signup_preflight - OPTIONS /s: another site's script may post JSON here (no credentials are taken) */
void api_signup_preflight(struct api_req *r)
{
    r->cors_any = true;
    r->cors_preflight = true;
    api_reply_empty(r, 204);
}

/* api_signup_post - POST /s */
void api_signup_post(struct api_req *r)
{
    struct posted p = { 0 };
    struct store_err e;
    json_t *lists = NULL;
    char email[ADDRESS_MAX + 1];
    const char *why;
    r->cors_any = true;
    if (parse(r, &p) < 0 || !api_db(r))
        goto out;
    if (!p.form)
        p.form = xstrdup("snippet");
    if (!p.name)
        p.name = xstrdup("");
    if (!p.challenge)
        p.challenge = xstrdup("");
    if (!p.nonce)
        p.nonce = xstrdup("");
    if (p.nrefs == 0) {
        /* a form of several lists with none ticked: the same form again, saying so */
        if (p.noffered && store_form_lists(r->conn, (const char *const *)p.offered, p.noffered, &lists, &e) < 0)
            lists = NULL;
        refuse(r, &p, lists, 400, "invalid_field", p.json ? "lists" : "list", "Choose at least one list.");
        goto out;
    }
    int rc = store_form_lists(r->conn, (const char *const *)p.refs, p.nrefs, &lists, &e);
    if (rc < 0) {
        if (rc == STORE_ERR_NOTFOUND)
            api_reply_error(r, 400, "invalid_field", p.json ? "lists" : "list", "%s", e.msg);
        else
            api_reply_store(r, &e);
        goto out;
    }
    if (p.website && *p.website) {
        /* a bot filled the field no person sees: it is told what a person would be */
        __atomic_add_fetch(&n_honeypot, 1, __ATOMIC_RELAXED);
        log_info("api: signup form: the hidden field was filled: nothing done");
        done(r, &p, lists);
        goto out;
    }
    if (!p.email || address_normalize(p.email, email, sizeof(email), &why) < 0) {
        char msg[300];
        snprintf(msg, sizeof(msg), "The email address is not valid: %s.", p.email && *p.email ? why : "it is empty");
        refuse(r, &p, lists, 400, "invalid_field", "email", msg);
        goto out;
    }
    if (limited(r, &p, lists, "ip", api_peer_text(r), mail_settings.forms_ip_limit) != 0 || proof(r, &p, lists) < 0 ||
        limited(r, &p, lists, "addr", email, mail_settings.forms_address_limit) != 0)
        goto out;
    signup(r, &p, email, lists);
out:
    posted_free(&p);
    json_decref(lists);
}

/* api_lists_form - GET /api/v1/lists/{list}/form */
void api_lists_form(struct api_req *r)
{
    struct store_err e;
    json_t *lists = NULL;
    const char *ref = api_param(r, 0);
    if (!api_db(r))
        return;
    if (store_form_lists(r->conn, &ref, 1, &lists, &e) < 0)
        return api_reply_store(r, &e);
    struct buf html = BUF_INIT, url = BUF_INIT;
    signup_snippet(lists, mail_settings.public_url, mail_settings.forms_pow_bits, &html);
    signup_url(lists, mail_settings.public_url, &url);
    api_reply_json(r, 200, json_pack("{s:s, s:s}", "html", buf_cstr(&html), "url", buf_cstr(&url)));
    buf_free(&html);
    buf_free(&url);
    json_decref(lists);
}

/* api_forms_metrics - append the signup counters to OUT (Prometheus text). */
void api_forms_metrics(struct buf *out)
{
    buf_appendf(out,
                "# HELP postino_signups_total Signup form posts taken.\n# TYPE postino_signups_total counter\n"
                "postino_signups_total %lu\n"
                "# HELP postino_signup_honeypot_total Signup posts that filled the hidden field (ignored).\n"
                "# TYPE postino_signup_honeypot_total counter\npostino_signup_honeypot_total %lu\n"
                "# HELP postino_signup_limited_total Signup posts refused by [forms] ip_limit or address_limit.\n"
                "# TYPE postino_signup_limited_total counter\npostino_signup_limited_total %lu\n",
                __atomic_load_n(&n_signups, __ATOMIC_RELAXED), __atomic_load_n(&n_honeypot, __ATOMIC_RELAXED),
                __atomic_load_n(&n_limited, __ATOMIC_RELAXED));
}
