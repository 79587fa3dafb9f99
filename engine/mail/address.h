/*
 * address - e-mail address syntax and normal form.
 *
 * address_normalize  trim, check and normalise one address (domain lower-cased,
 *                    IDN domains in their ASCII "xn--" form)
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

#endif
