/*
 * abtest - an A/B test's settings read and checked, and its winner chosen
 * (see abtest.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/mail/abtest.h"

/* abtest_duration - see abtest.h. */
int abtest_duration(const char *s, long *secs)
{
    char *end;
    if (!s || *s < '0' || *s > '9')
        return -1;
    errno = 0;
    long long n = strtoll(s, &end, 10);
    long long unit = 1;
    if (errno)
        return -1;
    if (*end) {
        switch (*end) {
        case 's': unit = 1; break;
        case 'm': unit = 60; break;
        case 'h': unit = 3600; break;
        case 'd': unit = 86400; break;
        default: return -1;
        }
        if (end[1])
            return -1;
    }
    if (n > ABTEST_WINDOW_MAX * 10LL)
        return -1;
    *secs = (long)(n * unit);
    return 0;
}

static int fail(const char **field, const char *f, char *err, size_t errlen, const char *msg)
{
    *field = f;
    snprintf(err, errlen, "%s", msg);
    return -1;
}

/* the sample: "N%" (1..99) or a count, as a string or a number */
static int parse_sample(json_t *v, struct abtest *out, const char **field, char *err, size_t errlen)
{
    const char *s = json_string_value(v);
    char *end;
    if (json_is_integer(v)) {
        out->sample_count = json_integer_value(v);
    } else if (s && *s >= '0' && *s <= '9') {
        errno = 0;
        long long n = strtoll(s, &end, 10);
        if (errno || (*end && strcmp(end, "%") != 0))
            return fail(field, "ab.sample", err, errlen, "ab.sample must be a percentage (\"20%\") or a count (5000)");
        if (*end == '%') {
            if (n < 1 || n > 99)
                return fail(field, "ab.sample", err, errlen,
                            "ab.sample must be between 1% and 99% (the rest gets the winner)");
            out->sample_pct = (int)n;
            return 0;
        }
        out->sample_count = n;
    } else {
        return fail(field, "ab.sample", err, errlen, "ab.sample must be a percentage (\"20%\") or a count (5000)");
    }
    if (out->sample_count < 1)
        return fail(field, "ab.sample", err, errlen, "ab.sample must be at least 1 recipient");
    return 0;
}

static int parse_variants(json_t *vs, struct abtest *out, const char **field, char *err, size_t errlen)
{
    size_t i;
    json_t *v;
    if (!json_is_array(vs))
        return fail(field, "ab.variants", err, errlen, "ab.variants must be a list of 2 to 4 variants");
    if (json_array_size(vs) < ABTEST_VARIANTS_MIN || json_array_size(vs) > ABTEST_VARIANTS_MAX) {
        *field = "ab.variants";
        snprintf(err, errlen, "an A/B test has 2 to 4 variants, not %zu", json_array_size(vs));
        return -1;
    }
    json_array_foreach(vs, i, v) {
        json_t *subject = json_object_get(v, "subject"), *html = json_object_get(v, "html"),
               *from = json_object_get(v, "from_name");
        if (!json_is_object(v) || !json_is_string(subject) || !*json_string_value(subject)) {
            *field = "ab.variants";
            snprintf(err, errlen, "variant %zu of the A/B test needs a subject", i + 1);
            return -1;
        }
        if ((html && !json_is_null(html) && !json_is_string(html)) ||
            (from && !json_is_null(from) && !json_is_string(from))) {
            *field = "ab.variants";
            snprintf(err, errlen, "variant %zu: html and from_name must be strings", i + 1);
            return -1;
        }
        out->v[i].subject = json_string_value(subject);
        out->v[i].html = json_string_value(html);
        out->v[i].from_name = json_string_value(from);
    }
    out->nvariants = json_array_size(vs);
    return 0;
}

/* abtest_parse - see abtest.h. */
int abtest_parse(json_t *in, struct abtest *out, const char **field, char *err, size_t errlen)
{
    memset(out, 0, sizeof(*out));
    if (!json_is_object(in))
        return fail(field, "ab", err, errlen, "ab must be an object: variants, sample, metric, window, pick");
    const char *key;
    json_t *v;
    json_object_foreach(in, key, v) {
        if (strcmp(key, "variants") && strcmp(key, "sample") && strcmp(key, "metric") && strcmp(key, "window") &&
            strcmp(key, "pick") && strcmp(key, "winner") && strcmp(key, "test_size") && strcmp(key, "decided_at") &&
            strcmp(key, "decided_by")) {
            *field = "ab";
            snprintf(err, errlen, "ab has no field \"%.40s\"", key);
            return -1;
        }
    }
    if (parse_variants(json_object_get(in, "variants"), out, field, err, errlen) < 0)
        return -1;
    if (parse_sample(json_object_get(in, "sample"), out, field, err, errlen) < 0)
        return -1;
    const char *metric = json_string_value(json_object_get(in, "metric"));
    if (!metric || !strcmp(metric, "opens"))
        out->metric = "opens";
    else if (!strcmp(metric, "clicks"))
        out->metric = "clicks";
    else
        return fail(field, "ab.metric", err, errlen, "ab.metric must be opens or clicks");
    json_t *w = json_object_get(in, "window");
    long secs = -1;
    if (json_is_integer(w) && json_integer_value(w) <= ABTEST_WINDOW_MAX)
        secs = (long)json_integer_value(w);
    else if (json_is_string(w) && abtest_duration(json_string_value(w), &secs) < 0)
        secs = -1;
    if (secs < 1 || secs > ABTEST_WINDOW_MAX)
        return fail(field, "ab.window", err, errlen,
                    "ab.window must be a time from 1s to 30d, as \"4h\", \"30m\", \"2d\" or seconds");
    out->window_s = secs;
    const char *pick = json_string_value(json_object_get(in, "pick"));
    if (pick && strcmp(pick, "auto") && strcmp(pick, "manual"))
        return fail(field, "ab.pick", err, errlen, "ab.pick must be auto or manual");
    out->manual = pick && !strcmp(pick, "manual");
    return 0;
}

/* abtest_winner - see abtest.h. */
int abtest_winner(const long long *scores, size_t n)
{
    size_t best = 0;
    if (n == 0)
        return 0;
    for (size_t i = 1; i < n; i++)
        if (scores[i] > scores[best])
            best = i;
    return (int)best + 1;
}
