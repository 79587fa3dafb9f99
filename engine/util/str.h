/*
 * str - string helpers with no mail knowledge.
 *
 * str_trim        strip ASCII whitespace at both ends, in place
 * str_lower       ASCII lower-case in place
 * str_eq_nocase   ASCII case-insensitive equality
 * str_has_prefix  does S start with PREFIX
 * str_has_suffix  does S end with SUFFIX
 * str_utf8_valid  is the byte range well-formed UTF-8 (no overlongs, no surrogates)
 * str_parse_long  parse a whole decimal number within bounds
 * str_u64         write a number in decimal or lower-case hex (no printf)
 */
#ifndef POSTINO_UTIL_STR_H
#define POSTINO_UTIL_STR_H

#include <stdbool.h>
#include <stddef.h>

char *str_trim(char *s);
char *str_lower(char *s);
bool str_eq_nocase(const char *a, const char *b);
bool str_has_prefix(const char *s, const char *prefix);
bool str_has_suffix(const char *s, const char *suffix);
bool str_utf8_valid(const void *data, size_t len, size_t *bad_offset);
int str_parse_long(const char *s, long min, long max, long *out);

/* The room str_u64 needs: 20 decimal digits and the NUL. */
#define STR_U64_MAX 21
size_t str_u64(char *out, unsigned long long v, unsigned base);

#endif
