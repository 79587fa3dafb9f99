/*
 * pow - the signup form's proof of work: a challenge the server signs, and a
 * nonce the browser finds so that SHA-256(challenge ":" nonce) starts with
 * BITS zero bits.
 *
 * pow_make   a challenge "TIME.BITS.RANDOM.MAC" (TIME in seconds, RANDOM 16 hex
 *            digits, MAC the first 32 hex digits of HMAC-SHA256(KEY, the rest))
 * pow_check  is NONCE a solution of CHALLENGE, made with KEY no more than
 *            MAX_AGE seconds before NOW and asking at least MIN_BITS?
 *
 * A challenge names its own difficulty, so changing [forms] pow_bits does
 * not break the pages already open; one asking fewer bits than MIN_BITS is
 * refused. Spending a challenge once is the caller's work (form_pow_spent).
 */
#ifndef POSTINO_MAIL_POW_H
#define POSTINO_MAIL_POW_H

#include <stddef.h>
#include <time.h>

#include "engine/mail/token.h"

#define POW_CHALLENGE_MAX 80
#define POW_NONCE_MAX 32
#define POW_BITS_MAX 32

/* pow_make - a challenge of BITS (1..POW_BITS_MAX) at NOW into OUT (POW_CHALLENGE_MAX + 1 bytes); 0 or -1. */
int pow_make(const unsigned char key[TOKEN_KEY_LEN], time_t now, unsigned bits, char *out, size_t outlen);

/* pow_check - 0 when NONCE solves CHALLENGE as above, -1 with *WHY a static reason otherwise. */
int pow_check(const unsigned char key[TOKEN_KEY_LEN], const char *challenge, const char *nonce, time_t now,
              unsigned max_age, unsigned min_bits, const char **why);

#endif
