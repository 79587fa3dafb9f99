/*
 * h_admin - the web admin: its page and assets (admin/, compiled into the
 * binary), and the login that makes its session cookie.
 *
 * api_admin_index    GET /admin (and /admin/): the page
 * api_admin_asset    GET /admin/{file}: a script, a style sheet, an icon
 * api_admin_preview  GET /admin/preview/{id}: a rendered message's HTML, for the preview frame
 * api_session_create POST /api/v1/session: email and password to a session cookie
 * api_session_get    GET /api/v1/session: who is logged in, the CSRF token
 * api_session_rm     DELETE /api/v1/session: log out
 *
 * The password is checked by login_check (api/login.c, through
 * api_login_check): throttled per account and per address like every other
 * password check. The page is a small application over /api/v1: every action it takes is a
 * call of the API, checked as any other. A session is a random token in an
 * HttpOnly, SameSite=Strict cookie (Secure over HTTPS); what it changes
 * needs the X-CSRF-Token header besides (server.c).
 */
#include <stdio.h>
#include <string.h>

#include <microhttpd.h>
#include <openssl/crypto.h>

#include "api/auth.h"
#include "api/handlers.h"
#include "api/preview_cache.h"
#include "api/request.h"
#include "engine/store/sessions.h"
#include "engine/store/users.h"
#include "engine/util/alloc.h"
#include "engine/util/buf.h"
#include "engine/util/embedded.h"
#include "engine/util/str.h"

/*
 * what the admin's page may load and do: its own scripts, style sheet and
 * images only, the API only; frames from here only (the preview).
 */
#define ADMIN_CSP                                                                                  \
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " \
    "frame-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"

/*
 * what a message's preview may do, as a mail client shows it: its own
 * <style> and style="", images from anywhere; no script, no plugin, no
 * form, no fetch; a sandbox of its own (no same origin, so nothing of it
 * reaches the admin even when its frame's sandbox attribute were lost);
 * framed by the admin only.
 */
#define PREVIEW_CSP \
    "default-src 'none'; style-src 'unsafe-inline'; img-src https: http: data:; sandbox; frame-ancestors 'self'"

static const struct {
    const char *ext, *type;
} asset_types[] = {
    { ".html", "text/html; charset=utf-8" },
    { ".js", "text/javascript; charset=utf-8" },
    { ".css", "text/css; charset=utf-8" },
    { ".svg", "image/svg+xml" },
    { ".png", "image/png" },
    { ".txt", "text/plain; charset=utf-8" },
    { NULL, NULL },
};

/* the content type of NAME by its extension, or NULL when it is none of ours */
static const char *asset_type(const char *name)
{
    for (size_t i = 0; asset_types[i].ext; i++)
        if (str_has_suffix(name, asset_types[i].ext))
            return asset_types[i].type;
    return NULL;
}

/* answer the embedded file admin/NAME, or 404 */
static void reply_asset(struct api_req *r, const char *name)
{
    char path[128];
    const struct embedded_file *f = NULL;
    const char *type = asset_type(name);
    if (type && strlen(name) < 64 && strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789-_.") == strlen(name) &&
        !strstr(name, "..")) {
        snprintf(path, sizeof(path), "admin/%s", name);
        f = embedded_find(path);
    }
    if (!f) {
        api_reply_error(r, 404, "not_found", NULL, "no such resource");
        return;
    }
    struct buf b = BUF_INIT;
    buf_append(&b, f->data, f->len);
    r->csp = ADMIN_CSP;
    r->cache_control = "no-cache";
    api_reply_text(r, 200, type, &b);
}

/* api_admin_index - GET /admin */
void api_admin_index(struct api_req *r)
{
    reply_asset(r, "index.html");
}

/* api_admin_asset - GET /admin/{file} */
void api_admin_asset(struct api_req *r)
{
    reply_asset(r, api_param(r, 0));
}

/*
 * api_admin_preview - GET /admin/preview/{id}: the HTML a preview of this
 * user rendered (api__render) in the last [admin] preview_seconds, with
 * PREVIEW_CSP; 404 for any other id, another user's included.
 */
void api_admin_preview(struct api_req *r)
{
    struct buf b = BUF_INIT;
    if (preview_cache_get(api_previews(r), api_now_ms(), r->user.id, api_param(r, 0), &b) < 0) {
        buf_free(&b);
        api_reply_error(r, 404, "not_found", NULL, "no such preview (it lasts a few minutes): preview again");
        return;
    }
    r->csp = PREVIEW_CSP;
    api_reply_text(r, 200, "text/html; charset=utf-8", &b);
}

