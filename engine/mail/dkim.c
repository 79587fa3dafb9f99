/*
 * dkim - DKIM signatures (RFC 6376), rsa-sha256 and ed25519-sha256 (RFC 8463).
 *
 * Signing is one pass over the message: the header is scanned once for the
 * fields to sign, the body is canonicalized straight into SHA-256 in spans
 * of the original octets (no copy where the canonical form is unchanged;
 * ordinary text is skipped 16 octets at a time with SSE2, else 8 by SWAR),
 * and the DKIM-Signature field is built directly in the caller's buffer.
 * Digest contexts live per thread and are reused; the key is parsed once.
 *
 * Errors: key loading reports one line naming the selector record and the
 * reason; signing returns -1 (unsignable message) or -2 (OpenSSL failed).
 * No function here logs, and none prints key material.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "engine/util/alloc.h"
#include "engine/util/base64.h"
#include "engine/util/buf.h"
#include "engine/util/str.h"

#include "engine/mail/dkim.h"

#define FOLD_WIDTH 78
#define SIG_MAX 1024 /* octets of an RSA-8192 signature */

struct dkim_key {
    EVP_PKEY *pkey;
    enum dkim_alg alg;
};

struct dkim_signer {
    char *domain;
    char *selector;
    struct dkim_key *key;
    EVP_MD *sha256;
    enum dkim_canon hcanon, bcanon;
    unsigned long id; /* tells per-thread cached key contexts apart */
};

/* The fields dkim_sign covers, in h= order; From is oversigned. */
static const char *const default_names[] = {
    "from", "to", "subject", "date", "message-id", "mime-version", "content-type",
    "reply-to", "list-unsubscribe", "list-unsubscribe-post", "list-id",
};
#define NDEFAULT (sizeof(default_names) / sizeof(default_names[0]))
#define MAX_NAMES 64

/* ---- output sinks: a buffer, or a digest ---- */

struct sink {
    void (*put)(struct sink *s, const char *p, size_t n);
    struct buf *buf;
    EVP_MD_CTX *md;
    int failed;
};

static void sink_buf_put(struct sink *s, const char *p, size_t n)
{
    buf_append(s->buf, p, n);
}

static void sink_md_put(struct sink *s, const char *p, size_t n)
{
    if (n && EVP_DigestUpdate(s->md, p, n) != 1)
        s->failed = 1;
}

/* A small staging area so byte-wise transforms reach the sink in chunks. */
struct stage {
    struct sink *sink;
    size_t n;
    char b[512];
};

static void stage_flush(struct stage *st)
{
    if (st->n)
        st->sink->put(st->sink, st->b, st->n);
    st->n = 0;
}

static inline void stage_putc(struct stage *st, char c)
{
    if (st->n == sizeof(st->b))
        stage_flush(st);
    st->b[st->n++] = c;
}

/* stage_put - N octets from P, through the staging area (straight to the sink when larger) */
static inline void stage_put(struct stage *st, const char *p, size_t n)
{
    if (st->n + n > sizeof(st->b)) {
        stage_flush(st);
        if (n > sizeof(st->b)) {
            st->sink->put(st->sink, p, n);
            return;
        }
    }
    memcpy(st->b + st->n, p, n);
    st->n += n;
}

static inline int is_wsp(char c)
{
    return c == ' ' || c == '\t';
}

static inline char ascii_lower(char c)
{
    return c >= 'A' && c <= 'Z' ? (char)(c + ('a' - 'A')) : c;
}

/* Length of FIELD without its final line ending. */
static size_t strip_eol(const char *f, size_t len)
{
    if (len >= 2 && f[len - 2] == '\r' && f[len - 1] == '\n')
        return len - 2;
    if (len >= 1 && f[len - 1] == '\n')
        return len - 1;
    return len;
}

/* ---- canonicalization (RFC 6376 3.4) ---- */

/* Relaxed header: name in lower case, no WSP around the colon, WSP runs one SP, unfolded.
 * Runs of octets above SP (all but WSP, CR, LF and controls) are copied whole. */
static void header_relaxed(struct sink *s, const char *f, size_t len, int crlf)
{
    struct stage st = { .sink = s, .n = 0 };
    const char *colon = memchr(f, ':', len);
    size_t nlen = colon ? (size_t)(colon - f) : len, ne = nlen;
    while (ne > 0 && is_wsp(f[ne - 1]))
        ne--;
    for (size_t i = 0; i < ne; i++)
        stage_putc(&st, ascii_lower(f[i]));
    if (colon) {
        int pending = 0, any = 0;
        stage_putc(&st, ':');
        for (size_t i = nlen + 1; i < len; i++) {
            char c = f[i];
            if ((unsigned char)c > ' ') {
                size_t j = i + 1;
                while (j < len && (unsigned char)f[j] > ' ')
                    j++;
                if (pending && any)
                    stage_putc(&st, ' ');
                pending = 0;
                any = 1;
                stage_put(&st, f + i, j - i);
                i = j - 1;
                continue;
            }
            if (c == '\r' && i + 1 < len && f[i + 1] == '\n') {
                i++;
                continue;
            }
            if (is_wsp(c)) {
                pending = 1;
                continue;
            }
            if (pending && any)
                stage_putc(&st, ' ');
            pending = 0;
            any = 1;
            stage_putc(&st, c);
        }
    }
    if (crlf) {
        stage_putc(&st, '\r');
        stage_putc(&st, '\n');
    }
    stage_flush(&st);
}

