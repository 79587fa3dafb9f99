/*
 * abtest - an A/B test of a campaign as a person gives it, and its winner.
 *
 * abtest_parse      read a test from its JSON form (the API's "ab" object, which the CLI
 *                   builds from its flags and the store gives back): 2 to 4 variants
 *                   (subject, optional html and from_name), a sample ("20%" or a count),
 *                   a metric (opens or clicks), a window ("4h", "30m", "2d", or seconds)
 *                   and who picks the winner (auto or manual)
 * abtest_duration   a window's text as seconds
 * abtest_winner     the variant with the highest score; a tie goes to the lower number
 *
 * Pure code: no I/O. Refusals are one line naming the field ("ab.sample").
 */
#ifndef POSTINO_MAIL_ABTEST_H
#define POSTINO_MAIL_ABTEST_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#define ABTEST_VARIANTS_MIN 2
#define ABTEST_VARIANTS_MAX 4
#define ABTEST_WINDOW_MAX (30L * 86400)   /* seconds: a test longer than a month is a mistake */

struct abtest_variant {
    const char *subject;     /* never NULL once parsed */
    const char *html;        /* NULL: the campaign's body */
    const char *from_name;   /* NULL: the campaign's From name */
};

/* A parsed test; its strings point into the JSON it was parsed from. */
struct abtest {
    size_t nvariants;
    struct abtest_variant v[ABTEST_VARIANTS_MAX];
    int sample_pct;               /* 1..99, or 0 when the sample is a count */
    long long sample_count;       /* >= 1, or 0 when the sample is a percentage */
    const char *metric;           /* "opens" or "clicks" (static) */
    long window_s;                /* 1..ABTEST_WINDOW_MAX */
    bool manual;                  /* the marketer picks the winner; no automatic pick */
};

/*
 * abtest_parse - IN (a JSON object) into OUT. Returns 0, or -1 with *FIELD the
 * field at fault ("ab", "ab.variants", "ab.sample", "ab.metric", "ab.window",
 * "ab.pick") and ERR one line. The subjects are checked only for being
 * non-empty strings here; the caller applies the subject's own rules.
 */
int abtest_parse(json_t *in, struct abtest *out, const char **field, char *err, size_t errlen);

/* abtest_duration - "90s", "30m", "4h", "2d" or a bare number of seconds into *SECS; 0, or -1 when it is none */
int abtest_duration(const char *s, long *secs);

/* abtest_winner - 1 + the index of the highest of the N SCORES (the lowest such index on a tie); 0 when N is 0 */
int abtest_winner(const long long *scores, size_t n);

#endif
