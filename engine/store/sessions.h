/*
 * sessions - the web admin's logins (sql/013_admin_sessions.sql).
 *
 * store_session_add   record a new session's hash for a user, valid HOURS
 * store_session_auth  the user a live session hash belongs to; marks it seen
 * store_session_rm    end a session (logout)
 *
 * Hashes are computed by the caller (api/auth.h); nothing here sees a token.
 * A session ends by itself when its user's password changes or the user is
 * disabled (a trigger in the schema).
 */
#ifndef POSTINO_STORE_SESSIONS_H
#define POSTINO_STORE_SESSIONS_H

#include <libpq-fe.h>

#include "engine/store/store.h"
#include "engine/store/users.h"

int store_session_add(PGconn *conn, long long user_id, const char *session_hash, int hours, const char *address,
                      char expires_at[64], struct store_err *e);
int store_session_auth(PGconn *conn, const char *session_hash, struct user_auth *out, char expires_at[64],
                       struct store_err *e);
int store_session_rm(PGconn *conn, const char *session_hash, struct store_err *e);

#endif