/* set R's cookie to TOKEN for HOURS (TOKEN "" and HOURS 0: remove it) */
static void set_session_cookie(struct api_req *r, const char *token, unsigned hours)
{
    struct buf b = BUF_INIT;
    buf_appendf(&b, "%s=%s; Path=/; Max-Age=%u; HttpOnly; SameSite=Strict%s", API_SESSION_COOKIE, token,
                hours * 3600u, api_over_tls(r) ? "; Secure" : "");
    xfree(r->set_cookie);
    r->set_cookie = buf_detach(&b, NULL);
}

/* the session's answer: the user, the CSRF token (of the session TOKEN, or null), its end */
static json_t *session_json(const struct user_auth *u, const char *token, const char *expires_at)
{
    char csrf[AUTH_TOKEN_HASH_LEN + 1];
    json_t *j = json_pack("{s:{s:I,s:s,s:s}}", "user", "id", (json_int_t)u->id, "email", u->email, "role", u->role);
    if (token) {
        auth_session_csrf(token, csrf);
        json_object_set_new(j, "csrf", json_string(csrf));
    } else
        json_object_set_new(j, "csrf", json_null());
    json_object_set_new(j, "expires_at", expires_at ? json_string(expires_at) : json_null());
    return j;
}

/* api_session_create - POST /api/v1/session */
void api_session_create(struct api_req *r)
{
    static const struct api_field fields[] = {
        { "email", API_FIELD_STRING, true, 254, 0, 0 },
        { "password", API_FIELD_STRING, true, AUTH_PASSWORD_MAX, 0, 0 },
        { NULL, 0, false, 0, 0, 0 },
    };
    json_t *in;
    struct user_auth u = { 0 };
    char tok[AUTH_TOKEN_MAX + 1], thash[AUTH_TOKEN_HASH_LEN + 1], expires[64];
    struct store_err e;
    if (api_body(r, fields, &in) < 0)
        return;
    const char *email = api_json_str(in, "email", ""), *pw = api_json_str(in, "password", "");
    if (!*email || !*pw)
        api_reply_error(r, 400, "invalid_field", *email ? "password" : "email", "field \"%s\" is empty",
                        *email ? "password" : "email");
    else if (!strchr(email, '@'))   /* a login names its user by email, never by id */
        api_reply_error(r, 401, "unauthorized", NULL, "the email or the password is wrong");
    else if (api_login_check(r, email, pw, NULL, &u) < 0)
        ;
    else if (auth_session_new(tok, thash) < 0)
        api_reply_error(r, 503, "unavailable", NULL, "cannot make a session now; try again later");
    else {
        unsigned hours = api_settings_of(r)->session_hours;
        if (store_session_add(r->conn, u.id, thash, (int)hours, api_peer_text(r), expires, &e) < 0)
            api_reply_store(r, &e);
        else {
            set_session_cookie(r, tok, hours);
            api_reply_json(r, 201, session_json(&u, tok, expires));
        }
        OPENSSL_cleanse(tok, sizeof(tok));
    }
    json_decref(in);
}

/* api_session_get - GET /api/v1/session */
void api_session_get(struct api_req *r)
{
    const char *tok = api_session_token(r);
    char expires[64];
    struct store_err e;
    if (!tok) {
        api_reply_json(r, 200, session_json(&r->user, NULL, NULL));
        return;
    }
    if (!api_db(r))
        return;
    if (store_session_auth(r->conn, r->session_hash, &r->user, expires, &e) < 0)
        api_reply_store(r, &e);
    else
        api_reply_json(r, 200, session_json(&r->user, tok, expires));
}

/* api_session_rm - DELETE /api/v1/session */
void api_session_rm(struct api_req *r)
{
    struct store_err e;
    if (!r->session_hash[0]) {
        api_reply_error(r, 400, "invalid", NULL, "this request logged in with an API token, not a session");
        return;
    }
    if (!api_db(r))
        return;
    if (store_session_rm(r->conn, r->session_hash, &e) < 0)
        api_reply_store(r, &e);
    else {
        set_session_cookie(r, "", 0);
        api_reply_empty(r, 204);
    }
}
