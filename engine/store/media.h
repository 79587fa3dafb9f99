/*
 * media - images for campaigns, kept once by content (sql/018_media.sql).
 *
 * store_media_add    keep an image (checked by image_check first); the same bytes
 *                    again are the row already there (*CREATED false)
 * store_media_ls     a page of images, newest first: those before an id, at most LIMIT
 * store_media_get    one image's description by id
 * store_media_bytes  an image's type and bytes by its SHA-256 (hex), to serve it
 * store_media_rm     remove an image by id
 * store_media_sha256 the hex SHA-256 of an image's bytes (its name)
 * store_media_url    add to an image's JSON its public address, "url": PUBLIC_URL/m/FILE
 *
 * An image's JSON: {id, sha256, type, size, width, height, name, file,
 * created_at, created_by}; file is SHA256.EXT, the name it is served by
 * under /m/. Listings never read the bytes. Failures return a negative
 * store_code with a one-line reason in E (STORE_ERR_NOTFOUND: no such image).
 */
#ifndef POSTINO_STORE_MEDIA_H
#define POSTINO_STORE_MEDIA_H

#include <jansson.h>
#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>

#include "engine/store/store.h"
#include "engine/util/buf.h"

struct media_new {
    const char *sha256;     /* hex, 64 characters */
    const char *type;       /* image/png, image/jpeg, image/gif or image/webp */
    const void *data;
    size_t len;
    unsigned width, height;
    const char *name;       /* as uploaded ("" or NULL: none) */
    long long user_id;      /* 0: none (the CLI) */
};

int store_media_add(PGconn *conn, const struct media_new *m, json_t **out, bool *created, struct store_err *e);
int store_media_ls(PGconn *conn, long long before, long limit, json_t **out, struct store_err *e);
int store_media_get(PGconn *conn, const char *id, json_t **out, struct store_err *e);
int store_media_bytes(PGconn *conn, const char *sha256, char type[32], struct buf *out, struct store_err *e);
int store_media_rm(PGconn *conn, const char *id, struct store_err *e);
void store_media_sha256(const void *data, size_t len, char hex[65]);
void store_media_url(json_t *j, const char *public_url);

#endif
