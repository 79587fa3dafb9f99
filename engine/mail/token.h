/*
 * token - short HMAC-signed tokens naming what a link or bounce address is about.
 *
 * token_make   encode KIND and two ids, signed with KEY, as lower-case base32
 * token_parse  check and decode one; -1 when malformed, TOKEN_EFORGED when
 *              well formed but not signed with KEY (altered, or of another key)
 *
 * Used in unsubscribe/confirm/open/click URLs and in VERP bounce addresses:
 * lower-case base32 survives both URLs and case-folding mail systems. The
 * signature is the first TOKEN_MAC_LEN bytes of HMAC-SHA256(KEY, payload),
 * compared in constant time; a forged token cannot name another subscriber.
 */
#ifndef POSTINO_MAIL_TOKEN_H
#define POSTINO_MAIL_TOKEN_H

#include <stddef.h>
#include <stdint.h>

#define TOKEN_KEY_LEN 32
#define TOKEN_MAC_LEN 10
#define TOKEN_MAX 64
#define TOKEN_EFORGED (-2)   /* token_parse: base32 of the right shape, signature wrong */

int token_make(const unsigned char key[TOKEN_KEY_LEN], char kind, uint64_t a, uint64_t b, char *out, size_t outlen);
int token_parse(const unsigned char key[TOKEN_KEY_LEN], const char *token, char *kind, uint64_t *a, uint64_t *b);

#endif
