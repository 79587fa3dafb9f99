/*
 * test_dkim - DKIM canonicalization (RFC 6376 3.4.6), the RFC 8463 Appendix A
 * signatures reproduced exactly, keys, DNS records, h= selection, folding,
 * dual signatures and concurrent use of one signer.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "engine/util/alloc.h"
#include "engine/util/base64.h"
#include "engine/util/buf.h"

#include "engine/mail/dkim.h"

/* ---- RFC 6376 3.4.6: the canonicalization example ---- */

/*
 *   A: <SP> X <CRLF>
 *   B <SP> : <SP> Y <HTAB><CRLF>
 *   <HTAB> Z <SP><SP><CRLF>
 *   <CRLF>
 *   <SP> C <SP><CRLF>
 *   D <SP><HTAB><SP> E <CRLF>
 *   <CRLF>
 *   <CRLF>
 */
static const char rfc6376_field_a[] = "A: X\r\n";
static const char rfc6376_field_b[] = "B : Y\t\r\n\tZ  \r\n";
static const char rfc6376_body[] = " C \r\nD \t E\r\n\r\n\r\n";

static void test_dkim_relaxed_header_rfc6376_example(void **state)
{
    (void)state;
    struct buf b = BUF_INIT;
    dkim_canon_header(&b, DKIM_CANON_RELAXED, rfc6376_field_a, strlen(rfc6376_field_a));
    dkim_canon_header(&b, DKIM_CANON_RELAXED, rfc6376_field_b, strlen(rfc6376_field_b));
    assert_string_equal(buf_cstr(&b), "a:X\r\nb:Y Z\r\n");
    buf_free(&b);
}

static void test_dkim_simple_header_rfc6376_example(void **state)
{
    (void)state;
    struct buf b = BUF_INIT;
    dkim_canon_header(&b, DKIM_CANON_SIMPLE, rfc6376_field_a, strlen(rfc6376_field_a));
    dkim_canon_header(&b, DKIM_CANON_SIMPLE, rfc6376_field_b, strlen(rfc6376_field_b));
    assert_string_equal(buf_cstr(&b), "A: X\r\nB : Y\t\r\n\tZ  \r\n");
    buf_free(&b);
}

static void test_dkim_relaxed_body_rfc6376_example(void **state)
{
    (void)state;
    struct buf b = BUF_INIT;
    dkim_canon_body(&b, DKIM_CANON_RELAXED, rfc6376_body, strlen(rfc6376_body));
    assert_string_equal(buf_cstr(&b), " C\r\nD E\r\n");
    buf_free(&b);
}

static void test_dkim_simple_body_rfc6376_example(void **state)
{
    (void)state;
    struct buf b = BUF_INIT;
    dkim_canon_body(&b, DKIM_CANON_SIMPLE, rfc6376_body, strlen(rfc6376_body));
    assert_string_equal(buf_cstr(&b), " C \r\nD \t E\r\n");
    buf_free(&b);
}

static void test_dkim_body_edge_cases(void **state)
{
    (void)state;
    static const struct { const char *in, *relaxed, *simple; } cases[] = {
        { "", "", "\r\n" },
        { "\r\n", "", "\r\n" },
        { "\r\n\r\n \r\n", "", "\r\n\r\n \r\n" },
        { "no final crlf", "no final crlf\r\n", "no final crlf\r\n" },
        { "a\r\nlast  \t", "a\r\nlast\r\n", "a\r\nlast  \t\r\n" },
        { "x\r\n\r\n\r\n", "x\r\n", "x\r\n" },
        { "\tlead  in\t\tside \r\n", " lead in side\r\n", "\tlead  in\t\tside \r\n" },
        { ".dot\r\nFrom me\r\n", ".dot\r\nFrom me\r\n", ".dot\r\nFrom me\r\n" },
        { "one space kept\r\n", "one space kept\r\n", "one space kept\r\n" },
        { "Gr\xc3\xbc\xc3\x9f""e  \xe2\x82\xac \r\n", "Gr\xc3\xbc\xc3\x9f""e \xe2\x82\xac\r\n",
          "Gr\xc3\xbc\xc3\x9f""e  \xe2\x82\xac \r\n" },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct buf r = BUF_INIT, s = BUF_INIT;
        dkim_canon_body(&r, DKIM_CANON_RELAXED, cases[i].in, strlen(cases[i].in));
        dkim_canon_body(&s, DKIM_CANON_SIMPLE, cases[i].in, strlen(cases[i].in));
        assert_string_equal(buf_cstr(&r), cases[i].relaxed);
        assert_string_equal(buf_cstr(&s), cases[i].simple);
        buf_free(&r);
        buf_free(&s);
    }
}

/* RFC 6376 3.4.4 read literally, line by line: the reference for the fast scan below. */
static void relaxed_body_reference(struct buf *out, const char *in, size_t len)
{
    struct buf lines = BUF_INIT;
    size_t i = 0;
    while (i < len) {
        const char *e = memmem(in + i, len - i, "\r\n", 2);
        size_t n = e ? (size_t)(e - (in + i)) : len - i;
        size_t start = lines.len;
        for (size_t k = 0; k < n; k++) {
            char c = in[i + k];
            if (c == ' ' || c == '\t') {
                if (lines.len == start || lines.data[lines.len - 1] != ' ')
                    buf_appendc(&lines, ' ');
            } else {
                buf_appendc(&lines, c);
            }
        }
        if (lines.len > start && lines.data[lines.len - 1] == ' ')
            buf_truncate(&lines, lines.len - 1);
        buf_append(&lines, "\r\n", 2);
        i += n + (e ? 2 : 0);
    }
    /* empty lines at the end go: the body is then "" or ends with a line that has text */
    while (lines.len == 2 || (lines.len >= 4 && memcmp(lines.data + lines.len - 4, "\r\n\r\n", 4) == 0))
        buf_truncate(&lines, lines.len - 2);
    buf_append(out, lines.data ? lines.data : "", lines.len);
    buf_free(&lines);
}

/*
 * Relaxed body canonicalization of 20,000 pseudo-random bodies (text, SP, TAB
 * and CRLF in runs, up to 300 octets, so whitespace falls on every offset of
 * the 16- and 8-octet scans) equals the line-by-line reference exactly.
 */
