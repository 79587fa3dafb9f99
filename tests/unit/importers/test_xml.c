/* test_xml - the XML subscriber reader: the format, line numbers, and what it refuses. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "engine/util/buf.h"
#include "importers/xml.h"

/* Read all of TEXT; each record as "LINE email=… name=… k=v … list=… !problem" in OUT. */
static int read_all(const char *text, struct buf *out, char *err, size_t errlen)
{
    struct xml_reader *r = xml_reader_new_mem(text, strlen(text), NULL);
    struct xml_record rec;
    int rc, n = 0;
    buf_init(out);
    while ((rc = xml_reader_next(r, &rec)) > 0) {
        n++;
        buf_appendf(out, "%ld", rec.line);
        if (rec.email)
            buf_appendf(out, " email=%s", rec.email);
        if (rec.name)
            buf_appendf(out, " name=%s", rec.name);
        for (size_t i = 0; i < rec.nattrs; i++)
            buf_appendf(out, " %s=%s", rec.attrs[i].key, rec.attrs[i].value);
        for (size_t i = 0; i < rec.nlists; i++)
            buf_appendf(out, " list=%s", rec.lists[i]);
        if (rec.problem)
            buf_appendf(out, " !%s", rec.problem);
        buf_appendc(out, '\n');
    }
    snprintf(err, errlen, "%s", xml_reader_error(r));
    xml_reader_free(r);
    return rc < 0 ? -1 : n;
}

static void test_xml_reads_the_documented_format(void **state)
{
    (void)state;
    const char *doc = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                      "<!-- an export -->\n"
                      "<subscribers>\n"
                      "  <subscriber email=\"alice@example.com\">\n"
                      "    <name>Alice &amp; Bob</name>\n"
                      "    <attribute name=\"city\">Lyon</attribute>\n"
                      "    <list>news</list><list>offers</list>\n"
                      "  </subscriber>\n"
                      "  <subscriber><email> bob@example.com </email><plan>pro</plan>"
                      "<name><![CDATA[B <b>]]></name></subscriber>\n"
                      "  <subscriber email=\"c@example.com\"/>\n"
                      "</subscribers>\n";
    struct buf out;
    char err[400];
    assert_int_equal(read_all(doc, &out, err, sizeof(err)), 3);
    assert_string_equal(out.data, "4 email=alice@example.com name=Alice & Bob city=Lyon list=news list=offers\n"
                                  "9 email= bob@example.com  name=B <b> plan=pro\n"
                                  "10 email=c@example.com\n");
    buf_free(&out);
}

static void test_xml_flags_malformed_records_without_stopping(void **state)
{
    (void)state;
    const char *doc = "<subscribers>\n"
                      "<subscriber email=\"a@example.com\"><email>b@example.com</email></subscriber>\n"
                      "<subscriber email=\"c@example.com\"><attribute>v</attribute></subscriber>\n"
                      "<person email=\"d@example.com\"/>\n"
                      "<subscriber email=\"e@example.com\"/>\n"
                      "</subscribers>";
    struct buf out;
    char err[400];
    assert_int_equal(read_all(doc, &out, err, sizeof(err)), 4);
    assert_string_equal(out.data, "2 email=b@example.com !two different email addresses\n"
                                  "3 email=c@example.com !<attribute> without a name\n"
                                  "4 !unexpected element (not <subscriber>)\n"
                                  "5 email=e@example.com\n");
    buf_free(&out);
}

static void test_xml_refuses_external_entities(void **state)
{
    (void)state;
    const char *doc = "<?xml version=\"1.0\"?>\n"
                      "<!DOCTYPE subscribers [<!ENTITY xxe SYSTEM \"file:///etc/passwd\">]>\n"
                      "<subscribers><subscriber email=\"a@example.com\"><name>&xxe;</name></subscriber></subscribers>\n";
    struct buf out;
    char err[400];
    assert_int_equal(read_all(doc, &out, err, sizeof(err)), -1);
    assert_string_equal(out.data ? out.data : "", "");
    assert_non_null(strstr(err, "DTDs and entities are refused"));
    buf_free(&out);
}

