/*
 * media - queries for images (see media.h).
 */
#include <stdio.h>
#include <string.h>

#include <openssl/sha.h>

#include "engine/store/media.h"
#include "engine/store/pg.h"

#define MEDIA_ID_MATCH(n) "m.id = CASE WHEN $" #n " ~ '^[0-9]{1,18}$' THEN $" #n "::bigint END"
#define MEDIA_JSON                                                                                      \
    "json_build_object('id', m.id, 'sha256', m.sha256, 'type', m.type, 'size', m.size,"                 \
    " 'width', m.width, 'height', m.height, 'name', m.name, 'file', m.sha256 || '.' ||"                 \
    " CASE m.type WHEN 'image/png' THEN 'png' WHEN 'image/jpeg' THEN 'jpg' WHEN 'image/gif' THEN 'gif'" \
    " ELSE 'webp' END, 'created_at', m.created_at,"                                                      \
    " 'created_by', (SELECT u.email FROM users u WHERE u.id = m.created_by))"

/*
 * store_media_add - keep image M. *OUT is its JSON (the caller's); *CREATED
 * says whether it is new or the same bytes were there already.
 */
int store_media_add(PGconn *conn, const struct media_new *m, json_t **out, bool *created, struct store_err *e)
{
    char size[32], w[16], h[16], user[32];
    snprintf(size, sizeof(size), "%zu", m->len);
    snprintf(w, sizeof(w), "%u", m->width);
    snprintf(h, sizeof(h), "%u", m->height);
    snprintf(user, sizeof(user), "%lld", m->user_id);
    const char *params[] = { m->sha256, m->type, m->data, size, w, h, m->name ? m->name : "",
                             m->user_id > 0 ? user : NULL };
    int lengths[] = { 0, 0, (int)m->len, 0, 0, 0, 0, 0 };
    int formats[] = { 0, 0, 1, 0, 0, 0, 0, 0 };
    /* a concurrent upload of the same bytes may commit between the insert and the look-up: look again */
    for (int attempt = 0; attempt < 2; attempt++) {
        PGresult *res = PQexecParams(conn,
                                     "WITH ins AS (INSERT INTO media (sha256, type, bytes, size, width, height, name,"
                                     " created_by) VALUES ($1, $2, $3::bytea, $4::integer, $5::integer, $6::integer,"
                                     " $7, $8::bigint) ON CONFLICT (sha256) DO NOTHING RETURNING *)"
                                     " SELECT " MEDIA_JSON ", true FROM ins m"
                                     " UNION ALL SELECT " MEDIA_JSON ", false FROM media m WHERE m.sha256 = $1"
                                     " AND NOT EXISTS (SELECT 1 FROM ins)",
                                     8, NULL, params, lengths, formats, 0);
        if (!pg_ok(res)) {
            int rc = store_fail_db(e, conn, res, "cannot store the image");
            PQclear(res);
            return rc;
        }
        if (PQntuples(res) == 1) {
            *out = store_json(res, 0, 0);
            *created = strcmp(PQgetvalue(res, 0, 1), "t") == 0;
            PQclear(res);
            return STORE_OK;
        }
        PQclear(res);
    }
    return store_fail(e, STORE_ERR_DB, "cannot store the image: try again");
}

/* store_media_ls - at most LIMIT images with an id below BEFORE (0: from the newest), newest first. */
int store_media_ls(PGconn *conn, long long before, long limit, json_t **out, struct store_err *e)
{
    char b[32], l[32];
    snprintf(b, sizeof(b), "%lld", before);
    snprintf(l, sizeof(l), "%ld", limit);
    const char *params[] = { b, l };
    PGresult *res = pg_exec(conn,
                            "SELECT coalesce(json_agg(" MEDIA_JSON " ORDER BY m.id DESC), '[]') FROM"
                            " (SELECT id, sha256, type, size, width, height, name, created_at, created_by FROM media"
                            " WHERE $1::bigint = 0 OR id < $1::bigint ORDER BY id DESC"
                            " LIMIT $2::integer) m",
                            2, params);
    int rc = STORE_OK;
    if (pg_ok(res))
        *out = store_json(res, 0, 0);
    else
        rc = store_fail_db(e, conn, res, "cannot list images");
    PQclear(res);
    return rc;
}

/* store_media_get - image ID's JSON. */
int store_media_get(PGconn *conn, const char *id, json_t **out, struct store_err *e)
{
    PGresult *res = pg_exec(conn, "SELECT " MEDIA_JSON " FROM media m WHERE " MEDIA_ID_MATCH(1), 1, &id);
    return store_json_row(conn, res, out, e, "cannot read the image", "no image %s", id);
}

/* store_media_bytes - the type (into TYPE) and bytes (appended to OUT) of the image whose SHA-256 is SHA256. */
int store_media_bytes(PGconn *conn, const char *sha256, char type[32], struct buf *out, struct store_err *e)
{
    PGresult *res = PQexecParams(conn, "SELECT type, bytes FROM media WHERE sha256 = $1", 1, NULL, &sha256, NULL,
                                 NULL, 1);
    int rc = STORE_OK;
    if (!pg_ok(res))
        rc = store_fail_db(e, conn, res, "cannot read the image");
    else if (PQntuples(res) == 0)
        rc = store_fail(e, STORE_ERR_NOTFOUND, "no such image");
    else {
        snprintf(type, 32, "%.*s", PQgetlength(res, 0, 0), PQgetvalue(res, 0, 0));
        buf_append(out, PQgetvalue(res, 0, 1), (size_t)PQgetlength(res, 0, 1));
    }
    PQclear(res);
    return rc;
}

/* store_media_rm - remove image ID. */
int store_media_rm(PGconn *conn, const char *id, struct store_err *e)
{
    PGresult *res = pg_exec(conn, "DELETE FROM media m WHERE " MEDIA_ID_MATCH(1), 1, &id);
    return store_deleted(conn, res, e, "image", id, "image %s is in use", "cannot remove the image");
}

/* store_media_sha256 - the hex SHA-256 of the LEN bytes at DATA into HEX. */
void store_media_sha256(const void *data, size_t len, char hex[65])
{
    unsigned char md[SHA256_DIGEST_LENGTH];
    SHA256(data, len, md);
    for (size_t i = 0; i < sizeof(md); i++)
        snprintf(hex + 2 * i, 3, "%02x", md[i]);
}

/* store_media_url - set J's "url" to PUBLIC_URL (a trailing slash dropped) /m/ J's "file". */
void store_media_url(json_t *j, const char *public_url)
{
    const char *base = public_url ? public_url : "";
    size_t n = strlen(base);
    const char *file = json_string_value(json_object_get(j, "file"));
    if (n && base[n - 1] == '/')
        n--;
    json_object_set_new(j, "url", json_sprintf("%.*s/m/%s", (int)n, base, file ? file : ""));
}
