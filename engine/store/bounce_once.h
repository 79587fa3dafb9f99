/*
 * bounce_once - a message read from a bounce mailbox, recorded at most once.
 *
 * store_bounce_ingest_once  record one message by its key, or recognise it as recorded
 * store_bounce_raw_key      the key of a message's bytes
 *
 * A mailbox message is removed from the server only after its row is
 * committed; a crash between the two means it is read again. Its key (the
 * SHA-256 of its bytes) is stored with its row under a unique index
 * (sql/029_bounce_mailbox.sql), so the second reading changes nothing and the
 * message can still be removed. Returns 0 or a store error (STORE_ERR_DB: the
 * caller leaves the message on the server and tries later).
 */
#ifndef POSTINO_STORE_BOUNCE_ONCE_H
#define POSTINO_STORE_BOUNCE_ONCE_H

#include <jansson.h>
#include <libpq-fe.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/store/bounces.h"
#include "engine/store/store.h"

#define BOUNCE_RAW_KEY_MAX 96   /* "HEX64" or "HEX64:SIZE", with the NUL */

/* store_bounce_raw_key - KEY for the LEN bytes at DATA; SIZE > LEN when DATA is only a larger message's head. */
void store_bounce_raw_key(const char *data, size_t len, uint64_t size, char key[BOUNCE_RAW_KEY_MAX]);

/*
 * store_bounce_ingest_once - in one transaction: when a row has the message's
 * key already, nothing is recorded and *OUT is {"repeat": true, "matched":
 * bool, "bounce_id" | "unmatched_id": N}; else the message goes through
 * store_bounce_ingest_raw (IN as for the pipe) and the row it made carries the
 * key (*OUT as that function's, with "repeat": false; true when that row was
 * there before: the report came through the pipe, or as another copy with
 * the same Message-ID). A message too large to
 * read whole (SIZE > LEN: DATA is its head) is kept in bounces_unmatched as
 * "too large" with its head. *OUT is the caller's to json_decref().
 */
int store_bounce_ingest_once(PGconn *conn, const char *data, size_t len, uint64_t size, size_t max_size,
                             const struct bounce_intake *in, json_t **out, struct store_err *e);

#endif