static void test_xml_refuses_billion_laughs(void **state)
{
    (void)state;
    struct buf doc = BUF_INIT;
    buf_appends(&doc, "<?xml version=\"1.0\"?>\n<!DOCTYPE lolz [\n <!ENTITY lol0 \"lol\">\n");
    for (int i = 1; i < 10; i++) {
        buf_appendf(&doc, " <!ENTITY lol%d \"", i);
        for (int j = 0; j < 10; j++)
            buf_appendf(&doc, "&lol%d;", i - 1);
        buf_appends(&doc, "\">\n");
    }
    buf_appends(&doc, "]>\n<subscribers><subscriber email=\"a@example.com\"><name>&lol9;</name>"
                      "</subscriber></subscribers>\n");
    struct buf out;
    char err[400];
    assert_int_equal(read_all(doc.data, &out, err, sizeof(err)), -1);
    assert_string_equal(out.data ? out.data : "", "");
    assert_non_null(strstr(err, "DTDs and entities are refused"));
    buf_free(&out);
    buf_free(&doc);
}

struct chunks {
    const char *text;
    size_t at, step;
};

static int read_chunks(void *arg, char *buf, int len)
{
    struct chunks *c = arg;
    size_t left = strlen(c->text) - c->at, n = c->step < (size_t)len ? c->step : (size_t)len;
    if (n > left)
        n = left;
    memcpy(buf, c->text + c->at, n);
    c->at += n;
    return (int)n;
}

static void test_xml_streamed_reader_refuses_a_dtd_in_any_chunking(void **state)
{
    (void)state;
    const char *doc = "<?xml version=\"1.0\"?><!-- x --><!DOCTYPE s [<!ENTITY e \"v\">]><subscribers/>";
    for (size_t step = 1; step < 12; step++) {
        struct chunks c = { doc, 0, step };
        struct xml_reader *r = xml_reader_new(read_chunks, &c, NULL);
        struct xml_record rec;
        assert_int_equal(xml_reader_next(r, &rec), -1);
        assert_non_null(strstr(xml_reader_error(r), "DTD"));
        xml_reader_free(r);
    }
    struct chunks ok = { "<subscribers><subscriber email=\"a@example.com\"/></subscribers>", 0, 3 };
    struct xml_reader *r = xml_reader_new(read_chunks, &ok, NULL);
    struct xml_record rec;
    assert_int_equal(xml_reader_next(r, &rec), 1);
    assert_string_equal(rec.email, "a@example.com");
    assert_string_equal(xml_reader_raw(r), "<subscriber email=\"a@example.com\"/>");
    assert_int_equal(xml_reader_next(r, &rec), 0);
    xml_reader_free(r);
}

static void test_xml_document_errors_name_the_line(void **state)
{
    (void)state;
    static const struct { const char *doc, *err; } cases[] = {
        { "<subscribers>\n<subscriber email=\"a@example.com\">\n</subscribers>",
          "line 3: Opening and ending tag mismatch: subscriber line 2 and subscribers" },
        { "<people>\n<subscriber/></people>", "line 1: the root element is <people>, not <subscribers>" },
        { "", "line 1: " },
        { "<subscribers><subscriber email=\"a@example.com\">&nope;</subscriber></subscribers>",
          "line 1: Entity 'nope' not defined" },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct buf out;
        char err[400];
        assert_int_equal(read_all(cases[i].doc, &out, err, sizeof(err)), -1);
        if (!strstr(err, cases[i].err))
            fail_msg("case %zu: got \"%s\"", i, err);
        buf_free(&out);
    }
}

static void test_xml_latin1_declared_or_forced(void **state)
{
    (void)state;
    const char *doc = "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>"
                      "<subscribers><subscriber email=\"a@example.com\"><name>Ren\xe9</name></subscriber></subscribers>";
    struct buf out;
    char err[400];
    assert_int_equal(read_all(doc, &out, err, sizeof(err)), 1);
    assert_string_equal(out.data, "1 email=a@example.com name=Ren\xc3\xa9\n");
    buf_free(&out);
    const char *undeclared = "<subscribers><subscriber email=\"a@example.com\" name=\"Ren\xe9\"/></subscribers>";
    struct xml_reader *r = xml_reader_new_mem(undeclared, strlen(undeclared), "ISO-8859-1");
    struct xml_record rec;
    assert_int_equal(xml_reader_next(r, &rec), 1);
    assert_string_equal(rec.name, "Ren\xc3\xa9");
    xml_reader_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_xml_reads_the_documented_format),
        cmocka_unit_test(test_xml_flags_malformed_records_without_stopping),
        cmocka_unit_test(test_xml_refuses_external_entities),
        cmocka_unit_test(test_xml_refuses_billion_laughs),
        cmocka_unit_test(test_xml_streamed_reader_refuses_a_dtd_in_any_chunking),
        cmocka_unit_test(test_xml_document_errors_name_the_line),
        cmocka_unit_test(test_xml_latin1_declared_or_forced),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