static void header_canon(struct sink *s, enum dkim_canon canon, const char *f, size_t len, int crlf)
{
    len = strip_eol(f, len);
    if (canon == DKIM_CANON_RELAXED) {
        header_relaxed(s, f, len, crlf);
        return;
    }
    s->put(s, f, len);
    if (crlf)
        s->put(s, "\r\n", 2);
}

#define ONES 0x0101010101010101ULL
#define HIGHS 0x8080808080808080ULL

/* A high bit in each octet of W equal to C (none elsewhere below the first match). */
static inline uint64_t octets_equal(uint64_t w, char c)
{
    uint64_t v = w ^ (ONES * (unsigned char)c);
    return (v - ONES) & ~v & HIGHS;
}

/*
 * Whether any of the 8 octets from P may need rewriting in relaxed form: a
 * TAB, or a SP followed by SP, TAB or CR. Needs P[0..8] readable. False
 * positives only cost the slow path; there are no false negatives.
 */
static inline int needs_work(const char *p)
{
    uint64_t w, n;
    memcpy(&w, p, 8);
    memcpy(&n, p + 1, 8);
    uint64_t next = octets_equal(n, ' ') | octets_equal(n, '\t') | octets_equal(n, '\r');
    return (octets_equal(w, '\t') | (octets_equal(w, ' ') & next)) != 0;
}

#ifdef __SSE2__
/* needs_work for the 16 octets from P (P[0..17) readable), with SSE2. */
static inline int needs_work16(const char *p)
{
    const __m128i sp = _mm_set1_epi8(' '), tab = _mm_set1_epi8('\t'), cr = _mm_set1_epi8('\r');
    __m128i w = _mm_loadu_si128((const __m128i *)(const void *)p);
    __m128i n = _mm_loadu_si128((const __m128i *)(const void *)(p + 1));
    __m128i next = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(n, sp), _mm_cmpeq_epi8(n, tab)), _mm_cmpeq_epi8(n, cr));
    __m128i bad = _mm_or_si128(_mm_cmpeq_epi8(w, tab), _mm_and_si128(_mm_cmpeq_epi8(w, sp), next));
    return _mm_movemask_epi8(bad) != 0;
}
#endif

/* Relaxed body: WSP runs become one SP, WSP before a line end and empty lines at the end go. */
static void body_relaxed(struct sink *s, const char *p, size_t len)
{
    size_t end = len;
    for (;;) {
        if (end > 0 && is_wsp(p[end - 1]))
            end--;
        else if (end >= 2 && p[end - 2] == '\r' && p[end - 1] == '\n')
            end -= 2;
        else
            break;
    }
    if (end == 0)
        return;
    size_t start = 0, i = 0;
    while (i < end) {
#ifdef __SSE2__
        if (i + 17 <= end && !needs_work16(p + i)) { /* ordinary text, 16 octets at a time */
            i += 16;
            continue;
        }
#endif
        if (i + 9 <= end && !needs_work(p + i)) { /* ordinary text, 8 octets at a time */
            i += 8;
            continue;
        }
        if (!is_wsp(p[i])) {
            i++;
            continue;
        }
        size_t j = i + 1;
        while (j < end && is_wsp(p[j]))
            j++;
        int eol = j + 1 < end && p[j] == '\r' && p[j + 1] == '\n';
        if (eol || j - i > 1 || p[i] == '\t') {
            s->put(s, p + start, i - start);
            if (!eol)
                s->put(s, " ", 1);
            start = j;
        }
        i = j;
    }
    s->put(s, p + start, end - start);
    s->put(s, "\r\n", 2);
}

/* Simple body: empty lines at the end go; an empty body is one CRLF. */
static void body_simple(struct sink *s, const char *p, size_t len)
{
    if (len < 2 || p[len - 2] != '\r' || p[len - 1] != '\n') {
        s->put(s, p, len);
        s->put(s, "\r\n", 2);
        return;
    }
    size_t end = len;
    while (end >= 4 && memcmp(p + end - 4, "\r\n\r\n", 4) == 0)
        end -= 2;
    s->put(s, p, end);
}

static void body_canon(struct sink *s, enum dkim_canon canon, const char *p, size_t len)
{
    if (canon == DKIM_CANON_RELAXED)
        body_relaxed(s, p, len);
    else
        body_simple(s, p, len);
}

/* dkim_canon_header - append the canonical form of one header field, with CRLF. */
void dkim_canon_header(struct buf *out, enum dkim_canon canon, const char *field, size_t len)
{
    struct sink s = { .put = sink_buf_put, .buf = out };
    header_canon(&s, canon, field, len, 1);
}

/* dkim_canon_body - append the canonical form of a body. */
void dkim_canon_body(struct buf *out, enum dkim_canon canon, const char *body, size_t len)
{
    struct sink s = { .put = sink_buf_put, .buf = out };
    body_canon(&s, canon, body, len);
}

