/*
 * test_bounce_corpus - every message of tests/data/bounces/expected.tsv (real
 * formats of many MTAs and providers) read and classified as postino does:
 * dsn_parse, then dsn_verdict with the bounce rules sql/028_bounce_formats.sql
 * ships (read from that file, matched as POSIX extended expressions ignoring
 * case, as PostgreSQL's ~* matches them). Each line's class, status and
 * recipient must agree; the agreement is printed, and any disagreement fails.
 */
#include <regex.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "engine/mail/classify.h"
#include "engine/mail/dsn.h"
#include "engine/util/buf.h"
#include "engine/util/file.h"

#define DATA "tests/data/bounces/"
#define RULES_SQL "sql/028_bounce_formats.sql"
#define MAX_RULES 64

struct rule {
    int position;
    regex_t re;
    enum bounce_class cls;
    bool beats_code;
};

static struct rule rules[MAX_RULES];
static size_t nrules;

/* one SQL string literal at *P ('...' with '' for a quote) into OUT; false when there is none */
static bool sql_string(const char **p, struct buf *out)
{
    const char *s = *p + strspn(*p, " \t\n,");
    if (*s != '\'')
        return false;
    buf_reset(out);
    for (s++; *s; s++) {
        if (*s == '\'' && s[1] == '\'') {
            buf_appendc(out, '\'');
            s++;
        } else if (*s == '\'') {
            break;
        } else {
            buf_appendc(out, *s);
        }
    }
    buf_cstr(out);
    *p = *s ? s + 1 : s;
    return true;
}

/* the rules the migration inserts, in their order */
static void load_rules(void)
{
    char err[256];
    struct buf sql = BUF_INIT, pat = BUF_INIT, cls = BUF_INIT, desc = BUF_INIT;
    assert_int_equal(file_read(RULES_SQL, 1 << 20, &sql, err, sizeof(err)), 0);
    const char *p = strstr(buf_cstr(&sql), "INSERT INTO bounce_rules (position, pattern, class, beats_code, description)");
    assert_non_null(p);
    p = strstr(p, "VALUES");
    assert_non_null(p);
    p += 6;
    for (;;) {
        p += strspn(p, " \t\n,");
        if (*p != '(')
            break;
        char *end;
        long pos = strtol(p + 1, &end, 10);
        p = end;
        assert_true(sql_string(&p, &pat));
        assert_true(sql_string(&p, &cls));
        p += strspn(p, " \t\n,");
        bool beats = strncmp(p, "true", 4) == 0;
        assert_true(beats || strncmp(p, "false", 5) == 0);
        p += beats ? 4 : 5;
        assert_true(sql_string(&p, &desc));
        p = strchr(p, ')');
        assert_non_null(p);
        p++;
        assert_true(nrules < MAX_RULES);
        struct rule *r = &rules[nrules++];
        r->position = (int)pos;
        r->cls = bounce_class_parse(cls.data);
        r->beats_code = beats;
        assert_true(r->cls != BOUNCE_NONE);
        int rc = regcomp(&r->re, pat.data, REG_EXTENDED | REG_ICASE | REG_NOSUB);
        if (rc != 0)
            fail_msg("rule %ld does not compile as POSIX ERE: %s", pos, pat.data);
    }
    assert_true(nrules >= 5);
    for (size_t i = 1; i < nrules; i++)
        assert_true(rules[i - 1].position < rules[i].position);   /* written in the order they apply */
    buf_free(&sql);
    buf_free(&pat);
    buf_free(&cls);
    buf_free(&desc);
}

static int rule_cb(void *arg, const char *text, struct dsn_rule_hit *hit)
{
    (void)arg;
    memset(hit, 0, sizeof(*hit));
    for (size_t i = 0; text && *text && i < nrules; i++)
        if (regexec(&rules[i].re, text, 0, NULL, 0) == 0) {
            hit->cls = rules[i].cls;
            hit->beats_code = rules[i].beats_code;
            snprintf(hit->id, sizeof(hit->id), "%d", rules[i].position);
            return 0;
        }
    return 0;
}

static const char *class_of(const struct dsn_verdict *v)
{
    return v->cls == BOUNCE_NONE ? "none" : bounce_class_name(v->cls);
}

static void test_bounce_corpus_agrees(void **state)
{
    (void)state;
    char err[256];
    struct buf list = BUF_INIT;
    load_rules();
    assert_int_equal(file_read(DATA "expected.tsv", 1 << 20, &list, err, sizeof(err)), 0);
    size_t total = 0, agree_cls = 0, agree_status = 0, agree_rcpt = 0, all = 0;
    size_t hard_wrong = 0;   /* a full mailbox, a delay or a sender-side refusal classed hard */
    char *save = NULL;
    for (char *line = strtok_r(list.data, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        if (line[0] == '#' || !line[0])
            continue;
        char *f[5] = { 0 };
        char *s2 = NULL;
        size_t nf = 0;
        for (char *t = strtok_r(line, "\t", &s2); t && nf < 5; t = strtok_r(NULL, "\t", &s2))
            f[nf++] = t;
        assert_true(nf >= 4);
        const char *want_status = strcmp(f[2], "-") == 0 ? "" : f[2];
        const char *want_rcpt = strcmp(f[3], "-") == 0 ? "" : f[3];
        char path[512];
        struct buf msg = BUF_INIT;
        snprintf(path, sizeof(path), DATA "%s", f[0]);
        if (file_read(path, 1 << 22, &msg, err, sizeof(err)) != 0)
            fail_msg("%s: %s", path, err);
        struct dsn_report *r = calloc(1, sizeof(*r));
        struct dsn_verdict v;
        assert_non_null(r);
        assert_int_equal(dsn_parse(msg.data, msg.len, r), 0);
        assert_int_equal(dsn_verdict(r, rule_cb, NULL, &v), 0);
        bool c = strcmp(class_of(&v), f[1]) == 0, st = strcmp(v.status, want_status) == 0,
             rc = strcasecmp(v.recipient, want_rcpt) == 0;
        total++;
        agree_cls += c;
        agree_status += st;
        agree_rcpt += rc;
        all += c && st && rc;
        if (v.cls == BOUNCE_HARD && strcmp(f[1], "hard") != 0)
            hard_wrong++;
        if (!(c && st && rc))
            print_message("DISAGREE %s: class %s (want %s), status '%s' (want '%s'), recipient '%s' (want '%s'); "
                          "kind %s, rule %s, words: %.160s\n",
                          f[0], class_of(&v), f[1], v.status, want_status, v.recipient, want_rcpt,
                          dsn_kind_name(r->kind), v.rule.id[0] ? v.rule.id : "-", v.diagnostic);
        free(r);
        buf_free(&msg);
    }
    print_message("bounce corpus: %zu messages; class agrees on %zu, status on %zu, recipient on %zu, all three on %zu; "
                  "classed hard but not hard: %zu\n",
                  total, agree_cls, agree_status, agree_rcpt, all, hard_wrong);
    for (size_t i = 0; i < nrules; i++)
        regfree(&rules[i].re);
    nrules = 0;
    buf_free(&list);
    assert_true(total >= 80);
    assert_int_equal(hard_wrong, 0);
    assert_int_equal(all, total);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bounce_corpus_agrees),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