static void test_dkim_relaxed_body_matches_reference(void **state)
{
    (void)state;
    static const char *const pieces[] = { "a", "bc", "defghijklmnopqrstu", " ", "  ", "\t", " \t ", "\r\n", "\r\n\r\n",
                                          "x y", "0123456789abcdef" };
    uint32_t seed = 12345;
    struct buf in = BUF_INIT, got = BUF_INIT, want = BUF_INIT;
    for (int t = 0; t < 20000; t++) {
        buf_reset(&in);
        seed = seed * 1103515245u + 12345u;
        size_t target = (seed >> 8) % 300;
        while (in.len < target) {
            seed = seed * 1103515245u + 12345u;
            buf_appends(&in, pieces[(seed >> 16) % (sizeof(pieces) / sizeof(pieces[0]))]);
        }
        if (t % 2)
            buf_append(&in, "\r\n", 2);
        buf_reset(&got);
        buf_reset(&want);
        dkim_canon_body(&got, DKIM_CANON_RELAXED, in.data ? in.data : "", in.len);
        relaxed_body_reference(&want, in.data ? in.data : "", in.len);
        assert_int_equal(got.len, want.len);
        assert_memory_equal(got.data ? got.data : "", want.data ? want.data : "", got.len);
    }
    buf_free(&in);
    buf_free(&got);
    buf_free(&want);
}

/* RFC 6376 3.4.2 read literally: the reference for the run-copying canonicalization. */
static void relaxed_header_reference(struct buf *out, const char *in, size_t len)
{
    if (len >= 2 && in[len - 2] == '\r' && in[len - 1] == '\n')
        len -= 2;
    const char *colon = memchr(in, ':', len);
    size_t n = (size_t)(colon - in), ne = n;
    while (ne > 0 && (in[ne - 1] == ' ' || in[ne - 1] == '\t'))
        ne--;
    for (size_t k = 0; k < ne; k++)
        buf_appendc(out, in[k] >= 'A' && in[k] <= 'Z' ? (char)(in[k] + 32) : in[k]);
    buf_appendc(out, ':');
    struct buf v = BUF_INIT;
    for (size_t k = n + 1; k < len; k++) {
        if (in[k] == '\r' && k + 1 < len && in[k + 1] == '\n') {
            k++; /* unfolded */
        } else if (in[k] == ' ' || in[k] == '\t') {
            if (v.len == 0 || v.data[v.len - 1] != ' ')
                buf_appendc(&v, ' ');
        } else {
            buf_appendc(&v, in[k]);
        }
    }
    size_t from = v.len && v.data[0] == ' ', to = v.len;
    if (to > from && v.data[to - 1] == ' ')
        to--;
    buf_append(out, v.data ? v.data + from : "", to - from);
    buf_append(out, "\r\n", 2);
    buf_free(&v);
}

/* Relaxed header canonicalization of 20,000 pseudo-random fields (names with
 * WSP before the colon, values of text, UTF-8, SP, TAB, folds and runs longer
 * than the staging area) equals the literal reference exactly. */
static void test_dkim_relaxed_header_matches_reference(void **state)
{
    (void)state;
    static const char *const names[] = { "Subject", "TO ", "X-Mixed-Case\t", "from" };
    static const char *const pieces[] = { "a", "bc", "x:y", " ", "  ", "\t", " \t ", "\r\n ", "\r\n\t",
                                          "Gr\xc3\xbc\xc3\x9f""e", "=?UTF-8?B?w6g=?=", "<a@b.example>," };
    uint32_t seed = 54321;
    struct buf in = BUF_INIT, got = BUF_INIT, want = BUF_INIT, run = BUF_INIT;
    for (int i = 0; i < 700; i++)
        buf_appendc(&run, (char)('a' + i % 26));
    for (int t = 0; t < 20000; t++) {
        buf_reset(&in);
        seed = seed * 1103515245u + 12345u;
        buf_appends(&in, names[(seed >> 16) % 4]);
        buf_appendc(&in, ':');
        size_t target = (seed >> 8) % 200;
        while (in.len < target) {
            seed = seed * 1103515245u + 12345u;
            if ((seed >> 16) % 50 == 0)
                buf_append(&in, run.data, (seed >> 4) % run.len);
            else
                buf_appends(&in, pieces[(seed >> 16) % (sizeof(pieces) / sizeof(pieces[0]))]);
        }
        if (t % 2)
            buf_append(&in, "\r\n", 2);
        buf_reset(&got);
        buf_reset(&want);
        dkim_canon_header(&got, DKIM_CANON_RELAXED, in.data, in.len);
        relaxed_header_reference(&want, in.data, in.len);
        assert_int_equal(got.len, want.len);
        assert_memory_equal(got.data, want.data, got.len);
    }
    buf_free(&in);
    buf_free(&got);
    buf_free(&want);
    buf_free(&run);
}

static void test_dkim_empty_body_hashes(void **state)
{
    (void)state;
    struct buf r = BUF_INIT, s = BUF_INIT;
    assert_int_equal(dkim_body_hash(&r, DKIM_CANON_RELAXED, "", 0), 0);
    assert_int_equal(dkim_body_hash(&s, DKIM_CANON_SIMPLE, "", 0), 0);
    /* RFC 6376 3.4.3 and 3.4.4: the SHA-256 of "" and of one CRLF */
    assert_string_equal(buf_cstr(&r), "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=");
    assert_string_equal(buf_cstr(&s), "frcCV1k9oG9oKj3dpUqdJg1PxRT2RSN/XKdLCPjaYaY=");
    buf_free(&r);
    buf_free(&s);
}

static void test_dkim_relaxed_header_unfolds_utf8_values(void **state)
{
    (void)state;
    static const struct { const char *in, *out; } cases[] = {
        { "Subject:  Gr\xc3\xbc\xc3\x9f""e\r\n  aus\tM\xc3\xbcnchen  \r\n",
          "subject:Gr\xc3\xbc\xc3\x9f""e aus M\xc3\xbcnchen\r\n" },
        { "TO :\r\n\tbob@example.com,\r\n carol@example.com", "to:bob@example.com, carol@example.com\r\n" },
        { "X-Empty:\r\n", "x-empty:\r\n" },
        { "List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n",
          "list-unsubscribe-post:List-Unsubscribe=One-Click\r\n" },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct buf b = BUF_INIT;
        dkim_canon_header(&b, DKIM_CANON_RELAXED, cases[i].in, strlen(cases[i].in));
        assert_string_equal(buf_cstr(&b), cases[i].out);
        buf_free(&b);
    }
}