/* dkim_body_hash - append the base64 SHA-256 of the canonical body. */
int dkim_body_hash(struct buf *out, enum dkim_canon canon, const char *body, size_t len)
{
    unsigned char h[EVP_MAX_MD_SIZE];
    unsigned int hlen = 0;
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    struct sink s = { .put = sink_md_put, .md = md };
    int ok = md && EVP_DigestInit_ex(md, EVP_sha256(), NULL) == 1;
    if (ok) {
        body_canon(&s, canon, body, len);
        ok = !s.failed && EVP_DigestFinal_ex(md, h, &hlen) == 1;
    }
    EVP_MD_CTX_free(md);
    if (!ok) {
        ERR_clear_error();
        return -1;
    }
    base64_encode(out, h, hlen);
    return 0;
}

/* ---- algorithms and keys ---- */

/* dkim_alg_parse - an algorithm from its key type or a= name. */
int dkim_alg_parse(const char *name, enum dkim_alg *alg)
{
    if (!strcasecmp(name, "rsa") || !strcasecmp(name, "rsa-sha256"))
        *alg = DKIM_RSA_SHA256;
    else if (!strcasecmp(name, "ed25519") || !strcasecmp(name, "ed25519-sha256"))
        *alg = DKIM_ED25519_SHA256;
    else
        return -1;
    return 0;
}

/* dkim_alg_name - the a= value. */
const char *dkim_alg_name(enum dkim_alg alg)
{
    return alg == DKIM_ED25519_SHA256 ? "ed25519-sha256" : "rsa-sha256";
}

/* dkim_alg_key_type - the k= value. */
const char *dkim_alg_key_type(enum dkim_alg alg)
{
    return alg == DKIM_ED25519_SHA256 ? "ed25519" : "rsa";
}

/* The p= value of PKEY: base64 SubjectPublicKeyInfo (RSA) or raw key (Ed25519). */
static int pkey_public(EVP_PKEY *pkey, enum dkim_alg alg, struct buf *out)
{
    if (alg == DKIM_ED25519_SHA256) {
        unsigned char raw[32];
        size_t n = sizeof(raw);
        if (EVP_PKEY_get_raw_public_key(pkey, raw, &n) != 1 || n != sizeof(raw)) {
            ERR_clear_error();
            return -1;
        }
        base64_encode(out, raw, n);
        return 0;
    }
    unsigned char *der = NULL;
    int n = i2d_PUBKEY(pkey, &der);
    if (n <= 0) {
        ERR_clear_error();
        return -1;
    }
    base64_encode(out, der, (size_t)n);
    OPENSSL_free(der);
    return 0;
}

/* dkim_key_generate - a new key pair as PEM and p= value. */
int dkim_key_generate(enum dkim_alg alg, int bits, char **pem, char **public, const char **why)
{
    EVP_PKEY *pkey;
    *pem = *public = NULL;
    if (alg == DKIM_RSA_SHA256) {
        if (bits == 0)
            bits = DKIM_RSA_DEFAULT_BITS;
        if (bits < DKIM_RSA_MIN_BITS || bits > DKIM_RSA_MAX_BITS) {
            *why = "RSA key size must be 1024 to 8192 bits";
            return -1;
        }
        pkey = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)bits);
    } else {
        pkey = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
    }
    if (!pkey) {
        ERR_clear_error();
        *why = "key generation failed";
        return -1;
    }
    struct buf pub = BUF_INIT;
    BIO *bio = BIO_new(BIO_s_secmem());
    BUF_MEM *mem = NULL;
    int ok = bio && PEM_write_bio_PrivateKey(bio, pkey, NULL, NULL, 0, NULL, NULL) == 1 &&
             BIO_get_mem_ptr(bio, &mem) > 0 && mem && pkey_public(pkey, alg, &pub) == 0;
    if (ok) {
        *pem = xstrndup(mem->data, mem->length);
        *public = buf_detach(&pub, NULL);
    } else {
        ERR_clear_error();
        *why = "cannot encode the new key";
        buf_free(&pub);
    }
    BIO_free(bio);
    EVP_PKEY_free(pkey);
    return ok ? 0 : -1;
}

/* Refuse to prompt for a passphrase: encrypted keys simply fail to load. */
static int no_passphrase(char *buf, int size, int rwflag, void *u)
{
    (void)buf;
    (void)size;
    (void)rwflag;
    (void)u;
    return -1;
}

/* Why PEM text would not load, in words that never quote it. */
static const char *load_reason(const char *pem, size_t len, char *tmp, size_t tmplen)
{
    unsigned long e = ERR_peek_last_error();
    if (len == 0)
        return "the key text is empty";
    if (!memmem(pem, len, "-----BEGIN ", 11))
        return "no PEM \"-----BEGIN\" line";
    if (memmem(pem, len, "ENCRYPTED", 9))
        return "encrypted keys are not supported";
    if (memmem(pem, len, "PUBLIC KEY-----", 15))
        return "this is a public key, not a private key";
    const char *r = e ? ERR_reason_error_string(e) : NULL;
    snprintf(tmp, tmplen, "not a valid private key (%s)", r ? r : "unreadable PEM");
    return tmp;
}

