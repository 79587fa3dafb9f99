/*
 * provider - provider names, domain and host patterns, relay fields (see provider.h).
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "engine/mail/address.h"
#include "engine/mail/provider.h"

static bool is_alnum_lc(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static char lower(char c)
{
    return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/* provider_name_check - see provider.h. */
int provider_name_check(const char *name, const char **why)
{
    size_t n = strlen(name);
    if (n == 0 || n > PROVIDER_NAME_MAX) {
        *why = "a provider's name is 1 to 32 characters";
        return -1;
    }
    if (!is_alnum_lc(name[0])) {
        *why = "a provider's name starts with a lower-case letter or a digit";
        return -1;
    }
    for (size_t i = 0; i < n; i++)
        if (!is_alnum_lc(name[i]) && name[i] != '-') {
            *why = "a provider's name holds only a-z, 0-9 and '-'";
            return -1;
        }
    if (strcmp(name, "other") == 0) {
        *why = "\"other\" stands for every delivery of no provider";
        return -1;
    }
    if (strcmp(name, "match") == 0 || strcmp(name, "stats") == 0) {
        *why = "\"match\" and \"stats\" name the API's /providers/match and /providers/stats";
        return -1;
    }
    return 0;
}

/*
 * IN lower-cased into OUT without a final dot, each of its labels checked
 * (STAR: '*' allowed in a label). The number of labels, or -1 with *WHY.
 */
static int labels_copy(const char *in, bool star, char *out, size_t outlen, const char **why)
{
    size_t n = strlen(in);
    if (n > 0 && in[n - 1] == '.')
        n--;
    if (n == 0) {
        *why = "empty";
        return -1;
    }
    if (n > PROVIDER_PATTERN_MAX || n >= outlen) {
        *why = "longer than a domain name (253 characters)";
        return -1;
    }
    int labels = 0;
    size_t start = 0;
    for (size_t i = 0; i <= n; i++) {
        char c = i < n ? lower(in[i]) : '.';
        if (c == '.') {
            size_t len = i - start;
            if (len == 0) {
                *why = "an empty label (two dots, or a dot at the start)";
                return -1;
            }
            if (len > 63) {
                *why = "a label longer than 63 characters";
                return -1;
            }
            if (out[start] == '-' || out[i - 1] == '-') {
                *why = "a label starts or ends with '-'";
                return -1;
            }
            labels++;
            start = i + 1;
        } else if (!is_alnum_lc(c) && c != '-' && !(star && c == '*')) {
            *why = star ? "a character other than a-z, 0-9, '-', '.' and '*'"
                        : "a character other than a-z, 0-9, '-' and '.'";
            return -1;
        }
        if (i < n)
            out[i] = c;
    }
    out[n] = 0;
    return labels;
}

/* provider_domain_pattern - see provider.h. */
int provider_domain_pattern(const char *in, char *out, size_t outlen, const char **why)
{
    size_t n = strlen(in);
    bool wild = n >= 2 && strcmp(in + n - 2, ".*") == 0;
    char head[PROVIDER_PATTERN_MAX + 3];
    if (wild) {
        if (n - 2 >= sizeof(head)) {
            *why = "longer than a domain name (253 characters)";
            return -1;
        }
        memcpy(head, in, n - 2);
        head[n - 2] = 0;
        if (n - 2 > 0 && head[n - 3] == '.') {
            *why = "an empty label (two dots, or a dot at the start)";
            return -1;
        }
    }
    int labels = labels_copy(wild ? head : in, false, out, outlen, why);
    if (labels < 0) {
        if (strcmp(*why, "a character other than a-z, 0-9, '-' and '.'") == 0)
            *why = "a character other than a-z, 0-9, '-' and '.' (a wildcard is only a final \".*\")";
        return -1;
    }
    if (!wild && labels < 2) {
        *why = "a domain has two labels or more (or write NAME.* for NAME under any suffix)";
        return -1;
    }
    if (wild) {
        size_t len = strlen(out);
        if (len + 2 >= outlen || len + 2 > PROVIDER_PATTERN_MAX) {
            *why = "longer than a domain name (253 characters)";
            return -1;
        }
        memcpy(out + len, ".*", 3);
    }
    return 0;
}

/* provider_mx_pattern - see provider.h. */
int provider_mx_pattern(const char *in, char *out, size_t outlen, const char **why)
{
    int labels = labels_copy(in, true, out, outlen, why);
    if (labels < 0)
        return -1;
    if (labels < 2) {
        *why = "a host pattern has two labels or more";
        return -1;
    }
    const char *last2 = out + strlen(out);
    for (int dots = 0; last2 > out; last2--)
        if (last2[-1] == '.' && ++dots == 2)
            break;
    if (strchr(last2, '*')) {
        *why = "the last two labels are a domain, without '*' (\"*.google.com\", not \"*.com\")";
        return -1;
    }
    return 0;
}

/* provider_relay_host - see provider.h. */
int provider_relay_host(const char *relay, char *out, size_t outlen, const char **why)
{
    const char *open = strchr(relay, '[');
    size_t n = open ? (size_t)(open - relay) : strlen(relay);
    if (open) {
        const char *close = strchr(open, ']');
        if (!close) {
            *why = "a '[' without its ']'";
            return -1;
        }
        const char *rest = close + 1;
        if (*rest == ':') {
            size_t digits = strspn(rest + 1, "0123456789");
            if (digits == 0 || digits > 5 || rest[1 + digits]) {
                *why = "a port that is not a number";
                return -1;
            }
        } else if (*rest) {
            *why = "text after the address";
            return -1;
        }
    }
    if (n == 0) {
        *why = "an address without a host name";
        return -1;
    }
    char name[PROVIDER_PATTERN_MAX + 2];
    if (n >= sizeof(name)) {
        *why = "longer than a domain name (253 characters)";
        return -1;
    }
    memcpy(name, relay, n);
    name[n] = 0;
    if (!open && (strcmp(name, "none") == 0 || strcmp(name, "local") == 0)) {
        *why = "no receiving host";
        return -1;
    }
    int labels = labels_copy(name, false, out, outlen, why);
    if (labels < 0)
        return -1;
    return 0;
}

/* provider_target - see provider.h. */
int provider_target(const char *in, char *out, size_t outlen, const char **why)
{
    char addr[ADDRESS_MAX + 1];
    if (!strchr(in, '@'))
        return address_domain_normalize(in, out, outlen, why);
    if (address_normalize(in, addr, sizeof(addr), why) < 0)
        return -1;
    const char *at = strrchr(addr, '@');
    if ((size_t)snprintf(out, outlen, "%s", at + 1) >= outlen) {
        *why = "too long";
        return -1;
    }
    return 0;
}
