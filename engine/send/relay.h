/*
 * relay - defining a relay, and using a stored one: pool settings, a probe, one message now.
 *
 * relay_input_check  check a relay as a person gives it (CLI, API, admin) and
 *                    make its definition; the one place these rules live
 * relay_per_parse    the rate and quota notation "N/s", "N/m", "N/h", "N/d", "N/30m"
 * relay_pool_config  the smtp_pool settings for a relay definition
 * relay_probe        connect, EHLO, STARTTLS, AUTH, QUIT; report each step
 * relay_send_one     send one message at once and wait for the answer
 *
 * relay_probe and relay_send_one run a loop of their own and block: they are
 * for the command line (relay test, campaign test), never for the engine.
 */
#ifndef POSTINO_SEND_RELAY_H
#define POSTINO_SEND_RELAY_H

#include <stdbool.h>
#include <stddef.h>

#include "engine/net/smtp_pool.h"
#include "engine/store/relays.h"
#include "engine/util/buf.h"

struct relay_answer {
    bool ok;
    char stage[16];
    int code;
    char enhanced[16];
    char text[512];
    char queue_id[64];
};

/* a relay as given: strings as typed, numbers -1 when not given */
struct relay_input {
    const char *name, *host, *tls, *ca_file, *username, *password;
    const char *rate;  /* "N/s", "N/m", "N/h" or a bare N per second; NULL: unpaced */
    const char *quota; /* "N/PERIOD": 1000/h, 20000/d, 500/30m; NULL: none */
    bool tls_verify;
    bool allow_plain_auth; /* the password may go without TLS: for a relay on this machine only */
    long port, max_conns, max_per_conn;
};

/* why relay_input_check refused: the field (as the API names it) and one sentence */
struct relay_check {
    const char *field;
    char why[200];
};

/*
 * relay_input_check - check IN and fill OUT (whose strings point into IN's):
 * defaults for what was not given (tls starttls, the port of the TLS mode,
 * 4 connections, 100 messages each), the rate per second, the quota and its
 * period. Returns 0, or -1 with ERR naming the first bad field and why, in
 * words that the CLI and the API both show as they are.
 */
int relay_input_check(const struct relay_input *in, struct relay_def *out, struct relay_check *err);

/* relay_per_parse - "N/s", "N/m", "N/h", "N/d", "N/30m" (a bare N per second when BARE_OK) into N (0 < N <= 1e9) and seconds; 0 or -1. */
int relay_per_parse(const char *arg, bool bare_ok, double *n, long *period_s);

void relay_pool_config(const struct relay_def *r, struct smtp_pool_config *pc);
int relay_probe(const struct relay_def *r, struct buf *report, struct relay_answer *ans);
int relay_send_one(const struct relay_def *r, const char *env_from, const char *rcpt, const char *data, size_t len,
                   struct relay_answer *ans);

#endif