/* dkim_key_load - load an RSA or Ed25519 private key from PEM. */
struct dkim_key *dkim_key_load(const char *pem, size_t len, const char *selector,
                               const char *domain, char **err)
{
    char tmp[160];
    const char *why = NULL;
    EVP_PKEY *pkey = NULL;
    enum dkim_alg alg = DKIM_RSA_SHA256;

    if (err)
        *err = NULL;
    ERR_clear_error();
    if (len > 0 && len < 64 * 1024) {
        BIO *bio = BIO_new_mem_buf(pem, (int)len);
        if (bio)
            pkey = PEM_read_bio_PrivateKey(bio, NULL, no_passphrase, NULL);
        BIO_free(bio);
    }
    if (!pkey) {
        why = len >= 64 * 1024 ? "the key text is too long" : load_reason(pem, len, tmp, sizeof(tmp));
    } else if (EVP_PKEY_is_a(pkey, "ED25519")) {
        alg = DKIM_ED25519_SHA256;
    } else if (EVP_PKEY_is_a(pkey, "RSA")) {
        int bits = EVP_PKEY_get_bits(pkey);
        if (bits < DKIM_RSA_MIN_BITS || bits > DKIM_RSA_MAX_BITS) {
            snprintf(tmp, sizeof(tmp), "RSA key of %d bits (1024 to 8192 are accepted)", bits);
            why = tmp;
        }
    } else {
        why = "unsupported key type (RSA and Ed25519 are)";
    }
    ERR_clear_error();
    if (why) {
        EVP_PKEY_free(pkey);
        if (err)
            *err = xasprintf("cannot load DKIM key for %s._domainkey.%s: %s",
                             selector ? selector : "?", domain ? domain : "?", why);
        return NULL;
    }
    struct dkim_key *key = xcalloc(1, sizeof(*key));
    key->pkey = pkey;
    key->alg = alg;
    return key;
}

/* dkim_key_alg - the algorithm of KEY. */
enum dkim_alg dkim_key_alg(const struct dkim_key *key)
{
    return key->alg;
}

/* dkim_key_public - append the p= value of KEY. */
int dkim_key_public(const struct dkim_key *key, struct buf *out)
{
    return pkey_public(key->pkey, key->alg, out);
}

/* dkim_key_free - free KEY. */
void dkim_key_free(struct dkim_key *key)
{
    if (!key)
        return;
    EVP_PKEY_free(key->pkey); /* OpenSSL clears private key material on free */
    xfree(key);
}

/* dkim_secret_free - wipe and free S. */
void dkim_secret_free(char *s)
{
    if (!s)
        return;
    OPENSSL_cleanse(s, strlen(s));
    xfree(s);
}

/* ---- DNS ---- */

/* dkim_txt_record - append the TXT record value publishing PUBLIC. */
void dkim_txt_record(struct buf *out, enum dkim_alg alg, const char *public)
{
    buf_appendf(out, "v=DKIM1; k=%s; s=email; p=%s", dkim_alg_key_type(alg), public);
}

/* dkim_zone_line - append a zone-file line for TXT in strings of at most 255 octets. */
void dkim_zone_line(struct buf *out, const char *selector, const char *domain, const char *txt)
{
    size_t dlen = strlen(domain), tlen = strlen(txt);
    buf_appendf(out, "%s._domainkey.%s%s IN TXT (", selector, domain,
                dlen && domain[dlen - 1] == '.' ? "" : ".");
    for (size_t i = 0; i < tlen || i == 0; i += 255) {
        size_t n = tlen - i < 255 ? tlen - i : 255;
        buf_appends(out, " \"");
        for (size_t j = 0; j < n; j++) {
            char c = txt[i + j];
            if (c == '"' || c == '\\')
                buf_appendc(out, '\\');
            buf_appendc(out, c);
        }
        buf_appendc(out, '"');
        if (tlen == 0)
            break;
    }
    buf_appends(out, " )");
}

/* ---- signer ---- */

static unsigned long signer_ids;

/* dkim_signer_new - a signer for DOMAIN/SELECTOR, owning KEY. */
struct dkim_signer *dkim_signer_new(const char *domain, const char *selector, struct dkim_key *key)
{
    EVP_MD *md = EVP_MD_fetch(NULL, "SHA2-256", NULL);
    if (!md) {
        ERR_clear_error();
        dkim_key_free(key);
        return NULL;
    }
    struct dkim_signer *s = xcalloc(1, sizeof(*s));
    s->domain = xstrdup(domain);
    s->selector = xstrdup(selector);
    s->key = key;
    s->sha256 = md;
    s->hcanon = s->bcanon = DKIM_CANON_RELAXED;
    s->id = __atomic_add_fetch(&signer_ids, 1, __ATOMIC_RELAXED);
    return s;
}

/* dkim_signer_set_canon - choose the canonicalizations. */
void dkim_signer_set_canon(struct dkim_signer *signer, enum dkim_canon header, enum dkim_canon body)
{
    signer->hcanon = header;
    signer->bcanon = body;
}

/* dkim_signer_free - free SIGNER and its key. */
void dkim_signer_free(struct dkim_signer *signer)
{
    if (!signer)
        return;
    dkim_key_free(signer->key);
    EVP_MD_free(signer->sha256);
    xfree(signer->domain);
    xfree(signer->selector);
    xfree(signer);
}

