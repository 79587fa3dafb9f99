/* test_csv - the CSV row reader: delimiters, quoting, line ends, blank lines, line numbers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "engine/util/alloc.h"
#include "engine/util/buf.h"
#include "importers/csv.h"

/* Records as text: "LINE|f1|f2|…" each, and their raw forms, for exact comparison. */
struct collected {
    struct buf recs;
    struct buf raws;
    int n;
};

static int collect(const struct csv_record *rec, void *arg)
{
    struct collected *c = arg;
    buf_appendf(&c->recs, "%ld", rec->line);
    for (size_t i = 0; i < rec->nfields; i++) {
        buf_appendc(&c->recs, '|');
        buf_append(&c->recs, rec->fields[i].data, rec->fields[i].len);
    }
    buf_appendc(&c->recs, '\n');
    buf_append(&c->raws, rec->raw, rec->rawlen);
    buf_appendc(&c->raws, '\n');
    c->n++;
    return 0;
}

/* Parse TEXT with DELIM in pieces of STEP bytes (0: all at once) into C. */
static int parse(const char *text, int delim, size_t step, struct collected *c)
{
    memset(c, 0, sizeof(*c));
    struct csv_reader *r = csv_reader_new(delim);
    size_t len = strlen(text);
    int rc = 0;
    if (!step)
        step = len ? len : 1;
    for (size_t i = 0; i < len && rc == 0; i += step)
        rc = csv_reader_feed(r, text + i, len - i < step ? len - i : step, collect, c);
    if (rc == 0)
        rc = csv_reader_finish(r, collect, c);
    csv_reader_free(r);
    return rc;
}

static void collected_free(struct collected *c)
{
    buf_free(&c->recs);
    buf_free(&c->raws);
}

