/*
 * bounce_once - mailbox messages recorded once, by their key (see bounce_once.h).
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "engine/store/bounce_once.h"
#include "engine/store/pg.h"
#include "engine/util/buf.h"

static const char seen_sql[] =
    "SELECT 'bounce', id FROM bounces WHERE raw_key = $1"
    " UNION ALL SELECT 'unmatched', id FROM bounces_unmatched WHERE raw_key = $1 LIMIT 1";

/* store_bounce_raw_key - see bounce_once.h. */
void store_bounce_raw_key(const char *data, size_t len, uint64_t size, char key[BOUNCE_RAW_KEY_MAX])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    EVP_Digest(data, len, md, &n, EVP_sha256(), NULL);
    for (unsigned i = 0; i < n && i < 32; i++)
        snprintf(key + 2 * i, 3, "%02x", md[i]);
    if (size > len)
        snprintf(key + 64, BOUNCE_RAW_KEY_MAX - 64, ":%" PRIu64, size);
}

/* the row KEY names already: 1 (*OUT says which), 0 none, or a store error */
static int key_seen(PGconn *conn, const char *key, json_t **out, struct store_err *e)
{
    PGresult *res = pg_exec(conn, seen_sql, 1, &key);
    int rc = 0;
    if (!pg_ok(res)) {
        rc = store_fail_db(e, conn, res, "cannot look for the message's key");
    } else if (PQntuples(res) == 1) {
        bool bounce = strcmp(PQgetvalue(res, 0, 0), "bounce") == 0;
        *out = json_pack("{s:b,s:b,s:I}", "repeat", 1, "matched", bounce, bounce ? "bounce_id" : "unmatched_id",
                         (json_int_t)strtoll(PQgetvalue(res, 0, 1), NULL, 10));
        rc = 1;
    }
    PQclear(res);
    return rc;
}

static int too_large(PGconn *conn, const char *data, size_t len, uint64_t size, size_t max_size,
                     const struct bounce_intake *in, const char *key, json_t **out, struct store_err *e)
{
    size_t keep = in->keep_bytes ? in->keep_bytes : BOUNCE_KEEP_DEFAULT;
    char reason[128];
    struct buf head = BUF_INIT;
    snprintf(reason, sizeof(reason), "too large: %" PRIu64 " bytes (at most %zu are read)", size, max_size);
    bounce_text_clean(&head, data, len < keep ? len : keep);
    const char *params[] = { reason, head.data ? head.data : "", key };
    PGresult *res = pg_exec(conn,
                            "INSERT INTO bounces_unmatched (reason, original, original_truncated, raw_key)"
                            " VALUES ($1, $2, true, $3) RETURNING id",
                            3, params);
    buf_free(&head);
    int rc = STORE_OK;
    if (!pg_ok(res))
        rc = store_fail_db(e, conn, res, "cannot record the message");
    else
        *out = json_pack("{s:b,s:b,s:I,s:s}", "repeat", 0, "matched", 0, "unmatched_id",
                         (json_int_t)strtoll(PQgetvalue(res, 0, 0), NULL, 10), "reason", reason);
    PQclear(res);
    return rc;
}

/*
 * put KEY on the row OUT names. A row this transaction did not write was
 * there before (the same report recorded through the pipe, or another copy
 * with its Message-ID): OUT then says "repeat", as nothing new was recorded,
 * and the row keeps the key it had, if any.
 */
static int key_set(PGconn *conn, json_t *out, const char *key, struct store_err *e)
{
    static const char bounce_sql[] =
        "WITH r AS (SELECT id, xmin::text::bigint = txid_current() % 4294967296 AS fresh FROM bounces"
        "  WHERE id = $1::bigint)"
        " UPDATE bounces b SET raw_key = coalesce(b.raw_key, $2) FROM r WHERE b.id = r.id RETURNING r.fresh";
    static const char unmatched_sql[] =
        "WITH r AS (SELECT id, xmin::text::bigint = txid_current() % 4294967296 AS fresh FROM bounces_unmatched"
        "  WHERE id = $1::bigint)"
        " UPDATE bounces_unmatched b SET raw_key = coalesce(b.raw_key, $2) FROM r WHERE b.id = r.id RETURNING r.fresh";
    bool matched = json_is_true(json_object_get(out, "matched"));
    json_t *idv = matched ? json_object_get(json_object_get(out, "bounce"), "id") : json_object_get(out, "unmatched_id");
    char id[32];
    snprintf(id, sizeof(id), "%lld", (long long)json_integer_value(idv));
    const char *params[] = { id, key };
    PGresult *res = pg_exec(conn, matched ? bounce_sql : unmatched_sql, 2, params);
    int rc = pg_ok(res) ? STORE_OK : store_fail_db(e, conn, res, "cannot record the message's key");
    if (rc == STORE_OK && (PQntuples(res) != 1 || strcmp(PQgetvalue(res, 0, 0), "t") != 0))
        json_object_set_new(out, "repeat", json_true());
    PQclear(res);
    return rc;
}

/* store_bounce_ingest_once - see bounce_once.h. */
int store_bounce_ingest_once(PGconn *conn, const char *data, size_t len, uint64_t size, size_t max_size,
                             const struct bounce_intake *in, json_t **out, struct store_err *e)
{
    char key[BOUNCE_RAW_KEY_MAX];
    *out = NULL;
    store_bounce_raw_key(data, len, size, key);
    if (pg_begin(conn) < 0)
        return store_fail(e, STORE_ERR_DB, "cannot record the message: %s", PQerrorMessage(conn));
    const char *k = key;
    PGresult *res = pg_exec(conn, "SELECT pg_advisory_xact_lock(hashtextextended($1, 29))", 1, &k);
    int rc = pg_ok(res) ? STORE_OK : store_fail_db(e, conn, res, "cannot lock the message's key");
    PQclear(res);
    if (rc == STORE_OK && (rc = key_seen(conn, key, out, e)) == 0) {
        if (size > len)
            rc = too_large(conn, data, len, size, max_size, in, key, out, e);
        else if ((rc = store_bounce_ingest_raw(conn, data, len, in, out, e)) == STORE_OK) {
            json_object_set_new(*out, "repeat", json_false());
            rc = key_set(conn, *out, key, e);
        }
    }
    if (rc < 0) {
        pg_rollback(conn);
        json_decref(*out);
        *out = NULL;
        return rc;
    }
    if (pg_commit(conn) < 0) {
        json_decref(*out);
        *out = NULL;
        return store_fail(e, STORE_ERR_DB, "cannot record the message: %s", PQerrorMessage(conn));
    }
    return STORE_OK;
}
