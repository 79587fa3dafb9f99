/*
 * address - e-mail address syntax and normal form.
 *
 * address_normalize  trim, check and normalise one address (domain lower-cased,
 *                    IDN domains in their ASCII "xn--" form)
 * address_domain_normalize  the same for a bare domain
 * address_domain     the domain part of a normalised address
 *
 * The rules are those a bulk sender can deliver to: an unquoted dot-atom
 * local part of 1-64 octets, exactly one @, a domain of at least two valid
 * labels, at most 254 octets in all.
 */
#ifndef POSTINO_MAIL_ADDRESS_H
#define POSTINO_MAIL_ADDRESS_H

#include <stddef.h>

#define ADDRESS_MAX 254

/*
 * address_normalize - check IN and write its normal form to OUT (at least
 * ADDRESS_MAX + 1 bytes). Returns 0, or -1 with *WHY set to a static reason
 * ("no @", "bad domain", …) suitable for "invalid address X: WHY".
 */
int address_normalize(const char *in, char *out, size_t outlen, const char **why);

/* address_domain_normalize - as address_normalize, for a domain alone. */
int address_domain_normalize(const char *in, char *out, size_t outlen, const char **why);

/* address_domain - the domain of the normalised address ADDR (a pointer into it). */
const char *address_domain(const char *addr);

#endif
