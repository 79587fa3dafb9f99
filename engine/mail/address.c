/*
 * address - e-mail address checking and normalisation.
 *
 * The local part keeps its case (it is the receiving site's to interpret);
 * the domain is lower-cased and IDNA2008-converted with libidn2.
 * Failure returns -1 and a static, human-readable reason.
 */
#include <idn2.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/mail/address.h"
#include "engine/mail/mime.h"
#include "engine/util/alloc.h"
#include "engine/util/str.h"

static bool is_atext(unsigned char c)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
        return true;
    return c && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL;
}

static const char *check_local(const char *s, size_t n)
{
    if (n == 0)
        return "empty local part";
    if (n > 64)
        return "local part longer than 64 octets";
    if (s[0] == '.' || s[n - 1] == '.')
        return "local part starts or ends with a dot";
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == ' ' || c == '\t')
            return "contains spaces";
        if (c == '.') {
            if (s[i + 1] == '.')
                return "two dots in a row";
        } else if (!is_atext(c)) {
            return "invalid character in local part";
        }
    }
    return NULL;
}

static const char *check_domain(const char *d)
{
    size_t n = strlen(d);
    int labels = 0;
    if (n == 0)
        return "empty domain";
    if (n > 253)
        return "domain longer than 253 octets";
    const char *label = d;
    for (;;) {
        const char *dot = strchr(label, '.');
        size_t len = dot ? (size_t)(dot - label) : strlen(label);
        if (len == 0 || len > 63)
            return "bad domain";
        if (label[0] == '-' || label[len - 1] == '-')
            return "bad domain";
        for (size_t i = 0; i < len; i++) {
            char c = label[i];
            if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'))
                return "bad domain";
        }
        labels++;
        if (!dot) {
            bool digits = true;
            for (size_t i = 0; i < len; i++)
                if (label[i] < '0' || label[i] > '9')
                    digits = false;
            if (digits)
                return "bad domain";
            break;
        }
        label = dot + 1;
    }
    if (labels < 2)
        return "domain has no dot";
    return NULL;
}

/* address_normalize - see address.h. */
int address_normalize(const char *in, char *out, size_t outlen, const char **why)
{
    const char *reason = NULL;
    char *copy = xstrdup(in);
    char *s = str_trim(copy);
    char *ascii = NULL;
    size_t len = strlen(s);

    if (len == 0) {
        reason = "empty address";
        goto done;
    }
    if (len > ADDRESS_MAX) {
        reason = "longer than 254 octets";
        goto done;
    }
    for (size_t i = 0; i < len; i++)
        if (s[i] == ' ' || s[i] == '\t' || (unsigned char)s[i] < 0x20 || s[i] == 0x7f) {
            reason = s[i] == ' ' || s[i] == '\t' ? "contains spaces" : "contains control characters";
            goto done;
        }
    char *at = strrchr(s, '@');
    if (!at) {
        reason = "no @";
        goto done;
    }
    if (memchr(s, '@', (size_t)(at - s))) {
        reason = "more than one @";
        goto done;
    }
    *at = 0;
    char *domain = at + 1;
    if ((reason = check_local(s, strlen(s))) != NULL)
        goto done;
    if (*domain == '[') {
        reason = "address literals are not accepted";
        goto done;
    }
    if (strlen(domain) > 0 && domain[strlen(domain) - 1] == '.')
        domain[strlen(domain) - 1] = 0;
    bool non_ascii = false;
    for (const char *p = domain; *p; p++)
        if ((unsigned char)*p >= 0x80)
            non_ascii = true;
    if (non_ascii) {
        if (!str_utf8_valid(domain, strlen(domain), NULL)) {
            reason = "domain is not valid UTF-8";
            goto done;
        }
        if (idn2_to_ascii_8z(domain, &ascii, IDN2_NFC_INPUT | IDN2_NONTRANSITIONAL) != IDN2_OK) {
            reason = "bad international domain";
            goto done;
        }
        domain = ascii;
    }
    str_lower(domain);
    if ((reason = check_domain(domain)) != NULL)
        goto done;
    if (strlen(s) + 1 + strlen(domain) > ADDRESS_MAX || strlen(s) + 1 + strlen(domain) >= outlen) {
        reason = "longer than 254 octets";
        goto done;
    }
    strcpy(out, s);
    strcat(out, "@");
    strcat(out, domain);
done:
    free(ascii);
    xfree(copy);
    if (reason && why)
        *why = reason;
    return reason ? -1 : 0;
}

/* address_domain_normalize - check and normalise a domain: lower case, IDN to ASCII. */
int address_domain_normalize(const char *in, char *out, size_t outlen, const char **why)
{
    char addr[ADDRESS_MAX + 2];
    char *copy = xstrdup(in);
    const char *d = str_trim(copy);
    int rc = -1;
    if (strchr(d, '@')) {
        *why = "a domain has no @";
    } else if (strlen(d) + 2 > sizeof(addr)) {
        *why = "domain longer than 253 octets";
    } else {
        char x[ADDRESS_MAX + 3];
        snprintf(x, sizeof(x), "x@%s", d);
        if (address_normalize(x, addr, sizeof(addr), why) == 0 && strlen(addr) - 2 < outlen) {
            strcpy(out, addr + 2);
            rc = 0;
        }
    }
    xfree(copy);
    return rc;
}

/* address_domain - the part of ADDR after its @ (ADDR is normalised, so it has one). */
const char *address_domain(const char *addr)
{
    const char *at = strrchr(addr, '@');
    return at ? at + 1 : addr;
}

/* address_mailbox_parse - see address.h. */
int address_mailbox_parse(const char *in, char *name, size_t namelen, char addr[ADDRESS_MAX + 1], const char **why)
{
    const char *lt = strrchr(in, '<'), *gt;
    name[0] = 0;
    if (!lt)
        return address_normalize(in, addr, ADDRESS_MAX + 1, why);
    if (!(gt = strchr(lt, '>')) || gt[1 + strspn(gt + 1, " \t")] != 0) {
        *why = "expected Name <address>";
        return -1;
    }
    char a[ADDRESS_MAX + 64];
    if ((size_t)(gt - lt - 1) >= sizeof(a)) {
        *why = "the address is too long";
        return -1;
    }
    snprintf(a, sizeof(a), "%.*s", (int)(gt - lt - 1), lt + 1);
    if (address_normalize(a, addr, ADDRESS_MAX + 1, why) < 0)
        return -1;
    const char *s = in, *end = lt;
    while (s < end && (*s == ' ' || *s == '\t'))
        s++;
    while (end > s && (end[-1] == ' ' || end[-1] == '\t'))
        end--;
    bool quoted = end - s >= 2 && *s == '"' && end[-1] == '"';
    if (quoted)
        s++, end--;
    if ((size_t)(end - s) >= namelen) {
        *why = "the name is too long";
        return -1;
    }
    /* a quoted string's \" and \\ stand for " and \ (RFC 5322 3.2.4): kept as the name is, not escaped again */
    size_t n = 0;
    for (const char *p = s; p < end; p++)
        name[n++] = quoted && *p == '\\' && p + 1 < end ? *++p : *p;
    name[n] = 0;
    static const char *const faults[] = { "the name holds a line break", "the name holds a tab",
                                          "the name holds a control character" };
    const char *holds;
    int rc = mime_name_check(name, false, &holds);
    if (rc < 0) {
        *why = faults[-rc - 1];
        name[0] = 0;
        return -1;
    }
    return 0;
}
