/*
 * address - e-mail address syntax and normal form.
 *
 * address_normalize  trim, check and normalise one address (domain lower-cased,
 *                    IDN domains in their ASCII "xn--" form)
 * address_domain_normalize  the same for a bare domain
 * address_domain     the domain part of a normalised address
 * address_mailbox_parse  a mailbox "Name <addr>", "\"Name\" <addr>" or "addr":
 *                    the display name and the normalised address
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

/*
 * address_mailbox_parse - split IN ("Name <addr>", "\"Name, Inc.\" <addr>" or a
 * bare address) into the display NAME (NAMELEN bytes, quotes and surrounding
 * blanks removed; "" when none) and the normalised ADDR. Returns 0, or -1 with
 * *WHY a static reason: "expected Name <address>", the address's own reason,
 * "the name is too long", or the name's control character (mime_name_check,
 * line breaks and tabs included): "the name holds a line break", "… a tab",
 * "… a control character". The one rule for a From everywhere: campaigns (CLI
 * and API), transactional messages, [mail] from.
 */
int address_mailbox_parse(const char *in, char *name, size_t namelen, char addr[ADDRESS_MAX + 1], const char **why);

/* address_domain - the domain of the normalised address ADDR (a pointer into it). */
const char *address_domain(const char *addr);

#endif