/* ---- RFC 8463 Appendix A ---- */

/* A.1: the Ed25519 secret key (the RFC 8032 7.1 test 1 seed) and the RSA secret key. */
static const char rfc8463_ed25519_seed[] = "nWGxne/9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A=";
static const char rfc8463_rsa_pem[] =
    "-----BEGIN RSA PRIVATE KEY-----\n"
    "MIICXQIBAAKBgQDkHlOQoBTzWRiGs5V6NpP3idY6Wk08a5qhdR6wy5bdOKb2jLQi\n"
    "Y/J16JYi0Qvx/byYzCNb3W91y3FutACDfzwQ/BC/e/8uBsCR+yz1Lxj+PL6lHvqM\n"
    "KrM3rG4hstT5QjvHO9PzoxZyVYLzBfO2EeC3Ip3G+2kryOTIKT+l/K4w3QIDAQAB\n"
    "AoGAH0cxOhFZDgzXWhDhnAJDw5s4roOXN4OhjiXa8W7Y3rhX3FJqmJSPuC8N9vQm\n"
    "6SVbaLAE4SG5mLMueHlh4KXffEpuLEiNp9Ss3O4YfLiQpbRqE7Tm5SxKjvvQoZZe\n"
    "zHorimOaChRL2it47iuWxzxSiRMv4c+j70GiWdxXnxe4UoECQQDzJB/0U58W7RZy\n"
    "6enGVj2kWF732CoWFZWzi1FicudrBFoy63QwcowpoCazKtvZGMNlPWnC7x/6o8Gc\n"
    "uSe0ga2xAkEA8C7PipPm1/1fTRQvj1o/dDmZp243044ZNyxjg+/OPN0oWCbXIGxy\n"
    "WvmZbXriOWoSALJTjExEgraHEgnXssuk7QJBALl5ICsYMu6hMxO73gnfNayNgPxd\n"
    "WFV6Z7ULnKyV7HSVYF0hgYOHjeYe9gaMtiJYoo0zGN+L3AAtNP9huqkWlzECQE1a\n"
    "licIeVlo1e+qJ6Mgqr0Q7Aa7falZ448ccbSFYEPD6oFxiOl9Y9se9iYHZKKfIcst\n"
    "o7DUw1/hz2Ck4N5JrgUCQQCyKveNvjzkkd8HjYs0SwM0fPjK16//5qDZ2UiDGnOe\n"
    "uEzxBDAr518Z8VFbR41in3W4Y3yCDgQlLlcETrS+zYcL\n"
    "-----END RSA PRIVATE KEY-----\n";

/* A.2: the public keys as published. */
static const char rfc8463_ed25519_p[] = "11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=";
static const char rfc8463_rsa_p[] =
    "MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDkHlOQoBTzWRiGs5V6NpP3idY6Wk08a5qhdR6wy5bdOKb2jLQi"
    "Y/J16JYi0Qvx/byYzCNb3W91y3FutACDfzwQ/BC/e/8uBsCR+yz1Lxj+PL6lHvqMKrM3rG4hstT5QjvHO9PzoxZyVY"
    "LzBfO2EeC3Ip3G+2kryOTIKT+l/K4w3QIDAQAB";

/* A.3: the message, unsigned, and its two signatures. */
static const char rfc8463_msg[] =
    "From: Joe SixPack <joe@football.example.com>\r\n"
    "To: Suzie Q <suzie@shopping.example.net>\r\n"
    "Subject: Is dinner ready?\r\n"
    "Date: Fri, 11 Jul 2003 21:00:37 -0700 (PDT)\r\n"
    "Message-ID: <20030712040037.46341.5F8J@football.example.com>\r\n"
    "\r\n"
    "Hi.\r\n"
    "\r\n"
    "We lost the game.  Are you hungry yet?\r\n"
    "\r\n"
    "Joe.\r\n";
static const char rfc8463_ed25519_field[] =
    "DKIM-Signature: v=1; a=ed25519-sha256; c=relaxed/relaxed;\r\n"
    " d=football.example.com; i=@football.example.com;\r\n"
    " q=dns/txt; s=brisbane; t=1528637909; h=from : to :\r\n"
    " subject : date : message-id : from : subject : date;\r\n"
    " bh=2jUSOH9NhtVGCQWNr9BrIAPreKQjO6Sn7XIkfJVOzv8=;\r\n"
    " b=/gCrinpcQOoIfuHNQIbq4pgh9kyIK3AQUdt9OdqQehSwhEIug4D11Bus\r\n"
    " Fa3bT3FY5OsU7ZbnKELq+eXdp1Q1Dw==\r\n";
static const char rfc8463_rsa_field[] =
    "DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed;\r\n"
    " d=football.example.com; i=@football.example.com;\r\n"
    " q=dns/txt; s=test; t=1528637909; h=from : to : subject :\r\n"
    " date : message-id : from : subject : date;\r\n"
    " bh=2jUSOH9NhtVGCQWNr9BrIAPreKQjO6Sn7XIkfJVOzv8=;\r\n"
    " b=F45dVWDfMbQDGHJFlXUNB2HKfbCeLRyhDXgFpEL8GwpsRe0IeIixNTe3\r\n"
    " DhCVlUrSjV4BwcVcOF6+FF3Zo9Rpo1tFOeS9mPYQTnGdaSGsgeefOsk2Jz\r\n"
    " dA+L10TeYt9BgDfQNZtKdN1WO//KgIqXP7OdEFE4LjFYNcUxZQ4FADY+8=\r\n";
static const char *const rfc8463_h[] = {
    "from", "to", "subject", "date", "message-id", "from", "subject", "date",
};
static const struct dkim_sign_opts rfc8463_opts = {
    .headers = rfc8463_h, .nheaders = 8, .h_separator = " : ",
    .identity = "@football.example.com", .query_dns_txt = true,
};

