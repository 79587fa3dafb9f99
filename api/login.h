/*
 * login - the one place a password is checked against a user's: the API's
 * own-password and new-token routes call it, and so must any other login.
 *
 * login_check     is PASSWORD that of the user REF names (email or id), tried
 *                 from PEER; refused before any hashing while the account or
 *                 the address waits after too many wrong passwords
 * login_peer_key  the throttle's key of an address: "addr:" and the IPv4
 *                 address, or the /64 of an IPv6 one (one site, one key)
 *
 * Wrong passwords are counted in THROTTLE (engine/util/throttle.h) under
 * "user:ID" and under the address; a right one forgets the account's.
 * The table lives in the process: a restart forgets it, and servers
 * sharing a database count apart. Nothing here logs a password.
 */
#ifndef POSTINO_API_LOGIN_H
#define POSTINO_API_LOGIN_H

#include <libpq-fe.h>
#include <stddef.h>
#include <sys/socket.h>

#include "engine/store/store.h"
#include "engine/store/users.h"
#include "engine/util/throttle.h"

#define LOGIN_KEY_MAX 80

enum login_result {
    LOGIN_OK = 0,
    LOGIN_WRONG = -1,       /* no such user, or not its password */
    LOGIN_WAIT = -2,        /* too many wrong passwords: *RETRY_AFTER seconds to wait */
    LOGIN_DISABLED = -3,    /* the right password of a disabled user */
    LOGIN_ERROR = -4,       /* the database failed: E */
};

enum login_result login_check(struct throttle *throttle, PGconn *conn, const char *ref, const char *password,
                              const struct sockaddr *peer, struct user_auth *user, unsigned *retry_after,
                              struct store_err *e);
void login_peer_key(const struct sockaddr *peer, char *out, size_t outlen);

#endif
