/*
 * login - a password checked with the throttle around it (see login.h).
 *
 * The order is what makes the throttle worth having: the user is looked up
 * (one cheap statement), the account and the address are asked whether
 * they may try, and only then is yescrypt run. An unknown user is checked
 * against a hash of the same cost, so the answer's time does not tell
 * which addresses have accounts.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>

#include "api/auth.h"
#include "api/login.h"
#include "engine/util/alloc.h"
#include "engine/util/log.h"

static pthread_once_t dummy_once = PTHREAD_ONCE_INIT;
static char dummy_hash[AUTH_HASH_MAX];

/* a hash of the cost real ones have, checked for an unknown user (whatever it says is not believed) */
static void dummy_make(void)
{
    if (auth_password_hash("postino: no such user", dummy_hash) < 0)
        dummy_hash[0] = 0;   /* auth_password_verify then answers at once */
}

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* login_peer_key - PEER's key in OUT: "addr:A.B.C.D", "addr:PREFIX::/64", or "addr:?" when unknown. */
void login_peer_key(const struct sockaddr *peer, char *out, size_t outlen)
{
    char a[INET6_ADDRSTRLEN] = "?";
    const char *suffix = "";
    if (peer && peer->sa_family == AF_INET) {
        inet_ntop(AF_INET, &((const struct sockaddr_in *)peer)->sin_addr, a, sizeof(a));
    } else if (peer && peer->sa_family == AF_INET6) {
        struct in6_addr v6 = ((const struct sockaddr_in6 *)peer)->sin6_addr;
        if (IN6_IS_ADDR_V4MAPPED(&v6)) {
            inet_ntop(AF_INET, &v6.s6_addr[12], a, sizeof(a));
        } else {
            memset(&v6.s6_addr[8], 0, 8);
            inet_ntop(AF_INET6, &v6, a, sizeof(a));
            suffix = "/64";
        }
    }
    snprintf(out, outlen, "addr:%s%s", a, suffix);
}

/*
 * login_check - is PASSWORD that of the user REF names, tried from PEER?
 * LOGIN_OK with *USER filled; LOGIN_WRONG; LOGIN_DISABLED; LOGIN_WAIT with
 * *RETRY_AFTER (seconds) when the account or the address must wait, decided
 * before any hashing; LOGIN_ERROR with E when the database failed (nothing
 * counted then).
 */
enum login_result login_check(struct throttle *throttle, PGconn *conn, const char *ref, const char *password,
                              const struct sockaddr *peer, struct user_auth *user, unsigned *retry_after,
                              struct store_err *e)
{
    char account[LOGIN_KEY_MAX], address[LOGIN_KEY_MAX], *hash = NULL;
    pthread_once(&dummy_once, dummy_make);
    int rc = store_user_login(conn, ref, user, &hash, e);
    if (rc < 0 && rc != STORE_ERR_NOTFOUND)
        return LOGIN_ERROR;
    if (rc == 0)
        snprintf(account, sizeof(account), "user:%lld", user->id);
    else
        snprintf(account, sizeof(account), "user:%s", ref);
    for (char *p = account; *p; p++)
        if (*p >= 'A' && *p <= 'Z')
            *p = (char)(*p - 'A' + 'a');
    login_peer_key(peer, address, sizeof(address));
    const char *keys[] = { account, address };
    uint64_t wait = throttle_begin(throttle, keys, 2, now_ms());
    enum login_result res;
    if (wait) {
        *retry_after = (unsigned)((wait + 999) / 1000);
        res = LOGIN_WAIT;
    } else if (auth_password_verify(password, hash ? hash : dummy_hash) && hash) {
        /* the address keeps its failures: one account of one's own must not wipe them */
        throttle_reset(throttle, account);
        throttle_pass(throttle, address);
        res = user->active ? LOGIN_OK : LOGIN_DISABLED;
    } else {
        uint64_t now = now_ms();
        throttle_fail(throttle, account, now);
        throttle_fail(throttle, address, now);
        log_warn("api: wrong password for %s from %s", rc == 0 ? account : "an unknown user", address + 5);
        res = LOGIN_WRONG;
    }
    if (hash) {
        OPENSSL_cleanse(hash, strlen(hash));
        xfree(hash);
    }
    return res;
}
