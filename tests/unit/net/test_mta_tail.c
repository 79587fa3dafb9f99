/* test_mta_tail - a log file read from a saved position: partial lines, rotation, truncation. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "engine/net/mta_tail.h"
#include "engine/util/buf.h"

static char dir[] = "/tmp/test_mta_tail.XXXXXX";
static char path[256], rotated[256];

static void write_file(const char *p, const char *mode, const char *text)
{
    FILE *f = fopen(p, mode);
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

/* read once from *POS: the text read, and *POS moved on */
static int read_from(struct mta_pos *pos, struct buf *b)
{
    struct mta_pos next;
    char err[256];
    buf_reset(b);
    int rc = mta_tail_read(path, pos, 0, b, &next, err, sizeof(err));
    assert_true(rc >= 0);
    buf_cstr(b);
    *pos = next;
    return rc;
}

static int setup(void **state)
{
    (void)state;
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/mail.log", dir);
    snprintf(rotated, sizeof(rotated), "%s/mail.log.1", dir);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    unlink(path);
    unlink(rotated);
    rmdir(dir);
    return 0;
}

static void test_mta_tail_whole_lines_only(void **state)
{
    (void)state;
    struct mta_pos pos = { 0 };
    struct buf b = BUF_INIT;
    unlink(path);
    assert_int_equal(read_from(&pos, &b), 0);   /* no file yet */
    write_file(path, "w", "one\ntw");
    assert_int_equal(read_from(&pos, &b), 1);
    assert_string_equal(b.data, "one\n");
    assert_int_equal(pos.read_to, 4);
    assert_int_equal(strlen(pos.first_line), 64);
    assert_int_equal(read_from(&pos, &b), 0);   /* "tw" is still being written */
    write_file(path, "a", "o\nthree\n");
    assert_int_equal(read_from(&pos, &b), 1);
    assert_string_equal(b.data, "two\nthree\n");
    assert_int_equal(read_from(&pos, &b), 0);
    buf_free(&b);
}

static void test_mta_tail_rotation_finishes_the_old_file(void **state)
{
    (void)state;
    struct mta_pos pos = { 0 };
    struct buf b = BUF_INIT;
    write_file(path, "w", "a1\na2\n");
    assert_int_equal(read_from(&pos, &b), 1);
    write_file(path, "a", "a3\n");                 /* written, not read yet, */
    assert_int_equal(rename(path, rotated), 0);    /* then rotated */
    write_file(path, "w", "b1\n");
    assert_int_equal(read_from(&pos, &b), 1);
    assert_string_equal(b.data, "a3\n");
    assert_int_equal(read_from(&pos, &b), 1);
    assert_string_equal(b.data, "b1\n");
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(pos.inode, (long long)st.st_ino);
    assert_int_equal(pos.read_to, 3);
    assert_int_equal(read_from(&pos, &b), 0);
    /* rotated again, with nothing left in the old file: the new one from its start */
    assert_int_equal(rename(path, rotated), 0);
    write_file(path, "w", "c1\n");
    assert_int_equal(read_from(&pos, &b), 1);
    assert_string_equal(b.data, "c1\n");
    buf_free(&b);
}

static void test_mta_tail_truncated_or_replaced_reads_again(void **state)
{
    (void)state;
    struct mta_pos pos = { 0 };
    struct buf b = BUF_INIT;
    unlink(rotated);
    write_file(path, "w", "first line\nsecond line\n");
    assert_int_equal(read_from(&pos, &b), 1);
    write_file(path, "w", "new\n");   /* truncated in place (copytruncate): shorter */
    assert_int_equal(read_from(&pos, &b), 1);
    assert_string_equal(b.data, "new\n");
    write_file(path, "w", "other first\nand more than before\n");   /* same inode, longer, another first line */
    assert_int_equal(read_from(&pos, &b), 1);
    assert_string_equal(b.data, "other first\nand more than before\n");
    buf_free(&b);
}

static void test_mta_tail_skips_a_line_over_the_limit(void **state)
{
    (void)state;
    struct mta_pos pos = { 0 };
    struct buf b = BUF_INIT;
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("short\n", f);
    for (unsigned i = 0; i < 3 * MTA_TAIL_LINE_MAX; i++)
        fputc('x', f);
    fputs("\nafter\n", f);
    fclose(f);
    assert_int_equal(read_from(&pos, &b), 1);
    assert_string_equal(b.data, "short\n");
    assert_int_equal(read_from(&pos, &b), 1);   /* the long line: skipped */
    assert_int_equal(b.len, 0);
    assert_int_equal(pos.read_to, 6 + 3 * MTA_TAIL_LINE_MAX + 1);
    assert_int_equal(read_from(&pos, &b), 1);
    assert_string_equal(b.data, "after\n");
    buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mta_tail_whole_lines_only),
        cmocka_unit_test(test_mta_tail_rotation_finishes_the_old_file),
        cmocka_unit_test(test_mta_tail_truncated_or_replaced_reads_again),
        cmocka_unit_test(test_mta_tail_skips_a_line_over_the_limit),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