static void test_csv_detect_delimiter_picks_the_most_frequent(void **state)
{
    (void)state;
    static const struct { const char *text; int delim; } cases[] = {
        { "email,name,city\na;b;c;d;e\n", ',' },
        { "email;name;city\n", ';' },
        { "email\tname\tcity\r\n", '\t' },
        { "email|name|city", '|' },
        { "\"e,mail\";name;\"a,b\"\n", ';' },
        { "email\n", ',' },
        { "", ',' },
        { "a,b;c;d", ';' },
        { "a,b;c", ',' },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        assert_int_equal(csv_detect_delimiter(cases[i].text, strlen(cases[i].text)), cases[i].delim);
}

static void test_csv_quoted_fields_hold_delimiters_quotes_and_newlines(void **state)
{
    (void)state;
    struct collected c;
    const char *text = "email,name\n"
                       "a@example.com,\"Smith, John\"\n"
                       "b@example.com,\"say \"\"hi\"\"\"\n"
                       "c@example.com,\"two\nlines\"\n"
                       "d@example.com,plain\n";
    assert_int_equal(parse(text, ',', 0, &c), 0);
    assert_int_equal(c.n, 5);
    assert_string_equal(c.recs.data, "1|email|name\n"
                                     "2|a@example.com|Smith, John\n"
                                     "3|b@example.com|say \"hi\"\n"
                                     "4|c@example.com|two\nlines\n"
                                     "6|d@example.com|plain\n");
    assert_string_equal(c.raws.data, "email,name\n"
                                     "a@example.com,\"Smith, John\"\n"
                                     "b@example.com,\"say \"\"hi\"\"\"\n"
                                     "c@example.com,\"two\nlines\"\n"
                                     "d@example.com,plain\n");
    collected_free(&c);
}

static void test_csv_crlf_lf_and_cr_line_ends(void **state)
{
    (void)state;
    struct collected c;
    assert_int_equal(parse("h1,h2\r\na,b\r\n\"x\r\ny\",z\r\nlast,one", ',', 0, &c), 0);
    assert_int_equal(c.n, 4);
    assert_string_equal(c.recs.data, "1|h1|h2\n2|a|b\n3|x\r\ny|z\n5|last|one\n");
    collected_free(&c);
    assert_int_equal(parse("h1,h2\ra,b\rc,d\r", ',', 0, &c), 0);
    assert_string_equal(c.recs.data, "1|h1|h2\n2|a|b\n3|c|d\n");
    collected_free(&c);
    /* LF then CR is two line ends; a CR then a line that ends in LF is two as well. */
    for (size_t step = 0; step < 4; step++) {
        assert_int_equal(parse("h\n\n\rb\nc\r\nd", ',', step, &c), 0);
        assert_string_equal(c.recs.data, "1|h\n4|b\n5|c\n6|d\n");
        collected_free(&c);
    }
}

static void test_csv_blank_lines_are_skipped_but_counted(void **state)
{
    (void)state;
    struct collected c;
    assert_int_equal(parse("h\n\n\na\r\n\r\n   \nb\n\n", ',', 0, &c), 0);
    assert_int_equal(c.n, 3);
    assert_string_equal(c.recs.data, "1|h\n4|a\n7|b\n");
    assert_string_equal(c.raws.data, "h\na\nb\n");
    collected_free(&c);
}

static void test_csv_trailing_empty_columns_and_other_delimiters(void **state)
{
    (void)state;
    struct collected c;
    assert_int_equal(parse("email;name;;\na@example.com;A;;\n", ';', 0, &c), 0);
    assert_string_equal(c.recs.data, "1|email|name||\n2|a@example.com|A||\n");
    collected_free(&c);
    assert_int_equal(parse("email\tname\na@example.com\t\"A B\"\n", '\t', 0, &c), 0);
    assert_string_equal(c.recs.data, "1|email|name\n2|a@example.com|A B\n");
    collected_free(&c);
    assert_int_equal(parse("email|name\na@example.com| \"A|B\"\n", '|', 0, &c), 0);
    assert_string_equal(c.recs.data, "1|email|name\n2|a@example.com|A|B\n");
    collected_free(&c);
}

static void test_csv_any_split_of_the_input_gives_the_same_records(void **state)
{
    (void)state;
    const char *text = "email,name\r\n\"a@example.com\",\"x\r\n,y\"\"\"\r\n\r\n  \n  b@example.com,b\nc@example.com";
    struct collected whole, piece;
    assert_int_equal(parse(text, ',', 0, &whole), 0);
    assert_int_equal(whole.n, 4);
    for (size_t step = 1; step < 9; step++) {
        assert_int_equal(parse(text, ',', step, &piece), 0);
        assert_string_equal(piece.recs.data, whole.recs.data);
        assert_string_equal(piece.raws.data, whole.raws.data);
        collected_free(&piece);
    }
    collected_free(&whole);
}

static void test_csv_unclosed_quote_stops_with_the_line(void **state)
{
    (void)state;
    struct collected c;
    size_t n = CSV_RECORD_MAX + 100;
    char *text = xmalloc(n + 32);
    strcpy(text, "h\nok\n\"open");
    size_t at = strlen(text);
    for (size_t i = at; i < n; i++)
        text[i] = (i % 50 == 0) ? '\n' : 'x';
    text[n] = 0;
    memset(&c, 0, sizeof(c));
    struct csv_reader *r = csv_reader_new(',');
    assert_int_equal(csv_reader_feed(r, text, n, collect, &c), -1);
    assert_string_equal(csv_reader_error(r), "line 3: record longer than 1048576 bytes (an unclosed quote?)");
    assert_int_equal(c.n, 2);
    csv_reader_free(r);
    collected_free(&c);
    xfree(text);
}

static int stop_at_second(const struct csv_record *rec, void *arg)
{
    (void)rec;
    return ++*(int *)arg == 2 ? 7 : 0;
}

static void test_csv_callback_can_stop_the_reader(void **state)
{
    (void)state;
    int seen = 0;
    struct csv_reader *r = csv_reader_new(',');
    assert_int_equal(csv_reader_feed(r, "a\nb\nc\n", 6, stop_at_second, &seen), 7);
    assert_int_equal(seen, 2);
    csv_reader_free(r);
}

static void test_csv_nul_bytes_stay_in_fields(void **state)
{
    (void)state;
    struct collected c;
    memset(&c, 0, sizeof(c));
    struct csv_reader *r = csv_reader_new(',');
    assert_int_equal(csv_reader_feed(r, "a\0b,c\n", 6, collect, &c), 0);
    assert_int_equal(c.n, 1);
    assert_int_equal(c.recs.len, strlen("1|a") + 1 + strlen("b|c\n"));
    csv_reader_free(r);
    collected_free(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_csv_detect_delimiter_picks_the_most_frequent),
        cmocka_unit_test(test_csv_quoted_fields_hold_delimiters_quotes_and_newlines),
        cmocka_unit_test(test_csv_crlf_lf_and_cr_line_ends),
        cmocka_unit_test(test_csv_blank_lines_are_skipped_but_counted),
        cmocka_unit_test(test_csv_trailing_empty_columns_and_other_delimiters),
        cmocka_unit_test(test_csv_any_split_of_the_input_gives_the_same_records),
        cmocka_unit_test(test_csv_unclosed_quote_stops_with_the_line),
        cmocka_unit_test(test_csv_callback_can_stop_the_reader),
        cmocka_unit_test(test_csv_nul_bytes_stay_in_fields),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