/* ---- per-thread contexts ---- */

#define KEY_CACHE 4

/*
 * A signing context bound to one signer's key, kept per thread and reused.
 * An RSA key is duplicated for the thread: OpenSSL keeps RSA blinding state
 * in the key, and a key shared by several signing threads gives all but one
 * of them a second, lock-protected blinding (and the key's lock on every
 * signature), so the threads would contend on each other's cache lines.
 */
struct keyctx {
    unsigned long id;  /* the signer's */
    EVP_PKEY *own;     /* this thread's copy of an RSA key, or NULL */
    EVP_PKEY_CTX *rsa; /* initialised for PKCS#1 v1.5 with SHA-256 */
    EVP_MD_CTX *ed;    /* initialised for Ed25519 one-shot signing */
};

struct tctx {
    EVP_MD_CTX *md; /* body and header hashes */
    struct buf b64; /* the signature in base64 */
    struct keyctx key[KEY_CACHE];
    unsigned next;
};

static pthread_key_t tctx_key;
static pthread_once_t tctx_once = PTHREAD_ONCE_INIT;
static int tctx_key_ok;

static void keyctx_clear(struct keyctx *k)
{
    EVP_PKEY_CTX_free(k->rsa);
    EVP_PKEY_free(k->own); /* OpenSSL clears private key material on free */
    EVP_MD_CTX_free(k->ed);
    memset(k, 0, sizeof(*k));
}

static void tctx_destroy(void *p)
{
    struct tctx *t = p;
    if (!t)
        return;
    EVP_MD_CTX_free(t->md);
    for (unsigned i = 0; i < KEY_CACHE; i++)
        keyctx_clear(&t->key[i]);
    buf_free(&t->b64);
    xfree(t);
}

static void tctx_make_key(void)
{
    tctx_key_ok = pthread_key_create(&tctx_key, tctx_destroy) == 0;
}

static struct tctx *tctx_get(void)
{
    pthread_once(&tctx_once, tctx_make_key);
    if (!tctx_key_ok)
        return NULL;
    struct tctx *t = pthread_getspecific(tctx_key);
    if (t)
        return t;
    t = xcalloc(1, sizeof(*t));
    t->md = EVP_MD_CTX_new();
    if (!t->md || pthread_setspecific(tctx_key, t) != 0) {
        tctx_destroy(t);
        return NULL;
    }
    return t;
}

/* dkim_thread_cleanup - free this thread's contexts. */
void dkim_thread_cleanup(void)
{
    pthread_once(&tctx_once, tctx_make_key);
    struct tctx *t = tctx_key_ok ? pthread_getspecific(tctx_key) : NULL;
    if (t) {
        pthread_setspecific(tctx_key, NULL);
        tctx_destroy(t);
    }
}

static int ed_init(EVP_MD_CTX *mc, EVP_PKEY *pkey)
{
    EVP_MD_CTX_reset(mc);
    return EVP_DigestSignInit_ex(mc, NULL, NULL, NULL, NULL, pkey, NULL) == 1 ? 0 : -1;
}

/* The signing context for SIGNER in this thread, made on first use. */
static struct keyctx *keyctx_get(struct tctx *t, const struct dkim_signer *signer)
{
    for (unsigned i = 0; i < KEY_CACHE; i++)
        if (t->key[i].id == signer->id)
            return &t->key[i];
    struct keyctx *k = &t->key[t->next++ % KEY_CACHE];
    keyctx_clear(k);
    EVP_PKEY *pkey = signer->key->pkey;
    if (signer->key->alg == DKIM_RSA_SHA256) {
        k->own = EVP_PKEY_dup(pkey);
        if (!k->own) /* signing still works on the shared key */
            ERR_clear_error();
        k->rsa = EVP_PKEY_CTX_new_from_pkey(NULL, k->own ? k->own : pkey, NULL);
        if (!k->rsa || EVP_PKEY_sign_init(k->rsa) <= 0 ||
            EVP_PKEY_CTX_set_rsa_padding(k->rsa, RSA_PKCS1_PADDING) <= 0 ||
            EVP_PKEY_CTX_set_signature_md(k->rsa, signer->sha256) <= 0) {
            keyctx_clear(k);
            return NULL;
        }
    } else {
        k->ed = EVP_MD_CTX_new();
        if (!k->ed || ed_init(k->ed, pkey) != 0) {
            keyctx_clear(k);
            return NULL;
        }
    }
    k->id = signer->id;
    return k;
}

/* Sign the 32-octet header hash H: PKCS#1 v1.5 over SHA-256, or Ed25519 over H itself. */
static int key_sign(struct keyctx *k, const struct dkim_signer *signer, const unsigned char *h, unsigned char *sig,
                    size_t *siglen)
{
    if (k->rsa)
        return EVP_PKEY_sign(k->rsa, sig, siglen, h, 32) > 0 ? 0 : -1;
    size_t room = *siglen;
    if (EVP_DigestSign(k->ed, sig, siglen, h, 32) == 1)
        return 0;
    /* an OpenSSL that refuses to reuse a one-shot context: initialise it again */
    ERR_clear_error();
    *siglen = room;
    if (ed_init(k->ed, signer->key->pkey) != 0)
        return -1;
    return EVP_DigestSign(k->ed, sig, siglen, h, 32) == 1 ? 0 : -1;
}

