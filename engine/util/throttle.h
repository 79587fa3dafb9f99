/*
 * throttle - failures counted per key (an account, an address), a key that
 * failed too often refused for a while: the wait doubles with each further
 * failure, up to a ceiling. Nothing here sleeps: a refusal says how long to
 * wait and returns at once.
 *
 * throttle_new       an empty table with these limits; the caller's to free
 * throttle_begin     may every one of KEYS try now: 0, and each has one attempt
 *                    under way until it is settled by one of the three below;
 *                    else the milliseconds to wait (nothing is counted)
 * throttle_fail      KEY's attempt failed: one failure more, and a wait once at the limit
 * throttle_pass      KEY's attempt did not fail (it succeeded for another key,
 *                    or could not be decided): nothing changes
 * throttle_reset     KEY's attempt succeeded: its failures are forgotten
 * throttle_failures  the failures counted for KEY now (for tests and logs)
 * throttle_free      release it (NULL is fine)
 *
 * A key has at most as many attempts under way as it has failures left
 * before its limit (one once past it), so attempts made in parallel cannot
 * slip past the limit together; one more is refused for a second. The clock
 * is the caller's (milliseconds, monotonic), so tests can move it. At most
 * max_keys keys are kept: a key untried for forget_ms (its wait over) is
 * dropped, and when the table is full the key tried longest ago makes room.
 * Safe to call from any number of threads.
 */
#ifndef POSTINO_UTIL_THROTTLE_H
#define POSTINO_UTIL_THROTTLE_H

#include <stddef.h>
#include <stdint.h>

#define THROTTLE_KEY_MAX 96          /* longer keys are cut there */
#define THROTTLE_BUSY_MS 1000        /* the wait when too many attempts of a key are under way */

struct throttle_limits {
    unsigned failures;       /* failures allowed before the first wait (at least 1) */
    uint64_t delay_ms;       /* the first wait; each further failure doubles it */
    uint64_t delay_max_ms;   /* the longest wait */
    uint64_t forget_ms;      /* a key with no failure this long is forgotten */
    size_t max_keys;         /* keys kept at most (at least 1) */
};

struct throttle;

struct throttle *throttle_new(const struct throttle_limits *limits);
uint64_t throttle_begin(struct throttle *t, const char *const *keys, size_t nkeys, uint64_t now_ms);
void throttle_fail(struct throttle *t, const char *key, uint64_t now_ms);
void throttle_pass(struct throttle *t, const char *key);
void throttle_reset(struct throttle *t, const char *key);
unsigned throttle_failures(struct throttle *t, const char *key, uint64_t now_ms);
void throttle_free(struct throttle *t);

#endif
