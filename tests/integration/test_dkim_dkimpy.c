/*
 * test_dkim_dkimpy - postino's DKIM signatures checked by an independent
 * verifier: dkimpy, through tests/integration/dkim_verify.py, with the DNS
 * answered from the zone lines postino prints for its keys.
 *
 * Fresh RSA-2048 and Ed25519 keys sign a set of awkward messages under each
 * canonicalization pair, alone and as dual signatures; tampered copies must
 * fail. The verifier is found through POSTINO_DKIM_VERIFY, or by walking up
 * from the working directory and from the program's own directory to the
 * source tree. POSTINO_TEST_DB is not used.
 */
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "engine/util/alloc.h"
#include "engine/util/buf.h"

#include "engine/mail/dkim.h"

#define PYTHON "/usr/bin/python3"
#define DOMAIN "example.com"

enum { MODE_RR, MODE_SS, MODE_RS, MODE_SR, NMODES };
static const enum dkim_canon mode_canon[NMODES][2] = {
    { DKIM_CANON_RELAXED, DKIM_CANON_RELAXED },
    { DKIM_CANON_SIMPLE, DKIM_CANON_SIMPLE },
    { DKIM_CANON_RELAXED, DKIM_CANON_SIMPLE },
    { DKIM_CANON_SIMPLE, DKIM_CANON_RELAXED },
};

static struct {
    char dir[64];
    char records[128];
    char verifier[PATH_MAX];
    struct dkim_signer *rsa[NMODES], *ed[NMODES];
    int nfile;
} T;

/* ---- setup ---- */