/* the sampled CPU time of the private-key operations (dkim_sign_cpu) */
static unsigned long sign_timed;
static unsigned long long sign_ns;
static __thread unsigned sign_count;

static unsigned long long thread_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (unsigned long long)ts.tv_sec * 1000000000ull + (unsigned long long)ts.tv_nsec;
}

static int sign_hash(struct tctx *t, const struct dkim_signer *signer, const unsigned char *h,
                     unsigned char *sig, size_t *siglen)
{
    struct keyctx *k = keyctx_get(t, signer);
    if (!k)
        return -1;
    if (sign_count++ % DKIM_SIGN_SAMPLE != 0)
        return key_sign(k, signer, h, sig, siglen);
    /* the clock's own cost (T1 - T0) is taken off the interval it falls in */
    unsigned long long t0 = thread_ns(), t1 = thread_ns();
    int rc = key_sign(k, signer, h, sig, siglen);
    unsigned long long t2 = thread_ns(), clock = t1 - t0;
    __atomic_add_fetch(&sign_ns, t2 - t1 > clock ? t2 - t1 - clock : 0, __ATOMIC_RELAXED);
    __atomic_add_fetch(&sign_timed, 1, __ATOMIC_RELAXED);
    return rc;
}

/* dkim_sign_cpu - see dkim.h. */
void dkim_sign_cpu(unsigned long *timed, unsigned long long *ns)
{
    *timed = __atomic_load_n(&sign_timed, __ATOMIC_RELAXED);
    *ns = __atomic_load_n(&sign_ns, __ATOMIC_RELAXED);
}

/* ---- the header: scanning and selection ---- */

struct field {
    const char *p;
    size_t len;
    unsigned char name; /* index into the name table */
};

struct scan {
    struct field f[DKIM_MAX_SIGNED_FIELDS];
    size_t n;
    size_t body; /* offset of the body */
};

static int name_index(const char *const *names, size_t nnames, const char *p, size_t n)
{
    for (size_t i = 0; i < nnames; i++)
        if (strlen(names[i]) == n && !strncasecmp(names[i], p, n))
            return (int)i;
    return -1;
}

/* Record each header field named in NAMES; find where the body starts. -1 when too many. */
static int scan_header(const char *msg, size_t len, const char *const *names, size_t nnames,
                       struct scan *sc)
{
    size_t pos = 0;
    sc->n = 0;
    while (pos < len) {
        if (msg[pos] == '\n') {
            pos++;
            break;
        }
        if (msg[pos] == '\r' && pos + 1 < len && msg[pos + 1] == '\n') {
            pos += 2;
            break;
        }
        size_t start = pos;
        for (;;) { /* the field: its first line and continuation lines */
            const char *nl = memchr(msg + pos, '\n', len - pos);
            pos = nl ? (size_t)(nl - msg) + 1 : len;
            if (pos >= len || !is_wsp(msg[pos]))
                break;
        }
        const char *colon = memchr(msg + start, ':', pos - start);
        if (!colon)
            continue;
        size_t ne = (size_t)(colon - (msg + start));
        while (ne > 0 && is_wsp(msg[start + ne - 1]))
            ne--;
        int idx = name_index(names, nnames, msg + start, ne);
        if (idx < 0)
            continue;
        if (sc->n == DKIM_MAX_SIGNED_FIELDS)
            return -1;
        sc->f[sc->n++] = (struct field){ msg + start, pos - start, (unsigned char)idx };
    }
    sc->body = pos;
    return 0;
}

/* ---- building the DKIM-Signature field ---- */

struct fold {
    struct buf *out;
    size_t col;
};

/* Append the pieces A B C as one token, after a space (SPACE) or directly; fold before it if needed. */
static void fold_token(struct fold *f, int space, const char *a, const char *b, size_t blen,
                       const char *c)
{
    size_t alen = strlen(a), clen = strlen(c), n = alen + blen + clen;
    if (space) {
        if (f->col + 1 + n > FOLD_WIDTH) {
            buf_append(f->out, "\r\n ", 3);
            f->col = 1;
        } else {
            buf_appendc(f->out, ' ');
            f->col++;
        }
    } else if (f->col + n > FOLD_WIDTH && f->col > 1) {
        buf_append(f->out, "\r\n ", 3);
        f->col = 1;
    }
    buf_append(f->out, a, alen);
    buf_append(f->out, b, blen);
    buf_append(f->out, c, clen);
    f->col += n;
}

struct hspec {
    const char *const *names; /* table the message was scanned for */
    size_t nnames;
    unsigned char list[DKIM_MAX_SIGNED_FIELDS + MAX_NAMES]; /* h= entries, as name indices */
    size_t nlist;
    const char *sep;
    const char *identity;
    int query;
};