/* The RFC's Ed25519 seed as the PKCS#8 PEM a key store holds (RFC 8410 framing). */
static char *rfc8463_ed25519_pem(void)
{
    static const unsigned char prefix[] = { 0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03,
                                            0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20 };
    struct buf der = BUF_INIT, pem = BUF_INIT;
    buf_append(&der, prefix, sizeof(prefix));
    assert_int_equal(base64_decode(&der, rfc8463_ed25519_seed, strlen(rfc8463_ed25519_seed)), 0);
    assert_int_equal(der.len, 48);
    buf_appends(&pem, "-----BEGIN PRIVATE KEY-----\n");
    base64_encode(&pem, der.data, der.len);
    buf_appends(&pem, "\n-----END PRIVATE KEY-----\n");
    buf_free(&der);
    return buf_detach(&pem, NULL);
}

static struct dkim_signer *signer_from_pem(const char *pem, const char *domain, const char *selector)
{
    char *err = NULL;
    struct dkim_key *key = dkim_key_load(pem, strlen(pem), selector, domain, &err);
    if (!key)
        fail_msg("%s", err);
    struct dkim_signer *s = dkim_signer_new(domain, selector, key);
    assert_non_null(s);
    return s;
}

static struct dkim_signer *rfc8463_ed25519_signer(void)
{
    char *pem = rfc8463_ed25519_pem();
    struct dkim_signer *s = signer_from_pem(pem, "football.example.com", "brisbane");
    xfree(pem);
    return s;
}

/* The value of tag NAME in the DKIM-Signature field SIG, with all whitespace removed. */
static char *sig_tag(const char *sig, const char *name)
{
    const char *p = strchr(sig, ':') + 1;
    size_t n = strlen(name);
    while (*p) {
        while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
            p++;
        const char *eq = strchr(p, '='), *end;
        if (!eq)
            break;
        end = strchr(eq, ';');
        if (!end)
            end = eq + strlen(eq);
        if ((size_t)(eq - p) == n && !strncmp(p, name, n)) {
            struct buf v = BUF_INIT;
            for (const char *q = eq + 1; q < end; q++)
                if (*q != ' ' && *q != '\t' && *q != '\r' && *q != '\n')
                    buf_appendc(&v, *q);
            return buf_detach(&v, NULL);
        }
        p = *end ? end + 1 : end;
    }
    return NULL;
}

static void assert_tag(const char *sig, const char *name, const char *want)
{
    char *v = sig_tag(sig, name);
    if (!v)
        fail_msg("no %s= in %s", name, sig);
    assert_string_equal(v, want);
    xfree(v);
}

/* Both fields, canonicalized relaxed up to "b=" (what the signature covers), must be the same octets. */
static void assert_same_relaxed(const char *got, const char *want)
{
    struct buf a = BUF_INIT, b = BUF_INIT;
    dkim_canon_header(&a, DKIM_CANON_RELAXED, got, (size_t)(strstr(got, " b=") + 3 - got));
    dkim_canon_header(&b, DKIM_CANON_RELAXED, want, (size_t)(strstr(want, " b=") + 3 - want));
    assert_string_equal(buf_cstr(&a), buf_cstr(&b));
    buf_free(&a);
    buf_free(&b);
}

static void test_dkim_rfc8463_public_keys(void **state)
{
    (void)state;
    struct buf p = BUF_INIT;
    char *pem = rfc8463_ed25519_pem(), *err = NULL;
    struct dkim_key *ed = dkim_key_load(pem, strlen(pem), "brisbane", "football.example.com", &err);
    struct dkim_key *rsa = dkim_key_load(rfc8463_rsa_pem, strlen(rfc8463_rsa_pem), "test",
                                         "football.example.com", &err);
    assert_non_null(ed);
    assert_non_null(rsa);
    assert_int_equal(dkim_key_alg(ed), DKIM_ED25519_SHA256);
    assert_int_equal(dkim_key_alg(rsa), DKIM_RSA_SHA256);
    assert_int_equal(dkim_key_public(ed, &p), 0);
    assert_string_equal(buf_cstr(&p), rfc8463_ed25519_p);
    buf_reset(&p);
    assert_int_equal(dkim_key_public(rsa, &p), 0);
    assert_string_equal(buf_cstr(&p), rfc8463_rsa_p);
    buf_free(&p);
    dkim_key_free(ed);
    dkim_key_free(rsa);
    xfree(pem);
}

static void test_dkim_rfc8463_ed25519_signature_exact(void **state)
{
    (void)state;
    struct dkim_signer *s = rfc8463_ed25519_signer();
    struct buf out = BUF_INIT;
    assert_int_equal(dkim_sign_with(s, rfc8463_msg, strlen(rfc8463_msg), 1528637909, &rfc8463_opts, &out), 0);
    assert_tag(out.data, "bh", "2jUSOH9NhtVGCQWNr9BrIAPreKQjO6Sn7XIkfJVOzv8=");
    assert_tag(out.data, "b", "/gCrinpcQOoIfuHNQIbq4pgh9kyIK3AQUdt9OdqQehSwhEIug4D11BusFa3bT3FY5OsU7ZbnKELq+eXdp1Q1Dw==");
    assert_same_relaxed(out.data, rfc8463_ed25519_field);
    buf_free(&out);
    dkim_signer_free(s);
}

static void test_dkim_rfc8463_rsa_signature_exact(void **state)
{
    (void)state;
    struct dkim_signer *s = signer_from_pem(rfc8463_rsa_pem, "football.example.com", "test");
    struct buf out = BUF_INIT;
    assert_int_equal(dkim_sign_with(s, rfc8463_msg, strlen(rfc8463_msg), 1528637909, &rfc8463_opts, &out), 0);
    assert_tag(out.data, "bh", "2jUSOH9NhtVGCQWNr9BrIAPreKQjO6Sn7XIkfJVOzv8=");
    assert_tag(out.data, "b",
               "F45dVWDfMbQDGHJFlXUNB2HKfbCeLRyhDXgFpEL8GwpsRe0IeIixNTe3DhCVlUrSjV4BwcVcOF6+FF3Zo9Rpo1tFOeS9"
               "mPYQTnGdaSGsgeefOsk2JzdA+L10TeYt9BgDfQNZtKdN1WO//KgIqXP7OdEFE4LjFYNcUxZQ4FADY+8=");
    assert_same_relaxed(out.data, rfc8463_rsa_field);
    buf_free(&out);
    dkim_signer_free(s);
}

