/*
 * form - application/x-www-form-urlencoded bodies, as an HTML form posts them.
 *
 * form_parse  call back once per name=value pair, both decoded ('+' is a
 *             space, %XX a byte) and NUL-terminated
 *
 * A body is refused (-1, with a reason) when a %-escape is not two hex digits,
 * a decoded name or value holds a NUL byte or is not UTF-8, it has more than
 * FORM_FIELDS_MAX pairs, or the callback refuses a pair (its own reason).
 */
#ifndef POSTINO_UTIL_FORM_H
#define POSTINO_UTIL_FORM_H

#include <stddef.h>

#define FORM_FIELDS_MAX 500

/* a pair: 0 to go on, -1 to stop (then *WHY says why) */
typedef int (*form_field_cb)(const char *name, const char *value, void *arg, const char **why);

/* form_parse - decode LEN bytes of BODY pair by pair; 0, or -1 with *WHY a static reason. */
int form_parse(const char *body, size_t len, form_field_cb cb, void *arg, const char **why);

#endif
