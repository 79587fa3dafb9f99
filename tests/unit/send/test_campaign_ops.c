/*
 * test_campaign_ops - a campaign as a person gives it: the checks the CLI
 * and the API share before any database is opened (campaign_check), each
 * refusal naming its field in the words both front ends show.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "engine/send/campaign_ops.h"

static const char *const news[] = { "news" };

/* a good campaign, to spoil one field at a time */
static struct campaign_input good(void)
{
    return (struct campaign_input){ .name = "March", .subject = "Hi {{ name }}", .from = "News <news@Example.com>",
                                    .html = "<p>x</p>", .lists = news, .nlists = 1 };
}

static void test_campaign_check_fills_the_normalised_from_and_reply_to(void **state)
{
    struct campaign_input in = good();
    struct campaign_checked c;
    struct campaign_refusal why;
    (void)state;
    in.reply_to = "Replies@Example.com";
    assert_int_equal(campaign_check(&in, &c, &why), 0);
    assert_string_equal(c.from_name, "News");
    assert_string_equal(c.from_addr, "news@example.com");
    assert_string_equal(c.reply_addr, "Replies@example.com");   /* the local part as given */
    assert_string_equal(c.cn.name, "March");
    assert_string_equal(c.cn.subject, "Hi {{ name }}");
    assert_int_equal(c.cn.nlists, 1);
    in.subject = NULL;   /* the template's, checked by campaign_create */
    assert_int_equal(campaign_check(&in, &c, &why), 0);
}

static void test_campaign_check_refuses_each_field_in_the_shared_words(void **state)
{
    static const struct {
        const char *field, *value, *why_field, *why;
    } cases[] = {
        { "name", "", "name", "the campaign name must not be empty" },
        { "name", "caf\xe9", "name", "the campaign name must be valid UTF-8" },
        { "subject", "", "subject", "the subject must not be empty" },
        { "subject", "a\r\nBcc: x@example.com", "subject", "the subject must be one line" },
        { "subject", "caf\xe9", "subject", "the subject must be valid UTF-8" },
        { "subject", "Hi\x07 there", "subject", "the subject holds a control character" },
        { "name", "March\nApril", "name", "the campaign name holds a line break" },
        { "name", "March\x1b", "name", "the campaign name holds a control character" },
        { "from", "News\x01 <news@example.com>", "from", "invalid From \"News\": the name holds a control character" },
        { "from", "News\r\nBcc: x@example.com <news@example.com>", "from",
          "invalid From \"News\": the name holds a line break" },
        { "from", "\"News\tDesk\" <news@example.com>", "from",
          "invalid From \"\"News\": the name holds a tab" },
        { "from", "not an address", "from", "invalid From \"not an address\": contains spaces" },
        { "from", "", "from", "invalid From \"\": empty address" },
        { "reply_to", "@@", "reply_to", "invalid Reply-To \"@@\": more than one @" },
        { "lists", NULL, "lists", "a campaign needs at least one list" },
    };
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct campaign_input in = good();
        struct campaign_checked c;
        struct campaign_refusal why;
        if (strcmp(cases[i].field, "name") == 0)
            in.name = cases[i].value;
        else if (strcmp(cases[i].field, "subject") == 0)
            in.subject = cases[i].value;
        else if (strcmp(cases[i].field, "from") == 0)
            in.from = cases[i].value;
        else if (strcmp(cases[i].field, "reply_to") == 0)
            in.reply_to = cases[i].value;
        else
            in.nlists = 0;
        assert_int_equal(campaign_check(&in, &c, &why), STORE_ERR_INVALID);
        assert_int_equal(why.e.code, STORE_ERR_INVALID);
        assert_string_equal(why.field, cases[i].why_field);
        assert_string_equal(why.kind, "invalid_field");
        assert_string_equal(why.e.msg, cases[i].why);
    }
}

static void test_campaign_check_takes_one_body_html_or_markdown(void **state)
{
    struct campaign_input in = good();
    struct campaign_checked c;
    struct campaign_refusal why;
    (void)state;
    in.html = NULL;
    in.markdown = "# Hi {{ name }}";
    assert_int_equal(campaign_check(&in, &c, &why), 0);
    assert_null(c.cn.html);
    assert_string_equal(c.cn.markdown, "# Hi {{ name }}");
    in.html = "<p>x</p>";
    assert_int_equal(campaign_check(&in, &c, &why), STORE_ERR_INVALID);
    assert_string_equal(why.field, "markdown");
    assert_string_equal(why.kind, "invalid_field");
    assert_string_equal(why.e.msg, "give the body as html or as markdown, not both");
    in.html = in.markdown = NULL;
    assert_int_equal(campaign_check(&in, &c, &why), STORE_ERR_INVALID);
    assert_string_equal(why.field, "html");
    assert_string_equal(why.kind, "missing_field");
    assert_string_equal(why.e.msg, "the campaign needs a body: html or markdown");
}

static void test_campaign_check_quotes_a_long_from_in_part(void **state)
{
    char from[400];
    struct campaign_input in = good();
    struct campaign_checked c;
    struct campaign_refusal why;
    (void)state;
    memset(from, 'x', sizeof(from) - 1);
    from[sizeof(from) - 1] = 0;
    memcpy(from + 62, "\xc3\xa9", 2);   /* a two-byte character across the cut */
    in.from = from;
    assert_int_equal(campaign_check(&in, &c, &why), STORE_ERR_INVALID);
    assert_true(strlen(why.e.msg) < 200);
    assert_memory_equal(why.e.msg, "invalid From \"", 14);
    assert_int_equal(why.e.msg[14 + 62], '\xc3');
    assert_int_equal(why.e.msg[14 + 64], '"');   /* the whole character, then the quote */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_campaign_check_fills_the_normalised_from_and_reply_to),
        cmocka_unit_test(test_campaign_check_refuses_each_field_in_the_shared_words),
        cmocka_unit_test(test_campaign_check_takes_one_body_html_or_markdown),
        cmocka_unit_test(test_campaign_check_quotes_a_long_from_in_part),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