/* The RFC 8463 message carries both signatures, each made over the unsigned message. */
static void test_dkim_dual_signature_reproduces_rfc8463(void **state)
{
    (void)state;
    struct dkim_signer *ed = rfc8463_ed25519_signer();
    struct dkim_signer *rsa = signer_from_pem(rfc8463_rsa_pem, "football.example.com", "test");
    struct buf out = BUF_INIT, ed_alone = BUF_INIT;
    size_t len = strlen(rfc8463_msg);
    assert_int_equal(dkim_sign_with(ed, rfc8463_msg, len, 1528637909, &rfc8463_opts, &out), 0);
    size_t first = out.len;
    assert_int_equal(dkim_sign_with(rsa, rfc8463_msg, len, 1528637909, &rfc8463_opts, &out), 0);
    assert_int_equal(dkim_sign_with(ed, rfc8463_msg, len, 1528637909, &rfc8463_opts, &ed_alone), 0);

    char *f1 = xstrndup(out.data, first), *f2 = xstrdup(out.data + first);
    assert_string_equal(f1, ed_alone.data); /* the second signer did not disturb the first */
    assert_same_relaxed(f1, rfc8463_ed25519_field);
    assert_same_relaxed(f2, rfc8463_rsa_field);
    assert_memory_equal(out.data + out.len - 2, "\r\n", 2);
    xfree(f1);
    xfree(f2);
    buf_free(&out);
    buf_free(&ed_alone);
    dkim_signer_free(ed);
    dkim_signer_free(rsa);
}

/* ---- dkim_sign: h=, folding, tags ---- */

static const char newsletter[] =
    "X-Mailer: postino\r\n"
    "From: \"Caf\xc3\xa9 News\" <news@example.com>\r\n"
    "To: alice@example.org\r\n"
    "Subject: =?UTF-8?Q?Gr=C3=BC=C3=9Fe?= and a long subject that goes on\r\n"
    " and on\r\n"
    "Date: Sat, 28 Nov 2026 08:00:00 +0000\r\n"
    "Message-ID: <1.2.3@example.com>\r\n"
    "MIME-Version: 1.0\r\n"
    "Content-Type: text/plain; charset=utf-8\r\n"
    "List-Unsubscribe: <https://example.com/u/abc>, <mailto:u+abc@example.com>\r\n"
    "List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n"
    "List-Id: News <news.example.com>\r\n"
    "Received: by nobody\r\n"
    "\r\n"
    "Hello Alice,  \r\n"
    "\r\n"
    "the news.\r\n";

static void test_dkim_h_oversigns_from_and_lists_present_fields(void **state)
{
    (void)state;
    struct dkim_signer *s = rfc8463_ed25519_signer();
    struct buf out = BUF_INIT;
    assert_int_equal(dkim_sign(s, newsletter, strlen(newsletter), 1764316800, &out), 0);
    assert_tag(out.data, "h",
               "from:from:to:subject:date:message-id:mime-version:content-type:list-unsubscribe:"
               "list-unsubscribe-post:list-id");
    assert_tag(out.data, "v", "1");
    assert_tag(out.data, "a", "ed25519-sha256");
    assert_tag(out.data, "c", "relaxed/relaxed");
    assert_tag(out.data, "d", "football.example.com");
    assert_tag(out.data, "s", "brisbane");
    assert_tag(out.data, "t", "1764316800");
    assert_null(sig_tag(out.data, "l"));
    assert_null(sig_tag(out.data, "x"));
    assert_null(sig_tag(out.data, "i"));

    /* repeated fields are all signed; a message without From still signs its absence */
    static const char two_to[] = "To: a@example.org\r\nReply-To: r@example.com\r\nTo: b@example.org\r\n\r\nx\r\n";
    buf_reset(&out);
    assert_int_equal(dkim_sign(s, two_to, strlen(two_to), 1, &out), 0);
    assert_tag(out.data, "h", "from:to:to:reply-to");
    buf_free(&out);
    dkim_signer_free(s);
}

/* RFC 6376 5.4.2: a name listed once in h= signs the last (bottom-most) instance. */
static void test_dkim_selects_fields_bottom_up(void **state)
{
    (void)state;
    static const char *const h_to[] = { "from", "to" };
    static const struct dkim_sign_opts opts = { .headers = h_to, .nheaders = 2 };
    static const char both[] = "From: f@example.com\r\nTo: top@example.org\r\nTo: bottom@example.org\r\n\r\nx\r\n";
    static const char bottom[] = "From: f@example.com\r\nTo: bottom@example.org\r\n\r\nx\r\n";
    static const char top[] = "From: f@example.com\r\nTo: top@example.org\r\n\r\nx\r\n";
    struct dkim_signer *s = rfc8463_ed25519_signer();
    struct buf a = BUF_INIT, b = BUF_INIT, c = BUF_INIT;
    assert_int_equal(dkim_sign_with(s, both, strlen(both), 7, &opts, &a), 0);
    assert_int_equal(dkim_sign_with(s, bottom, strlen(bottom), 7, &opts, &b), 0);
    assert_int_equal(dkim_sign_with(s, top, strlen(top), 7, &opts, &c), 0);
    assert_string_equal(a.data, b.data); /* Ed25519 is deterministic: same signed octets */
    assert_string_not_equal(a.data, c.data);

    /* listed twice, both are signed, bottom first: the order of the two matters */
    static const char *const h_to2[] = { "to", "to" };
    static const struct dkim_sign_opts opts2 = { .headers = h_to2, .nheaders = 2 };
    static const char swapped[] = "From: f@example.com\r\nTo: bottom@example.org\r\nTo: top@example.org\r\n\r\nx\r\n";
    buf_reset(&a);
    buf_reset(&b);
    assert_int_equal(dkim_sign_with(s, both, strlen(both), 7, &opts2, &a), 0);
    assert_int_equal(dkim_sign_with(s, swapped, strlen(swapped), 7, &opts2, &b), 0);
    assert_string_not_equal(a.data, b.data);
    buf_free(&a);
    buf_free(&b);
    buf_free(&c);
    dkim_signer_free(s);
}