static int file_exists(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

/* Walk up from DIR looking for tests/integration/dkim_verify.py. */
static int find_upwards(const char *dir, char *out, size_t outlen)
{
    char cur[PATH_MAX];
    if (!realpath(dir, cur))
        return -1;
    for (int depth = 0; depth < 8; depth++) {
        int n = snprintf(out, outlen, "%s/tests/integration/dkim_verify.py", cur);
        if (n > 0 && (size_t)n < outlen && file_exists(out))
            return 0;
        char *slash = strrchr(cur, '/');
        if (!slash || slash == cur)
            break;
        *slash = 0;
    }
    return -1;
}

static int find_verifier(void)
{
    const char *env = getenv("POSTINO_DKIM_VERIFY");
    if (env && *env) {
        snprintf(T.verifier, sizeof(T.verifier), "%s", env);
        return file_exists(T.verifier) ? 0 : -1;
    }
    if (find_upwards(".", T.verifier, sizeof(T.verifier)) == 0)
        return 0;
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    if (n <= 0)
        return -1;
    exe[n] = 0;
    *strrchr(exe, '/') = 0;
    return find_upwards(exe, T.verifier, sizeof(T.verifier));
}

static void write_file(const char *path, const char *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        fail_msg("cannot write %s: %s", path, strerror(errno));
    assert_int_equal(fwrite(data, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
}

/* A new key: checks that generate and load agree on p=, adds its zone line to ZONE. */
static char *new_key(enum dkim_alg alg, const char *selector, struct buf *zone)
{
    char *pem = NULL, *pub = NULL, *err = NULL;
    const char *why = NULL;
    if (dkim_key_generate(alg, 0, &pem, &pub, &why) != 0)
        fail_msg("key generation: %s", why);
    struct dkim_key *key = dkim_key_load(pem, strlen(pem), selector, DOMAIN, &err);
    if (!key)
        fail_msg("%s", err);
    struct buf p = BUF_INIT, txt = BUF_INIT, line = BUF_INIT;
    assert_int_equal(dkim_key_public(key, &p), 0);
    assert_string_equal(p.data, pub);
    dkim_txt_record(&txt, alg, p.data);
    dkim_zone_line(&line, selector, DOMAIN, txt.data);
    buf_appendf(zone, "%s  \"", zone->len > 2 ? ",\n" : ""); /* after "[\\n" */
    for (const char *c = line.data; *c; c++) { /* as a JSON string */
        if (*c == '"' || *c == '\\')
            buf_appendc(zone, '\\');
        buf_appendc(zone, *c);
    }
    buf_appendc(zone, '"');
    printf("# %s\n", line.data);
    dkim_key_free(key);
    buf_free(&p);
    buf_free(&txt);
    buf_free(&line);
    xfree(pub);
    return pem;
}

static struct dkim_signer *signer(const char *pem, const char *selector, int mode)
{
    char *err = NULL;
    struct dkim_key *key = dkim_key_load(pem, strlen(pem), selector, DOMAIN, &err);
    if (!key)
        fail_msg("%s", err);
    struct dkim_signer *s = dkim_signer_new(DOMAIN, selector, key);
    assert_non_null(s);
    dkim_signer_set_canon(s, mode_canon[mode][0], mode_canon[mode][1]);
    return s;
}

static int setup(void **state)
{
    (void)state;
    if (find_verifier() != 0) {
        fprintf(stderr, "dkim_verify.py not found (set POSTINO_DKIM_VERIFY)\n");
        return -1;
    }
    snprintf(T.dir, sizeof(T.dir), "/tmp/postino-dkim-XXXXXX");
    if (!mkdtemp(T.dir))
        return -1;
    snprintf(T.records, sizeof(T.records), "%s/records.json", T.dir);
    struct buf zone = BUF_INIT;
    buf_appends(&zone, "[\n");
    char *rsa_pem = new_key(DKIM_RSA_SHA256, "rsa2026", &zone);
    char *ed_pem = new_key(DKIM_ED25519_SHA256, "ed2026", &zone);
    buf_appends(&zone, "\n]\n");
    write_file(T.records, zone.data, zone.len);
    for (int m = 0; m < NMODES; m++) {
        T.rsa[m] = signer(rsa_pem, "rsa2026", m);
        T.ed[m] = signer(ed_pem, "ed2026", m);
    }
    dkim_secret_free(rsa_pem);
    dkim_secret_free(ed_pem);
    buf_free(&zone);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char path[128];
    for (int m = 0; m < NMODES; m++) {
        dkim_signer_free(T.rsa[m]);
        dkim_signer_free(T.ed[m]);
    }
    for (int i = 0; i < T.nfile; i++) {
        snprintf(path, sizeof(path), "%s/msg-%d.eml", T.dir, i);
        unlink(path);
    }
    unlink(T.records);
    rmdir(T.dir);
    dkim_thread_cleanup();
    return 0;
}

/* ---- signing and verifying ---- */

enum { RSA = 1, ED = 2, BOTH = 3 };

/* MSG signed by the signers in WHICH (RSA first, Ed25519 on top), as it goes out. */
static void sign(struct buf *out, const char *msg, size_t len, int which, int mode)
{
    long long now = (long long)time(NULL);
    buf_reset(out);
    if (which & RSA)
        assert_int_equal(dkim_sign(T.rsa[mode], msg, len, now, out), 0);
    if (which & ED)
        assert_int_equal(dkim_sign(T.ed[mode], msg, len, now, out), 0);
    buf_append(out, msg, len);
}

/* Messages waiting for one run of the verifier (python and dkimpy take long to start). */
struct batch {
    char *path[NMODES * 2];
    int n;
};

static void batch_add(struct batch *b, const char *msg, size_t len)
{
    char path[128];
    assert_true(b->n < NMODES * 2);
    snprintf(path, sizeof(path), "%s/msg-%d.eml", T.dir, T.nfile++);
    write_file(path, msg, len);
    b->path[b->n++] = xstrdup(path);
}

/* Run the verifier on the messages of B, each expected to carry NSIG signatures; its exit status. */
static int batch_run(struct batch *b, int nsig)
{
    char expect[16];
    const char *argv[NMODES * 2 + 8];
    int argc = 0;
    snprintf(expect, sizeof(expect), "%d", nsig);
    argv[argc++] = PYTHON;
    argv[argc++] = T.verifier;
    argv[argc++] = T.records;
    for (int i = 0; i < b->n; i++)
        argv[argc++] = b->path[i];
    argv[argc++] = "--expect";
    argv[argc++] = expect;
    argv[argc] = NULL;
    fflush(stdout);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        execv(PYTHON, (char *const *)argv);
        _exit(127);
    }
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    for (int i = 0; i < b->n; i++)
        xfree(b->path[i]);
    b->n = 0;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

/* Run the verifier on MSG alone. */
static int verify(const char *msg, size_t len, int nsig)
{
    struct batch b = { .n = 0 };
    batch_add(&b, msg, len);
    return batch_run(&b, nsig);
}

/* MSG signed by WHICH under each canonicalization pair must verify. */
static void assert_verifies(const char *msg, size_t len, int which, const char *what)
{
    struct buf out = BUF_INIT;
    struct batch b = { .n = 0 };
    for (int m = 0; m < NMODES; m++) {
        sign(&out, msg, len, which, m);
        batch_add(&b, out.data, out.len);
    }
    printf("# %s, in the modes relaxed/relaxed, simple/simple, relaxed/simple, simple/relaxed\n", what);
    int rc = batch_run(&b, which == BOTH ? 2 : 1);
    if (rc != 0)
        fail_msg("%s: the verifier exited %d", what, rc);
    buf_free(&out);
}

static const char header[] =
    "From: \"Postino News\" <news@example.com>\r\n"
    "To: alice@example.org\r\n"
    "Subject: Weekly news\r\n"
    "Date: Sat, 28 Nov 2026 08:00:00 +0000\r\n"
    "Message-ID: <w48.1@example.com>\r\n"
    "MIME-Version: 1.0\r\n"
    "Content-Type: text/plain; charset=utf-8\r\n"
    "List-Unsubscribe: <https://example.com/u/t0k3n>\r\n"
    "List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n"
    "List-Id: Weekly <weekly.example.com>\r\n"
    "X-Mailer: postino\r\n";

/* A message of the standard header and BODY (NULL: no blank line, no body). */
static void message(struct buf *m, const char *extra_header, const char *body)
{
    buf_reset(m);
    buf_appends(m, header);
    if (extra_header)
        buf_appends(m, extra_header);
    if (body) {
        buf_appends(m, "\r\n");
        buf_appends(m, body);
    }
}

/* ---- the cases ---- */

static void test_dkimpy_folded_and_utf8_headers(void **state)
{
    (void)state;
    struct buf m = BUF_INIT;
    buf_appends(&m,
                "From: =?UTF-8?Q?Caf=C3=A9?= <cafe@example.com>\r\n"
                "To: \"J\xc3\xbcrgen M\xc3\xbcller\" <juergen@example.org>,\r\n"
                "\t\"Zo\xc3\xab\"  <zoe@example.org>\r\n"
                "Subject: Gr\xc3\xbc\xc3\x9f""e aus M\xc3\xbcnchen \xe2\x82\xac  and a subject long enough\r\n"
                "   to be folded   \r\n"
                "Date: Sat, 28 Nov 2026 08:00:00 +0000\r\n"
                "Message-ID: <utf8.1@example.com>\r\n"
                "Reply-To: support@example.com\r\n"
                "MIME-Version: 1.0\r\n"
                "Content-Type: text/plain;\r\n charset=utf-8\r\n"
                "\r\n"
                "K\xc3\xa4se und Br\xc3\xb6tchen.\r\n");
    assert_verifies(m.data, m.len, BOTH, "folded and UTF-8 header fields");
    buf_free(&m);
}

/* Repeated signed fields are selected bottom-up (RFC 6376 5.4.2), as dkimpy does. */
static void test_dkimpy_repeated_fields(void **state)
{
    (void)state;
    struct buf m = BUF_INIT;
    message(&m, "To: second@example.org\r\nReply-To: r1@example.com\r\nReply-To: r2@example.com\r\n",
            "Two To fields, two Reply-To fields.\r\n");
    assert_verifies(m.data, m.len, BOTH, "repeated To and Reply-To");
    buf_free(&m);
}

static void test_dkimpy_trailing_whitespace(void **state)
{
    (void)state;
    struct buf m = BUF_INIT;
    message(&m, NULL, "Line with spaces   \r\n\tTabbed\t \t\r\n  \r\nmid  dle\r\n \r\n\r\n");
    assert_verifies(m.data, m.len, BOTH, "trailing whitespace on body lines");
    buf_free(&m);
}

static void test_dkimpy_empty_body(void **state)
{
    (void)state;
    struct buf m = BUF_INIT;
    message(&m, NULL, "");
    assert_verifies(m.data, m.len, BOTH, "empty body");
    buf_free(&m);
}

static void test_dkimpy_body_without_final_crlf(void **state)
{
    (void)state;
    struct buf m = BUF_INIT;
    message(&m, NULL, "First line\r\n\r\nlast line, no CRLF");
    assert_verifies(m.data, m.len, BOTH, "body without final CRLF");
    /* With trailing blanks on that last line, the verifier sees what SMTP carries: CRLF added. */
    struct buf out = BUF_INIT;
    struct batch b = { .n = 0 };
    message(&m, NULL, "First line\r\nlast line  \t");
    for (int mode = 0; mode < NMODES; mode++) {
        sign(&out, m.data, m.len, BOTH, mode);
        buf_appends(&out, "\r\n");
        batch_add(&b, out.data, out.len);
    }
    assert_int_equal(batch_run(&b, 2), 0);
    buf_free(&out);
    buf_free(&m);
}

static void test_dkimpy_dot_and_from_lines(void **state)
{
    (void)state;
    struct buf m = BUF_INIT;
    message(&m, NULL, ".\r\n..two dots\r\n.leading dot\r\nFrom the editor\r\n>From quoted\r\nFrom \r\n.\r\n");
    assert_verifies(m.data, m.len, BOTH, "lines starting with . and From");
    buf_free(&m);
}

static void test_dkimpy_998_octet_lines(void **state)
{
    (void)state;
    struct buf m = BUF_INIT, body = BUF_INIT, subject = BUF_INIT;
    for (int i = 0; i < 998; i++)
        buf_appendc(&body, (char)('A' + i % 26));
    buf_appends(&body, "\r\n");
    for (int i = 0; i < 996; i++)
        buf_appendc(&body, i % 7 == 6 ? ' ' : 'x');
    buf_appends(&body, "  \r\n");
    buf_appends(&subject, "Reply-To: ");
    while (subject.len < 998)
        buf_appendc(&subject, subject.len % 9 ? 'r' : ' ');
    buf_appends(&subject, "\r\n");
    message(&m, subject.data, body.data);
    assert_verifies(m.data, m.len, BOTH, "998-octet lines");
    buf_free(&subject);
    buf_free(&body);
    buf_free(&m);
}

static void test_dkimpy_multipart_alternative(void **state)
{
    (void)state;
    static const char msg[] =
        "From: news@example.com\r\n"
        "To: bob@example.org\r\n"
        "Subject: Both kinds\r\n"
        "Date: Sat, 28 Nov 2026 08:00:00 +0000\r\n"
        "Message-ID: <mp.1@example.com>\r\n"
        "MIME-Version: 1.0\r\n"
        "Content-Type: multipart/alternative;\r\n"
        " boundary=\"=_postino_b1\"\r\n"
        "\r\n"
        "This is a multi-part message in MIME format.\r\n"
        "\r\n"
        "--=_postino_b1\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n"
        "Content-Transfer-Encoding: quoted-printable\r\n"
        "\r\n"
        "Gr=C3=BC=C3=9Fe, Bob! =\r\n"
        "Soft break.\r\n"
        "\r\n"
        "--=_postino_b1\r\n"
        "Content-Type: text/html; charset=utf-8\r\n"
        "Content-Transfer-Encoding: base64\r\n"
        "\r\n"
        "PGh0bWw+PGJvZHk+PHA+R3LDvMOfZSwgQm9iITwvcD48L2JvZHk+PC9odG1sPg==\r\n"
        "\r\n"
        "--=_postino_b1--\r\n";
    assert_verifies(msg, strlen(msg), BOTH, "multipart/alternative");
}

static void test_dkimpy_each_algorithm_alone(void **state)
{
    (void)state;
    struct buf m = BUF_INIT;
    message(&m, NULL, "Just one signature.\r\n");
    assert_verifies(m.data, m.len, RSA, "rsa-sha256 alone");
    assert_verifies(m.data, m.len, ED, "ed25519-sha256 alone");
    buf_free(&m);
}

static void test_dkimpy_dual_signatures(void **state)
{
    (void)state;
    struct buf m = BUF_INIT, out = BUF_INIT;
    message(&m, NULL, "Signed twice, by two keys of one domain.\r\n");
    assert_verifies(m.data, m.len, BOTH, "dual signatures");
    /* a message may carry signatures made with different canonicalizations */
    long long now = (long long)time(NULL);
    assert_int_equal(dkim_sign(T.rsa[MODE_SS], m.data, m.len, now, &out), 0);
    assert_int_equal(dkim_sign(T.ed[MODE_RR], m.data, m.len, now, &out), 0);
    buf_append(&out, m.data, m.len);
    assert_int_equal(verify(out.data, out.len, 2), 0);
    buf_free(&out);
    buf_free(&m);
}

/* Copy of the signed message S with the first NEEDLE replaced by REPL. */
static void tamper(struct buf *t, const struct buf *s, const char *needle, const char *repl)
{
    const char *at = strstr(s->data, needle);
    assert_non_null(at);
    buf_reset(t);
    buf_append(t, s->data, (size_t)(at - s->data));
    buf_appends(t, repl);
    buf_appends(t, at + strlen(needle));
}

static void test_dkimpy_tampered_messages_fail(void **state)
{
    (void)state;
    struct buf m = BUF_INIT, s = BUF_INIT, t = BUF_INIT;
    message(&m, NULL, "Pay 100 EUR to the club.\r\nThanks.\r\n");
    static const int modes[] = { MODE_RR, MODE_SS };
    for (int i = 0; i < 2; i++) {
        for (int which = RSA; which <= ED; which++) {
            struct batch b = { .n = 0 };
            sign(&s, m.data, m.len, which, modes[i]);
            batch_add(&b, s.data, s.len);
            tamper(&t, &s, "X-Mailer: postino", "X-Mailer: changed"); /* not signed */
            batch_add(&b, t.data, t.len);
            assert_int_equal(batch_run(&b, 1), 0);
            tamper(&t, &s, "100 EUR", "900 EUR"); /* one body octet */
            assert_int_equal(verify(t.data, t.len, 1), 1);
            tamper(&t, &s, "Subject: Weekly news", "Subject: Weekly newt");
            assert_int_equal(verify(t.data, t.len, 1), 1);
            tamper(&t, &s, "From: \"Postino", "From: evil@example.net\r\nFrom: \"Postino"); /* oversigned */
            assert_int_equal(verify(t.data, t.len, 1), 1);
        }
    }
    /* whitespace inside a line: relaxed body tolerates it, simple does not */
    sign(&s, m.data, m.len, ED, MODE_RR);
    tamper(&t, &s, "Pay 100", "Pay   100");
    assert_int_equal(verify(t.data, t.len, 1), 0);
    sign(&s, m.data, m.len, ED, MODE_SS);
    tamper(&t, &s, "Pay 100", "Pay   100");
    assert_int_equal(verify(t.data, t.len, 1), 1);
    /* in a dual-signed message, one bad signature fails the whole check */
    sign(&s, m.data, m.len, BOTH, MODE_RR);
    tamper(&t, &s, "a=ed25519-sha256;", "a=ed25519-sha256; ");
    size_t at = (size_t)(strstr(t.data, " b=") - t.data); /* the RSA field comes first */
    t.data[at + 10] = t.data[at + 10] == 'A' ? 'B' : 'A';
    assert_int_equal(verify(t.data, t.len, 2), 1);
    buf_free(&t);
    buf_free(&s);
    buf_free(&m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dkimpy_folded_and_utf8_headers),
        cmocka_unit_test(test_dkimpy_repeated_fields),
        cmocka_unit_test(test_dkimpy_trailing_whitespace),
        cmocka_unit_test(test_dkimpy_empty_body),
        cmocka_unit_test(test_dkimpy_body_without_final_crlf),
        cmocka_unit_test(test_dkimpy_dot_and_from_lines),
        cmocka_unit_test(test_dkimpy_998_octet_lines),
        cmocka_unit_test(test_dkimpy_multipart_alternative),
        cmocka_unit_test(test_dkimpy_each_algorithm_alone),
        cmocka_unit_test(test_dkimpy_dual_signatures),
        cmocka_unit_test(test_dkimpy_tampered_messages_fail),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
