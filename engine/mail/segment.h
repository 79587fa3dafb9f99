/*
 * segment - the filter language that picks part of an audience, compiled to
 * a SQL condition over one subscriber (the row `s` of subscribers) in which
 * every value is a bound parameter: no text of the expression is ever
 * spliced into SQL, only the compiler's own words and placeholders. The
 * values travel as one text[] parameter $A, each read as ($A::text[])[K]
 * with its cast: one parameter whatever the filter, so the same SQL runs from
 * libpq and from PL/pgSQL's EXECUTE ... USING (segment_params_literal makes
 * the array's text).
 *
 * segment_compile         parse EXPR; the SQL condition and its values
 * segment_params_literal  the values as the text of a PostgreSQL text[]
 * segment_sql_free        free what segment_compile made
 *
 * The language:
 *   expr   := term { "or" term }          term := factor { "and" factor }
 *   factor := "not" factor | "(" expr ")" | predicate | field test
 *   field  := email | name | status | id | created_at | attribs.KEY | attribs."KEY"
 *   test   := ("=" | "!=" | "<" | "<=" | ">" | ">=") value
 *           | "in" "(" value { "," value } ")" | "contains" STRING | "starts_with" STRING
 *           | "exists"
 *   value  := STRING ("...", with \" \\ \n \t) | NUMBER (-12, 3.5) | DATE (2026-01-31,
 *             2026-01-31T08:00, 2026-01-31T08:00:00Z, ...+01:00) | true | false
 *   predicate := in_list(LIST) | sent(opts) | opened(opts) | clicked(opts)
 *              | bounced([CLASS] [, opts]) | complained(opts)
 *   opts   := [ campaign = NUMBER ] [ , within = DURATION ] [ , since = DATE ]
 *             (any order; DURATION: 12h, 30d, 2w)
 * Keywords are case-insensitive. An attribute is compared as the type the
 * value implies: a string as text; a number as a number (a JSON number, or
 * text that is one); a date as a date (the attribute's first ten characters
 * when they read YYYY-MM-DD); true/false as a boolean (JSON, or the text
 * true/false). An attribute that is missing or not of that type matches no
 * comparison, and `a != v` is `not a = v`: every test is true or false,
 * never unknown, so `not` means what it says. Text tests on email and name,
 * contains and starts_with ignore case. in_list is a confirmed
 * subscription to the list (named, or by id). The engagement predicates
 * look at this subscriber's deliveries sent, opens, clicks, bounces (every
 * class but complaint, or the one named) and complaints, in one campaign
 * and within a time when asked.
 *
 * Limits: SEGMENT_MAX_LEN bytes, SEGMENT_MAX_DEPTH nested factors,
 * SEGMENT_MAX_TESTS tests and predicates, SEGMENT_MAX_VALUES values in one
 * `in`. An error is one line: "line L, column C: what was wrong".
 */
#ifndef POSTINO_MAIL_SEGMENT_H
#define POSTINO_MAIL_SEGMENT_H

#include <stddef.h>

#define SEGMENT_MAX_LEN 8192
#define SEGMENT_MAX_DEPTH 32
#define SEGMENT_MAX_TESTS 100
#define SEGMENT_MAX_VALUES 100

struct segment_sql {
    char *sql;          /* a boolean SQL expression over subscribers s */
    char **params;      /* the values, ($A::text[])[1] first */
    size_t nparams;
};

/*
 * segment_compile - compile EXPR; its values are read from the text[]
 * parameter number ARRAY. 0 and *OUT filled, or -1 with a one-line message in
 * ERR (of ERRLEN bytes) and *OUT untouched.
 */
int segment_compile(const char *expr, int array, struct segment_sql *out, char *err, size_t errlen);

/* segment_params_literal - SQL's values as a text[] literal ({"a","b\"c"}); the caller frees it */
char *segment_params_literal(const struct segment_sql *sql);

/* segment_sql_free - free what segment_compile put in SQL; it may be compiled into again */
void segment_sql_free(struct segment_sql *sql);

#endif