static void test_dkim_field_is_folded_at_78_with_b_last(void **state)
{
    (void)state;
    struct dkim_signer *s = signer_from_pem(rfc8463_rsa_pem, "mail.a-rather-long-subdomain.example.com",
                                            "selector-2026-11");
    struct buf out = BUF_INIT;
    assert_int_equal(dkim_sign(s, newsletter, strlen(newsletter), 1764316800, &out), 0);
    assert_true(!strncmp(out.data, "DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed;", 53));
    size_t lines = 0;
    for (const char *p = out.data; *p;) {
        const char *e = strstr(p, "\r\n");
        assert_non_null(e);
        assert_true(e - p <= 78);
        assert_null(memchr(p, '\n', (size_t)(e - p)));
        if (p != out.data)
            assert_int_equal(*p, ' ');
        lines++;
        p = e + 2;
    }
    assert_true(lines >= 5);
    assert_memory_equal(out.data + out.len - 2, "\r\n", 2);
    /* b= is the last tag */
    const char *b = strstr(out.data, " b=");
    assert_non_null(b);
    assert_null(strchr(b, ';'));
    char *bh = sig_tag(out.data, "bh");
    struct buf want = BUF_INIT;
    const char *body = strstr(newsletter, "\r\n\r\n") + 4;
    assert_int_equal(dkim_body_hash(&want, DKIM_CANON_RELAXED, body, strlen(body)), 0);
    assert_string_equal(bh, want.data);
    xfree(bh);
    buf_free(&want);
    buf_free(&out);
    dkim_signer_free(s);
}

static void test_dkim_simple_canonicalization_tags(void **state)
{
    (void)state;
    struct dkim_signer *s = rfc8463_ed25519_signer();
    struct buf out = BUF_INIT, want = BUF_INIT;
    dkim_signer_set_canon(s, DKIM_CANON_SIMPLE, DKIM_CANON_SIMPLE);
    assert_int_equal(dkim_sign(s, newsletter, strlen(newsletter), 1764316800, &out), 0);
    assert_tag(out.data, "c", "simple/simple");
    const char *body = strstr(newsletter, "\r\n\r\n") + 4;
    assert_int_equal(dkim_body_hash(&want, DKIM_CANON_SIMPLE, body, strlen(body)), 0);
    assert_tag(out.data, "bh", want.data);
    buf_free(&want);
    buf_free(&out);
    dkim_signer_free(s);
}

static void test_dkim_sign_refuses_too_many_fields(void **state)
{
    (void)state;
    struct dkim_signer *s = rfc8463_ed25519_signer();
    struct buf msg = BUF_INIT, out = BUF_INIT;
    for (int i = 0; i < DKIM_MAX_SIGNED_FIELDS + 1; i++)
        buf_appendf(&msg, "To: r%d@example.org\r\n", i);
    buf_appends(&msg, "\r\nbody\r\n");
    buf_appends(&out, "kept");
    assert_int_equal(dkim_sign(s, msg.data, msg.len, 1, &out), -1);
    assert_string_equal(buf_cstr(&out), "kept");
    buf_free(&msg);
    buf_free(&out);
    dkim_signer_free(s);
}

/* Messages with no body, no blank line, or a body without final CRLF still sign. */
static void test_dkim_sign_odd_messages(void **state)
{
    (void)state;
    struct dkim_signer *s = rfc8463_ed25519_signer();
    static const struct { const char *msg, *bh; } cases[] = {
        { "From: a@example.com\r\n\r\n", "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=" },
        { "From: a@example.com\r\n", "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=" },
        { "From: a@example.com", "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=" },
        { "", "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=" },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct buf out = BUF_INIT;
        assert_int_equal(dkim_sign(s, cases[i].msg, strlen(cases[i].msg), 1, &out), 0);
        assert_tag(out.data, "bh", cases[i].bh);
        buf_free(&out);
    }
    /* "x" without CRLF hashes as "x\r\n" */
    struct buf a = BUF_INIT, b = BUF_INIT;
    assert_int_equal(dkim_body_hash(&a, DKIM_CANON_RELAXED, "x", 1), 0);
    assert_int_equal(dkim_body_hash(&b, DKIM_CANON_RELAXED, "x\r\n", 3), 0);
    assert_string_equal(a.data, b.data);
    buf_free(&a);
    buf_free(&b);
    dkim_signer_free(s);
}

/* ---- keys and DNS ---- */

static void test_dkim_key_generate_and_load_round_trip(void **state)
{
    (void)state;
    static const struct { enum dkim_alg alg; int bits; size_t publen; const char *k; } cases[] = {
        { DKIM_ED25519_SHA256, 0, 44, "ed25519" },
        { DKIM_RSA_SHA256, 0, 392, "rsa" },
        { DKIM_RSA_SHA256, 1024, 216, "rsa" },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *pem = NULL, *pub = NULL, *err = NULL;
        const char *why = NULL;
        assert_int_equal(dkim_key_generate(cases[i].alg, cases[i].bits, &pem, &pub, &why), 0);
        assert_true(!strncmp(pem, "-----BEGIN PRIVATE KEY-----\n", 28));
        assert_int_equal(strlen(pub), cases[i].publen);
        struct dkim_key *key = dkim_key_load(pem, strlen(pem), "s1", "example.com", &err);
        assert_non_null(key);
        assert_null(err);
        assert_int_equal(dkim_key_alg(key), cases[i].alg);
        struct buf p = BUF_INIT, rec = BUF_INIT, want = BUF_INIT;
        assert_int_equal(dkim_key_public(key, &p), 0);
        assert_string_equal(p.data, pub);
        dkim_txt_record(&rec, dkim_key_alg(key), p.data);
        buf_appendf(&want, "v=DKIM1; k=%s; s=email; p=%s", cases[i].k, pub);
        assert_string_equal(rec.data, want.data);
        buf_free(&p);
        buf_free(&rec);
        buf_free(&want);
        dkim_key_free(key);
        dkim_secret_free(pem);
        xfree(pub);
    }
    char *pem = NULL, *pub = NULL;
    const char *why = NULL;
    assert_int_equal(dkim_key_generate(DKIM_RSA_SHA256, 512, &pem, &pub, &why), -1);
    assert_string_equal(why, "RSA key size must be 1024 to 8192 bits");
    assert_null(pem);
}

static char *pem_of(EVP_PKEY *pk)
{
    BIO *bio = BIO_new(BIO_s_mem());
    assert_int_equal(PEM_write_bio_PrivateKey(bio, pk, NULL, NULL, 0, NULL, NULL), 1);
    char *data;
    long n = BIO_get_mem_data(bio, &data);
    char *s = xstrndup(data, (size_t)n);
    BIO_free(bio);
    EVP_PKEY_free(pk);
    return s;
}

