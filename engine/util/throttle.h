/*
 * throttle - failures counted per key (an account, an address), a key that
 * failed too often refused for a while: the wait doubles with each further
 * failure, up to a ceiling. Nothing here sleeps: a refusal says how long to
 * wait and returns at once.
 *
 * throttle_new      an empty table with these limits; the caller's to free
 * throttle_begin    may every one of KEYS try now: 0, each counted as a failure
 *                   until the attempt is settled; else the milliseconds to wait
 *                   (and nothing is counted)
 * throttle_reset    KEY's attempt succeeded: its failures are forgotten
 * throttle_forgive  KEY's attempt neither failed nor succeeded: one failure less
 * throttle_failures the failures counted for KEY now (for tests and logs)
 * throttle_free     release it (NULL is fine)
 *
 * An attempt counts as a failure from its start, so attempts made in
 * parallel cannot slip past the limit together. The clock is the caller's
 * (milliseconds, monotonic), so tests can move it. At most max_keys keys are
 * kept: a key whose last failure is forget_ms old (and whose wait is over)
 * is dropped, and when the table is full the key tried longest ago makes
 * room. Safe to call from any number of threads.
 */
#ifndef POSTINO_UTIL_THROTTLE_H
#define POSTINO_UTIL_THROTTLE_H

#include <stddef.h>
#include <stdint.h>

#define THROTTLE_KEY_MAX 96          /* longer keys are cut there */

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
void throttle_reset(struct throttle *t, const char *key);
void throttle_forgive(struct throttle *t, const char *key);
unsigned throttle_failures(struct throttle *t, const char *key, uint64_t now_ms);
void throttle_free(struct throttle *t);

#endif
