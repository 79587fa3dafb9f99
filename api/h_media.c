/*
 * h_media - images for campaigns, and their public address.
 *
 * api_media_create  POST /api/v1/media?name=: the image as the body, with its type
 *                   (image/png, image/jpeg, image/gif, image/webp); checked by
 *                   image_check as `postino media add` checks it; 201 when new, 200
 *                   with the row already there for the same bytes
 * api_media_ls      GET /api/v1/media?before=&limit=: a page, newest first
 * api_media_rm      DELETE /api/v1/media/{id}
 * api_media_serve   GET /m/{sha256}.{ext}: the bytes, public, cached for good
 *
 * An image is named by its content (SHA-256), so its address never changes
 * and may be cached a year as immutable. It is served with its checked type,
 * nosniff, and a sandboxing Content-Security-Policy, so that even a browser
 * opening it alone runs nothing. Each image's JSON carries its public "url"
 * under [http] public_url, for campaigns to use.
 */
#include <stdio.h>
#include <string.h>

#include "api/handlers.h"
#include "engine/mail/mime.h"
#include "engine/send/settings_send.h"
#include "engine/store/media.h"
#include "engine/util/image.h"
#include "engine/util/str.h"

#define MEDIA_LIMIT_DEFAULT 50
#define MEDIA_LIMIT_MAX 200
#define MEDIA_NAME_MAX 200
#define MEDIA_CACHE "public, max-age=31536000, immutable"
#define MEDIA_CSP "default-src 'none'; style-src 'unsafe-inline'; sandbox"

/* api_media_create - POST /api/v1/media */
void api_media_create(struct api_req *r)
{
    static const char *const allowed[] = { "name", NULL };
    const char *name = api_query(r, "name"), *holds;
    struct image_info info;
    struct store_err e;
    char why[256], hex[65];
    json_t *j = NULL;
    bool created;
    if (api_query_only(r, allowed) < 0)
        return;
    if (name && (strlen(name) > MEDIA_NAME_MAX || !str_utf8_valid(name, strlen(name), NULL) ||
                 mime_name_check(name, false, &holds) < 0))
        return api_reply_error(r, 400, "invalid_field", "name",
                               "\"name\" must be at most %d characters of text, with no control character",
                               MEDIA_NAME_MAX);
    if (r->body_len == 0)
        return api_reply_error(r, 400, "invalid_field", "body", "the request body is empty");
    switch (image_check(r->body, r->body_len, r->content_type, api_settings.media_max_bytes, &info, why,
                        sizeof(why))) {
    case IMAGE_OK:
        break;
    case IMAGE_TOO_LARGE:
        return api_reply_error(r, 413, "too_large", "body", "%s", why);
    case IMAGE_UNSUPPORTED:
    case IMAGE_MISMATCH:
        return api_reply_error(r, 415, "unsupported_media_type", "body", "%s", why);
    case IMAGE_DAMAGED:
        return api_reply_error(r, 400, "invalid_image", "body", "%s", why);
    }
    if (!api_db(r))
        return;
    store_media_sha256(r->body, r->body_len, hex);
    struct media_new m = { hex, image_mime(info.type), r->body, r->body_len, info.width, info.height, name,
                           r->user.id };
    if (store_media_add(r->conn, &m, &j, &created, &e) < 0)
        return api_reply_store(r, &e);
    store_media_url(j, mail_settings.public_url);
    api_reply_json(r, created ? 201 : 200, j);
}

/* api_media_ls - GET /api/v1/media */
void api_media_ls(struct api_req *r)
{
    static const char *const allowed[] = { "before", "limit", NULL };
    const char *before_s = api_query(r, "before"), *limit_s = api_query(r, "limit");
    long before = 0, limit = MEDIA_LIMIT_DEFAULT;
    struct store_err e;
    json_t *items = NULL, *x;
    size_t i;
    if (api_query_only(r, allowed) < 0)
        return;
    if (limit_s && str_parse_long(limit_s, 1, MEDIA_LIMIT_MAX, &limit) < 0)
        return api_reply_error(r, 400, "invalid_field", "limit", "\"limit\" must be a number from 1 to %d",
                               MEDIA_LIMIT_MAX);
    if (before_s && str_parse_long(before_s, 1, 0x7fffffffffffffffL, &before) < 0)
        return api_reply_error(r, 400, "invalid_field", "before", "\"before\" must be an image id");
    if (!api_db(r))
        return;
    if (store_media_ls(r->conn, before, limit + 1, &items, &e) < 0)
        return api_reply_store(r, &e);
    /* one more than asked tells whether there is a next page */
    json_t *next = json_null();
    if (json_array_size(items) > (size_t)limit) {
        json_array_remove(items, (size_t)limit);
        next = json_incref(json_object_get(json_array_get(items, (size_t)limit - 1), "id"));
    }
    json_array_foreach(items, i, x) store_media_url(x, mail_settings.public_url);
    api_reply_json(r, 200, json_pack("{s:o, s:o}", "items", items, "next_before", next));
}

/* api_media_rm - DELETE /api/v1/media/{id} */
void api_media_rm(struct api_req *r)
{
    struct store_err e;
    if (api_db(r))
        api_reply_stored(r, store_media_rm(r->conn, api_param(r, 0), &e), NULL, &e, 204);
}

/* api_media_serve - GET /m/{file}: FILE is SHA256.EXT, EXT the stored type's */
void api_media_serve(struct api_req *r)
{
    const char *file = api_param(r, 0), *dot = strchr(file, '.');
    char sha[65], type[32];
    struct store_err e;
    struct buf b = BUF_INIT;
    enum image_type t = image_from_ext(file);
    if (!dot || dot - file != 64 || strspn(file, "0123456789abcdef") != 64 || t == IMAGE_NONE ||
        strcmp(dot + 1, image_ext(t)) != 0)
        return api_reply_error(r, 404, "not_found", NULL, "no such image");
    memcpy(sha, file, 64);
    sha[64] = 0;
    if (!api_db(r))
        return;
    int rc = store_media_bytes(r->conn, sha, type, &b, &e);
    if (rc == STORE_OK && strcmp(type, image_mime(t)) == 0) {
        r->cache_control = MEDIA_CACHE;
        r->csp = MEDIA_CSP;
        return api_reply_text(r, 200, image_mime(t), &b);
    }
    buf_free(&b);
    if (rc < 0 && rc != STORE_ERR_NOTFOUND)
        return api_reply_store(r, &e);
    api_reply_error(r, 404, "not_found", NULL, "no such image");
}