static void test_dkim_key_load_errors_name_the_record(void **state)
{
    (void)state;
    char *rsa512 = pem_of(EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)512));
    char *ec = pem_of(EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256"));
    char truncated[200];
    memcpy(truncated, rfc8463_rsa_pem, 150);
    truncated[150] = 0;
    const struct { const char *pem, *err; } cases[] = {
        { "", "cannot load DKIM key for s1._domainkey.example.com: the key text is empty" },
        { "not a key at all\n", "cannot load DKIM key for s1._domainkey.example.com: no PEM \"-----BEGIN\" line" },
        { "-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEA11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=\n-----END PUBLIC KEY-----\n",
          "cannot load DKIM key for s1._domainkey.example.com: this is a public key, not a private key" },
        { "-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n",
          "cannot load DKIM key for s1._domainkey.example.com: encrypted keys are not supported" },
        { rsa512, "cannot load DKIM key for s1._domainkey.example.com: RSA key of 512 bits (1024 to 8192 are accepted)" },
        { ec, "cannot load DKIM key for s1._domainkey.example.com: unsupported key type (RSA and Ed25519 are)" },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *err = NULL;
        assert_null(dkim_key_load(cases[i].pem, strlen(cases[i].pem), "s1", "example.com", &err));
        assert_non_null(err);
        assert_string_equal(err, cases[i].err);
        xfree(err);
    }
    char *err = NULL;
    assert_null(dkim_key_load(truncated, strlen(truncated), "s1", "example.com", &err));
    const char *prefix = "cannot load DKIM key for s1._domainkey.example.com: not a valid private key (";
    assert_true(!strncmp(err, prefix, strlen(prefix)));
    assert_null(strchr(err, '\n'));
    assert_null(strstr(err, "MIIC")); /* never the key text */
    xfree(err);
    xfree(rsa512);
    xfree(ec);
}

static void test_dkim_zone_line_splits_at_255(void **state)
{
    (void)state;
    struct buf out = BUF_INIT;
    dkim_zone_line(&out, "s1", "example.com", "v=DKIM1; k=ed25519; s=email; p=abc");
    assert_string_equal(buf_cstr(&out),
                        "s1._domainkey.example.com. IN TXT ( \"v=DKIM1; k=ed25519; s=email; p=abc\" )");

    char txt[601];
    for (int i = 0; i < 600; i++)
        txt[i] = (char)('a' + i % 26);
    txt[600] = 0;
    buf_reset(&out);
    dkim_zone_line(&out, "s2", "example.org.", txt);
    struct buf want = BUF_INIT;
    buf_appendf(&want, "s2._domainkey.example.org. IN TXT ( \"%.255s\" \"%.255s\" \"%.90s\" )", txt, txt + 255, txt + 510);
    assert_string_equal(buf_cstr(&out), buf_cstr(&want));

    /* exactly 255 stays one string; quotes are escaped */
    txt[255] = 0;
    buf_reset(&out);
    dkim_zone_line(&out, "s", "d.example", txt);
    assert_int_equal(out.len, strlen("s._domainkey.d.example. IN TXT ( \"\" )") + 255);
    buf_reset(&out);
    dkim_zone_line(&out, "s", "d.example", "a\"b\\c");
    assert_string_equal(buf_cstr(&out), "s._domainkey.d.example. IN TXT ( \"a\\\"b\\\\c\" )");
    buf_free(&want);
    buf_free(&out);
}

static void test_dkim_alg_names(void **state)
{
    (void)state;
    enum dkim_alg a;
    assert_int_equal(dkim_alg_parse("rsa", &a), 0);
    assert_int_equal(a, DKIM_RSA_SHA256);
    assert_int_equal(dkim_alg_parse("ed25519-sha256", &a), 0);
    assert_int_equal(a, DKIM_ED25519_SHA256);
    assert_int_equal(dkim_alg_parse("dsa", &a), -1);
    assert_string_equal(dkim_alg_name(DKIM_RSA_SHA256), "rsa-sha256");
    assert_string_equal(dkim_alg_key_type(DKIM_ED25519_SHA256), "ed25519");
}

/* ---- one signer, several threads ---- */

struct worker {
    const struct dkim_signer *signer;
    const char *want;
    int mismatches;
};

static void *worker_run(void *arg)
{
    struct worker *w = arg;
    struct buf out = BUF_INIT;
    for (int i = 0; i < 200; i++) {
        buf_reset(&out);
        if (dkim_sign(w->signer, newsletter, strlen(newsletter), 1764316800, &out) != 0 ||
            strcmp(out.data, w->want) != 0)
            w->mismatches++;
    }
    buf_free(&out);
    dkim_thread_cleanup();
    return NULL;
}

static void test_dkim_signer_shared_by_threads(void **state)
{
    (void)state;
    struct dkim_signer *signers[2] = {
        rfc8463_ed25519_signer(),
        signer_from_pem(rfc8463_rsa_pem, "football.example.com", "test"),
    };
    for (int k = 0; k < 2; k++) {
        struct buf want = BUF_INIT;
        assert_int_equal(dkim_sign(signers[k], newsletter, strlen(newsletter), 1764316800, &want), 0);
        pthread_t th[4];
        struct worker w[4];
        for (int i = 0; i < 4; i++) {
            w[i] = (struct worker){ signers[k], want.data, 0 };
            assert_int_equal(pthread_create(&th[i], NULL, worker_run, &w[i]), 0);
        }
        for (int i = 0; i < 4; i++) {
            pthread_join(th[i], NULL);
            assert_int_equal(w[i].mismatches, 0);
        }
        buf_free(&want);
    }
    dkim_signer_free(signers[0]);
    dkim_signer_free(signers[1]);
}

static void *sign_sample_and_one(void *arg)
{
    struct buf out = BUF_INIT;
    for (int i = 0; i < DKIM_SIGN_SAMPLE + 1; i++) {
        buf_reset(&out);
        dkim_sign(arg, newsletter, strlen(newsletter), 1764316800, &out);
    }
    buf_free(&out);
    dkim_thread_cleanup();
    return NULL;
}

