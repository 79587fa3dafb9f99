/*
 * warmup - what names a warm-up and its daily caps, read from what people
 * type. Pure functions: no I/O. The schedules themselves are data
 * (sql/036_provider_pacing.sql), applied by the claim.
 *
 * warmup_days_parse   a curve "50,100,500,...": the daily caps, day 1 first
 * warmup_target_check a warm-up's target: a sending domain, or "relay:NAME"
 *
 * Each returns 0, or -1 with *WHY a static reason in words that follow
 * "invalid <field> X: ".
 */
#ifndef POSTINO_MAIL_WARMUP_H
#define POSTINO_MAIL_WARMUP_H

#include <stddef.h>

#define WARMUP_DAYS_MAX 366           /* days in one schedule */
#define WARMUP_CAP_MAX 100000000      /* the largest daily cap */
#define WARMUP_TARGET_MAX 253

/*
 * warmup_days_parse - read TEXT, caps separated by commas (blanks around
 * them allowed), each an integer from 1 to WARMUP_CAP_MAX, at most
 * WARMUP_DAYS_MAX of them, none smaller than the one before, into
 * DAYS[0..*N) (DAYS holds WARMUP_DAYS_MAX).
 */
int warmup_days_parse(const char *text, int *days, size_t *n, const char **why);

/*
 * warmup_target_check - IN is a sending domain (a domain of two labels or
 * more: a-z, 0-9, '-' and dots, any case) or "relay:NAME" (NAME of A-Z,
 * a-z, 0-9, '.', '_', '-', 1 to 64 of them); written to OUT (OUTLEN bytes,
 * at least WARMUP_TARGET_MAX + 1), a domain in lower case without a final dot.
 */
int warmup_target_check(const char *in, char *out, size_t outlen, const char **why);

#endif