/* Append everything up to and including "b=" (the part the header hash covers). */
static void build_field(struct fold *f, const struct dkim_signer *s, const struct hspec *hs,
                        long long timestamp, const unsigned char *bh)
{
    char num[32];
    static const char *const canon[2][2] = { { "relaxed/relaxed", "relaxed/simple" },
                                             { "simple/relaxed", "simple/simple" } };
    size_t seplen = strlen(hs->sep), core = seplen;
    while (core > 0 && hs->sep[core - 1] == ' ')
        core--;
    char sepcore[16];
    if (core >= sizeof(sepcore))
        core = sizeof(sepcore) - 1;
    memcpy(sepcore, hs->sep, core);
    sepcore[core] = 0;

    buf_appends(f->out, "DKIM-Signature:");
    f->col = 15;
    fold_token(f, 1, "v=1;", "", 0, "");
    fold_token(f, 1, "a=", dkim_alg_name(s->key->alg), strlen(dkim_alg_name(s->key->alg)), ";");
    const char *c = canon[s->hcanon][s->bcanon];
    fold_token(f, 1, "c=", c, strlen(c), ";");
    fold_token(f, 1, "d=", s->domain, strlen(s->domain), ";");
    if (hs->identity)
        fold_token(f, 1, "i=", hs->identity, strlen(hs->identity), ";");
    if (hs->query)
        fold_token(f, 1, "q=dns/txt;", "", 0, "");
    fold_token(f, 1, "s=", s->selector, strlen(s->selector), ";");
    if (timestamp >= 0)
        str_u64(num, (unsigned long long)timestamp, 10);
    else
        snprintf(num, sizeof(num), "%lld", timestamp);
    fold_token(f, 1, "t=", num, strlen(num), ";");
    for (size_t k = 0; k < hs->nlist; k++) {
        const char *name = hs->names[hs->list[k]];
        int last = k + 1 == hs->nlist;
        fold_token(f, k == 0 || core < seplen, k == 0 ? "h=" : "", name, strlen(name),
                   last ? ";" : sepcore);
    }
    struct buf *out = f->out; /* bh= is encoded in place: " bh=" + 44 + ";" */
    if (f->col + 1 + 48 > FOLD_WIDTH) {
        buf_append(out, "\r\n bh=", 6);
        f->col = 1 + 3;
    } else {
        buf_append(out, " bh=", 4);
        f->col += 4;
    }
    base64_encode(out, bh, 32);
    buf_appendc(out, ';');
    f->col += 45;
    fold_token(f, 1, "b=", "", 0, "");
}

/* Append the base64 signature after "b=", folded, then the final CRLF. */
static void append_b(struct fold *f, const char *b64, size_t n)
{
    while (n > 0) {
        if (f->col >= FOLD_WIDTH) {
            buf_append(f->out, "\r\n ", 3);
            f->col = 1;
        }
        size_t k = FOLD_WIDTH - f->col;
        if (k > n)
            k = n;
        buf_append(f->out, b64, k);
        f->col += k;
        b64 += k;
        n -= k;
    }
    buf_append(f->out, "\r\n", 2);
}

/* ---- signing ---- */

static int sign_message(const struct dkim_signer *signer, const char *msg, size_t len,
                        long long timestamp, struct hspec *hs, const struct scan *sc, const unsigned char *bh_given,
                        struct buf *out)
{
    struct tctx *t = tctx_get();
    unsigned char bh[EVP_MAX_MD_SIZE], hh[EVP_MAX_MD_SIZE], sig[SIG_MAX];
    size_t siglen = sizeof(sig), out0 = out->len;
    uint64_t used = 0;
    struct fold f = { out, 0 };

    if (!t)
        return -2;
    struct sink s = { .put = sink_md_put, .md = t->md };
    if (bh_given) {
        memcpy(bh, bh_given, 32);
    } else {
        if (EVP_DigestInit_ex(t->md, signer->sha256, NULL) != 1)
            goto fail;
        body_canon(&s, signer->bcanon, msg + sc->body, len - sc->body);
        if (s.failed || EVP_DigestFinal_ex(t->md, bh, NULL) != 1)
            goto fail;
    }

    if (EVP_DigestInit_ex(t->md, signer->sha256, NULL) != 1)
        goto fail;
    for (size_t k = 0; k < hs->nlist; k++) { /* RFC 6376 5.4.2: the last unused instance */
        for (size_t j = sc->n; j-- > 0;) {
            if (sc->f[j].name == hs->list[k] && !(used & ((uint64_t)1 << j))) {
                used |= (uint64_t)1 << j;
                header_canon(&s, signer->hcanon, sc->f[j].p, sc->f[j].len, 1);
                break;
            }
        }
    }
    build_field(&f, signer, hs, timestamp, bh);
    header_canon(&s, signer->hcanon, out->data + out0, out->len - out0, 0);
    if (s.failed || EVP_DigestFinal_ex(t->md, hh, NULL) != 1)
        goto fail;
    if (sign_hash(t, signer, hh, sig, &siglen) != 0)
        goto fail;
    buf_reset(&t->b64);
    base64_encode(&t->b64, sig, siglen);
    append_b(&f, t->b64.data, t->b64.len);
    return 0;
fail:
    ERR_clear_error();
    buf_truncate(out, out0);
    return -2;
}

