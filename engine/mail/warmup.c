/*
 * warmup - warm-up curves and targets as typed (see warmup.h).
 */
#include <ctype.h>
#include <string.h>

#include "engine/mail/warmup.h"

/* warmup_days_parse - see warmup.h. */
int warmup_days_parse(const char *text, int *days, size_t *n, const char **why)
{
    const char *p = text;
    *n = 0;
    for (;;) {
        while (*p == ' ' || *p == '\t')
            p++;
        if (!isdigit((unsigned char)*p)) {
            *why = *p ? "each day's cap must be a whole number" : "a cap is missing (\"50,100,500\")";
            return -1;
        }
        long v = 0;
        while (isdigit((unsigned char)*p)) {
            v = v * 10 + (*p++ - '0');
            if (v > WARMUP_CAP_MAX) {
                *why = "a day's cap is at most 100000000";
                return -1;
            }
        }
        if (v < 1) {
            *why = "a day's cap is at least 1";
            return -1;
        }
        if (*n == WARMUP_DAYS_MAX) {
            *why = "a schedule has at most 366 days";
            return -1;
        }
        if (*n > 0 && v < days[*n - 1]) {
            *why = "a day's cap is never smaller than the day before's";
            return -1;
        }
        days[(*n)++] = (int)v;
        while (*p == ' ' || *p == '\t')
            p++;
        if (!*p)
            return 0;
        if (*p != ',') {
            *why = "caps are separated by commas";
            return -1;
        }
        p++;
    }
}

static int relay_check(const char *name, char *out, size_t outlen, const char **why)
{
    size_t len = strlen(name);
    if (len < 1 || len > 64 || strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-") != len) {
        *why = "a relay's name is 1 to 64 letters, digits, '.', '_' or '-'";
        return -1;
    }
    if (len + 6 >= outlen) {
        *why = "too long";
        return -1;
    }
    memcpy(out, "relay:", 6);
    memcpy(out + 6, name, len + 1);
    return 0;
}

/* warmup_target_check - see warmup.h. */
int warmup_target_check(const char *in, char *out, size_t outlen, const char **why)
{
    if (strncmp(in, "relay:", 6) == 0)
        return relay_check(in + 6, out, outlen, why);
    size_t len = strlen(in);
    if (len > 0 && in[len - 1] == '.')
        len--;
    if (len < 3 || len > WARMUP_TARGET_MAX || len >= outlen) {
        *why = "not a domain name (or relay:NAME)";
        return -1;
    }
    int dots = 0;
    size_t label = 0;
    for (size_t i = 0; i < len; i++) {
        char ch = (char)tolower((unsigned char)in[i]);
        if (ch == '.') {
            if (label == 0 || out[i - 1] == '-') {
                *why = "a label of the domain is empty or ends with '-'";
                return -1;
            }
            dots++;
            label = 0;
        } else if (isalnum((unsigned char)ch) || ch == '-') {
            if (ch == '-' && label == 0) {
                *why = "a label of the domain starts with '-'";
                return -1;
            }
            if (++label > 63) {
                *why = "a label of the domain is longer than 63 characters";
                return -1;
            }
        } else {
            *why = "a domain has only letters, digits, '-' and dots (or say relay:NAME)";
            return -1;
        }
        out[i] = ch;
    }
    if (label == 0 || out[len - 1] == '-' || dots == 0) {
        *why = "not a domain name of two labels or more (or relay:NAME)";
        return -1;
    }
    out[len] = 0;
    return 0;
}