/* One private-key operation in DKIM_SIGN_SAMPLE is timed, counted per thread, on the thread's CPU clock:
 * 4 * DKIM_SIGN_SAMPLE signatures here time 4, a new thread's DKIM_SIGN_SAMPLE + 1 time its first and
 * last; the time is an Ed25519 signature's, between 1 us and 100 ms (not zero, not a unit off). */
static void test_dkim_sign_cpu_samples_one_in_n(void **state)
{
    (void)state;
    struct dkim_signer *s = rfc8463_ed25519_signer();
    unsigned long t0, t1, t2;
    unsigned long long n0, n1, n2;
    dkim_sign_cpu(&t0, &n0);
    struct buf out = BUF_INIT;
    for (int i = 0; i < 4 * DKIM_SIGN_SAMPLE; i++) {
        buf_reset(&out);
        assert_int_equal(dkim_sign(s, newsletter, strlen(newsletter), 1764316800, &out), 0);
    }
    buf_free(&out);
    dkim_sign_cpu(&t1, &n1);
    assert_int_equal(t1 - t0, 4);
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, sign_sample_and_one, s), 0);
    pthread_join(th, NULL);
    dkim_sign_cpu(&t2, &n2);
    assert_int_equal(t2 - t1, 2);
    double mean_us = (double)(n2 - n0) / (double)(t2 - t0) / 1000.0;
    assert_true(mean_us > 1.0);
    assert_true(mean_us < 100000.0);
    dkim_signer_free(s);
}

static int teardown_thread(void **state)
{
    (void)state;
    dkim_thread_cleanup();
    return 0;
}

/*
 * dkim_body_of, hashed by sha256_many, gives dkim_body_hash's bh= for every
 * kind of body: the message's own octets with CRLF added, collapsed
 * whitespace (a copy), empty lines at the end, none at all, no final CRLF
 */
static void test_dkim_body_of_hashes_as_dkim_body_hash(void **state)
{
    (void)state;
    static const char *const bodies[] = {
        "Hello world\r\nSecond line\r\n",
        "Hello world\r\nSecond line",
        "two  spaces\tand a tab \r\ntrailing \t \r\n\r\n\r\n",
        "",
        "\r\n",
        "\r\n\r\n",
        "x",
        " leading space\r\n",
        "a very long line of text that goes on for a while, without any runs of white space at all, "
        "to be longer than one block and then some more, more than sixty-four octets\r\n\r\n",
    };
    size_t nb = sizeof(bodies) / sizeof(bodies[0]);
    enum { MAXB = 2 * 9 };
    struct dkim_body b[MAXB];
    struct sha256_in in[MAXB];
    unsigned char bh[MAXB][32];
    struct buf msg[MAXB], want = BUF_INIT, got = BUF_INIT;
    for (int w = 0; w < 2; w++) {
        sha256_many_force(w ? SHA256_MANY_LANES : SHA256_MANY_ONE);
        for (size_t i = 0; i < 2 * nb; i++) {
            enum dkim_canon canon = i % 2 ? DKIM_CANON_SIMPLE : DKIM_CANON_RELAXED;
            msg[i] = (struct buf)BUF_INIT;
            buf_appends(&msg[i], "From: a@example.com\r\nSubject: x\r\n\r\n");
            buf_appends(&msg[i], bodies[i / 2]);
            b[i] = (struct dkim_body){ .copy = BUF_INIT };
            dkim_body_of(canon, msg[i].data, msg[i].len, &b[i]);
            in[i] = b[i].in;
        }
        assert_int_equal(sha256_many(in, 2 * nb, bh), 0);
        for (size_t i = 0; i < 2 * nb; i++) {
            enum dkim_canon canon = i % 2 ? DKIM_CANON_SIMPLE : DKIM_CANON_RELAXED;
            buf_reset(&want);
            buf_reset(&got);
            assert_int_equal(dkim_body_hash(&want, canon, bodies[i / 2], strlen(bodies[i / 2])), 0);
            base64_encode(&got, bh[i], 32);
            assert_string_equal(buf_cstr(&got), buf_cstr(&want));
            buf_free(&b[i].copy);
            buf_free(&msg[i]);
        }
    }
    sha256_many_force(SHA256_MANY_AUTO);
    buf_free(&want);
    buf_free(&got);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dkim_body_of_hashes_as_dkim_body_hash),
        cmocka_unit_test(test_dkim_relaxed_header_rfc6376_example),
        cmocka_unit_test(test_dkim_simple_header_rfc6376_example),
        cmocka_unit_test(test_dkim_relaxed_body_rfc6376_example),
        cmocka_unit_test(test_dkim_simple_body_rfc6376_example),
        cmocka_unit_test(test_dkim_body_edge_cases),
        cmocka_unit_test(test_dkim_empty_body_hashes),
        cmocka_unit_test(test_dkim_relaxed_header_unfolds_utf8_values),
        cmocka_unit_test(test_dkim_rfc8463_public_keys),
        cmocka_unit_test(test_dkim_rfc8463_ed25519_signature_exact),
        cmocka_unit_test(test_dkim_rfc8463_rsa_signature_exact),
        cmocka_unit_test(test_dkim_dual_signature_reproduces_rfc8463),
        cmocka_unit_test(test_dkim_h_oversigns_from_and_lists_present_fields),
        cmocka_unit_test(test_dkim_selects_fields_bottom_up),
        cmocka_unit_test(test_dkim_field_is_folded_at_78_with_b_last),
        cmocka_unit_test(test_dkim_simple_canonicalization_tags),
        cmocka_unit_test(test_dkim_sign_refuses_too_many_fields),
        cmocka_unit_test(test_dkim_sign_odd_messages),
        cmocka_unit_test(test_dkim_key_generate_and_load_round_trip),
        cmocka_unit_test(test_dkim_key_load_errors_name_the_record),
        cmocka_unit_test(test_dkim_zone_line_splits_at_255),
        cmocka_unit_test(test_dkim_alg_names),
        cmocka_unit_test(test_dkim_signer_shared_by_threads),
        cmocka_unit_test(test_dkim_sign_cpu_samples_one_in_n),
        cmocka_unit_test(test_dkim_relaxed_body_matches_reference),
        cmocka_unit_test(test_dkim_relaxed_header_matches_reference),
    };
    return cmocka_run_group_tests(tests, NULL, teardown_thread);
}