/* sign_default - append a DKIM-Signature field for MSG with the default h= list (BH: the body's hash, or NULL) */
static int sign_default(const struct dkim_signer *signer, const char *msg, size_t len, long long timestamp,
                        const unsigned char *bh, struct buf *out)
{
    struct scan sc;
    struct hspec hs = { .names = default_names, .nnames = NDEFAULT, .sep = ":" };
    size_t count[NDEFAULT] = { 0 };

    if (scan_header(msg, len, default_names, NDEFAULT, &sc) != 0)
        return -1;
    for (size_t j = 0; j < sc.n; j++)
        count[sc.f[j].name]++;
    count[0]++; /* From once more: nobody can add one */
    for (size_t i = 0; i < NDEFAULT; i++)
        for (size_t c = 0; c < count[i]; c++)
            hs.list[hs.nlist++] = (unsigned char)i;
    return sign_message(signer, msg, len, timestamp, &hs, &sc, bh, out);
}

/* dkim_sign - append a DKIM-Signature field for MSG with the default h= list. */
int dkim_sign(const struct dkim_signer *signer, const char *msg, size_t len, long long timestamp,
              struct buf *out)
{
    return sign_default(signer, msg, len, timestamp, NULL, out);
}

/* dkim_sign_bh - see dkim.h. */
int dkim_sign_bh(const struct dkim_signer *signer, const char *msg, size_t len, long long timestamp,
                 const unsigned char bh[32], struct buf *out)
{
    return sign_default(signer, msg, len, timestamp, bh, out);
}

/* a sink that keeps the canonical body as the message's own octets, then at most a short tail, else a copy */
struct collect {
    struct sink s; /* first: the sink's put gets this */
    struct dkim_body *b;
    bool copying;
};

static void collect_put(struct sink *sk, const char *p, size_t n)
{
    struct collect *c = (struct collect *)(void *)sk;
    struct dkim_body *b = c->b;
    if (n == 0)
        return;
    if (c->copying) {
        buf_append(&b->copy, p, n);
    } else if (b->in.bn == 0 && (b->in.an == 0 || (const unsigned char *)p == b->in.a + b->in.an)) {
        if (b->in.an == 0)
            b->in.a = (const unsigned char *)p;
        b->in.an += n;
    } else if (b->in.bn + n <= sizeof(b->tail)) {
        memcpy(b->tail + b->in.bn, p, n);
        b->in.bn += n;
    } else {
        c->copying = true;
        buf_reset(&b->copy);
        buf_append(&b->copy, b->in.a, b->in.an);
        buf_append(&b->copy, b->tail, b->in.bn);
        buf_append(&b->copy, p, n);
    }
}

/* dkim_body_of - see dkim.h. */
void dkim_body_of(enum dkim_canon canon, const char *msg, size_t len, struct dkim_body *b)
{
    struct collect c = { .s = { .put = collect_put }, .b = b };
    struct scan sc;
    scan_header(msg, len, NULL, 0, &sc); /* no names: only where the body starts (never fails) */
    size_t at = sc.body;
    b->in = (struct sha256_in){ .a = (const unsigned char *)"", .b = b->tail };
    body_canon(&c.s, canon, msg + at, len - at);
    if (c.copying)
        b->in = (struct sha256_in){ .a = (const unsigned char *)b->copy.data, .an = b->copy.len,
                                    .b = b->tail, .bn = 0 };
}

/* dkim_signer_body_canon - see dkim.h. */
enum dkim_canon dkim_signer_body_canon(const struct dkim_signer *signer)
{
    return signer->bcanon;
}

/* dkim_sign_with - append a DKIM-Signature field with the h= list and tags of OPTS. */
int dkim_sign_with(const struct dkim_signer *signer, const char *msg, size_t len, long long timestamp,
                   const struct dkim_sign_opts *opts, struct buf *out)
{
    struct scan sc;
    struct hspec hs = { .names = opts->headers, .nnames = opts->nheaders,
                        .sep = opts->h_separator ? opts->h_separator : ":",
                        .identity = opts->identity, .query = opts->query_dns_txt };

    if (opts->nheaders == 0 || opts->nheaders > MAX_NAMES)
        return -1;
    for (size_t k = 0; k < opts->nheaders; k++) /* each entry as the first equal name */
        hs.list[hs.nlist++] = (unsigned char)name_index(opts->headers, opts->nheaders,
                                                        opts->headers[k], strlen(opts->headers[k]));
    if (scan_header(msg, len, opts->headers, opts->nheaders, &sc) != 0)
        return -1;
    return sign_message(signer, msg, len, timestamp, &hs, &sc, NULL, out);
}

/* dkim_selector_ok - see dkim.h. */
bool dkim_selector_ok(const char *s)
{
    size_t n = strlen(s);
    return n > 0 && n <= 63 && strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789-") == n && s[0] != '-' &&
           s[n - 1] != '-';
}

/* dkim_selector_default - see dkim.h. */
void dkim_selector_default(enum dkim_alg alg, time_t now, char *out, size_t outlen)
{
    struct tm tm;
    gmtime_r(&now, &tm);
    snprintf(out, outlen, "postino-%04d%02d-%s", tm.tm_year + 1900, tm.tm_mon + 1, dkim_alg_key_type(alg));
}
