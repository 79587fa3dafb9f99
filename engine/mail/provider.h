/*
 * provider - what names a mailbox provider, read from what people type and
 * from what Postfix logs. Pure functions: no I/O. Which provider a domain or
 * a receiving host belongs to is data, matched by the store
 * (sql/033_providers.sql, provider_match).
 *
 * provider_name_check        a provider's name: a short lower-case word
 * provider_domain_pattern    a recipient-domain pattern: "gmail.com" or "hotmail.*"
 * provider_mx_pattern        a receiving-host pattern: "*.google.com", "mx*.t-online.de"
 * provider_relay_host        the host name in a relay field "name[addr]:port"
 * provider_target            the domain of "ADDRESS-or-DOMAIN"
 *
 * Each returns 0, or -1 with *WHY a static reason in words that follow
 * "invalid <field> X: ".
 */
#ifndef POSTINO_MAIL_PROVIDER_H
#define POSTINO_MAIL_PROVIDER_H

#include <stddef.h>

#define PROVIDER_NAME_MAX 32
#define PROVIDER_PATTERN_MAX 253   /* a domain name's length */
#define PROVIDER_LABEL_MAX 100
#define PROVIDER_PATTERNS_MAX 200  /* domains or hosts of one provider given at once */

/*
 * provider_name_check - NAME is 1 to PROVIDER_NAME_MAX characters of a-z,
 * 0-9 and '-', starting with a letter or a digit, and not "other" (the
 * name of every delivery of no provider), "match" or "stats" (paths of the API).
 */
int provider_name_check(const char *name, const char **why);

/*
 * provider_domain_pattern - check IN, a recipient-domain pattern, and write
 * it in lower case without a final dot to OUT (OUTLEN bytes, at least
 * PROVIDER_PATTERN_MAX + 1): a domain of two labels or more
 * ("gmail.com"), or one or more labels and ".*" for that name under any
 * suffix ("hotmail.*", "yahoo.co.*"). Labels: a-z, 0-9 and '-', not at
 * either end, 1 to 63 characters.
 */
int provider_domain_pattern(const char *in, char *out, size_t outlen, const char **why);

/*
 * provider_mx_pattern - check IN, a receiving-host pattern, and write it in
 * lower case without a final dot to OUT: labels as a domain's, where '*'
 * stands for any characters (dots too); two labels or more, and the last
 * two without '*' ("*.google.com", "mx*.mail.icloud.com"; not "*.com").
 */
int provider_mx_pattern(const char *in, char *out, size_t outlen, const char **why);

/*
 * provider_relay_host - the host name in RELAY, a receiving host as
 * Postfix logs it after relay= and as delivery_mta keeps it
 * ("gmail-smtp-in.l.google.com[142.250.1.26]:25", "mx.example.org[2001:db8::1]:25",
 * "mx.example.org[192.0.2.1]", or a bare host name), into OUT in lower case
 * without a final dot. -1 for none: "none", "local", a bare address
 * ("[192.0.2.1]:25"), a name that is not a host name, or a bracket not closed.
 */
int provider_relay_host(const char *relay, char *out, size_t outlen, const char **why);

/*
 * provider_target - the domain, normalised (lower case, IDN as "xn--"), of
 * IN: an address ("ann@gmail.com") or a domain ("gmail.com").
 */
int provider_target(const char *in, char *out, size_t outlen, const char **why);

#endif
