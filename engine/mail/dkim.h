/*
 * dkim - DKIM signing (RFC 6376) with rsa-sha256 and ed25519-sha256 (RFC 8463).
 *
 * dkim_canon_header    canonicalize one header field (relaxed or simple)
 * dkim_canon_body      canonicalize a message body (relaxed or simple)
 * dkim_body_hash       base64 SHA-256 of the canonicalized body (the bh= value)
 * dkim_alg_parse       "rsa" / "ed25519" (or the a= names) to an algorithm
 * dkim_alg_name        the a= name: "rsa-sha256" or "ed25519-sha256"
 * dkim_alg_key_type    the k= name: "rsa" or "ed25519"
 * dkim_key_generate    a new private key as PEM, and its public value for p=
 * dkim_key_load        load a private key from PEM, with a one-line error
 * dkim_key_alg         the algorithm a loaded key signs with
 * dkim_key_public      the p= value of a loaded key
 * dkim_key_free        free a key
 * dkim_selector_ok     is this a selector (one DNS label)
 * dkim_selector_default the selector a new key gets: postino-YYYYMM-rsa|ed25519
 * dkim_secret_free     wipe and free private key text
 * dkim_txt_record      the DNS TXT value "v=DKIM1; k=rsa; s=email; p=..."
 * dkim_zone_line       "S._domainkey.D. IN TXT ( "..." "..." )", strings of at most 255 octets
 * dkim_signer_new      a signer for one domain, selector and key
 * dkim_signer_set_canon choose relaxed or simple for header and body
 * dkim_signer_free     free a signer and its key
 * dkim_sign            append one DKIM-Signature header field for a message
 * dkim_sign_with       the same with an explicit h= list and optional tags
 * dkim_body_of         a message's canonical body, for a batch's body hashes (sha256_many)
 * dkim_sign_bh         dkim_sign with the body hash given
 * dkim_thread_cleanup  free the calling thread's reusable digest contexts
 * dkim_sign_cpu        the CPU time the private-key operations take, sampled
 *
 * Everything here is pure computation (no I/O, no logging). Private key
 * material never appears in an error message. Messages are in CRLF form.
 *
 * Threads: a signer is read-only once set up, so any number of threads may
 * call dkim_sign on the same signer at once. Each thread keeps its own
 * reusable OpenSSL contexts (one digest context, and a signing context for
 * each of the last few signers it used), created on first use and freed when
 * the thread exits, or by dkim_thread_cleanup (the main thread, tests).
 */
#ifndef POSTINO_MAIL_DKIM_H
#define POSTINO_MAIL_DKIM_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "engine/util/buf.h"
#include "engine/util/sha256_many.h"

enum dkim_alg { DKIM_RSA_SHA256, DKIM_ED25519_SHA256 };
enum dkim_canon { DKIM_CANON_RELAXED, DKIM_CANON_SIMPLE };

#define DKIM_RSA_DEFAULT_BITS 2048
#define DKIM_RSA_MIN_BITS 1024
#define DKIM_RSA_MAX_BITS 8192
/* At most this many instances of signed header fields are considered per message. */
#define DKIM_MAX_SIGNED_FIELDS 64

struct dkim_key;
struct dkim_signer;

/*
 * dkim_canon_header - append the canonical form of one header field to OUT.
 * FIELD is the field as it appears in the message, name, colon, value and
 * any folding, with or without its final CRLF. The result always ends with
 * CRLF (the caller drops it for the DKIM-Signature field itself).
 */
void dkim_canon_header(struct buf *out, enum dkim_canon canon, const char *field, size_t len);

/*
 * dkim_canon_body - append the canonical form of the message body BODY (the
 * octets after the empty line ending the header) to OUT. A body lacking its
 * final CRLF is treated as the SMTP transport will send it, CRLF added.
 */
void dkim_canon_body(struct buf *out, enum dkim_canon canon, const char *body, size_t len);

/*
 * dkim_body_hash - append the base64 SHA-256 of the canonicalized BODY (the
 * bh= value, 44 characters) to OUT. Returns 0, or -1 if OpenSSL fails.
 */
int dkim_body_hash(struct buf *out, enum dkim_canon canon, const char *body, size_t len);

/* dkim_alg_parse - "rsa", "ed25519", "rsa-sha256" or "ed25519-sha256" into *ALG; 0 or -1. */
int dkim_alg_parse(const char *name, enum dkim_alg *alg);

/* dkim_alg_name - the a= tag value of ALG. */
const char *dkim_alg_name(enum dkim_alg alg);

/* dkim_alg_key_type - the k= tag value of ALG. */
const char *dkim_alg_key_type(enum dkim_alg alg);

/*
 * dkim_key_generate - make a new key pair: RSA of BITS bits (0 means
 * DKIM_RSA_DEFAULT_BITS; 1024 to 8192) or Ed25519 (BITS ignored). Returns 0
 * with *PEM the private key as PKCS#8 PEM text (the caller stores it and frees
 * it with dkim_secret_free) and *PUBLIC the p= value (base64 of the
 * SubjectPublicKeyInfo DER for RSA, of the raw 32-octet key for Ed25519; free
 * with xfree). Returns -1 with *WHY set to a static reason otherwise.
 */
int dkim_key_generate(enum dkim_alg alg, int bits, char **pem, char **public, const char **why);

/*
 * dkim_key_load - load an RSA or Ed25519 private key from LEN octets of PEM
 * text (PKCS#8 or PKCS#1; encrypted keys are refused, never prompted for).
 * Returns the key, or NULL with *ERR (if ERR is not NULL) set to an allocated
 * line "cannot load DKIM key for SELECTOR._domainkey.DOMAIN: reason" that the
 * caller frees with xfree. The reason never quotes the key.
 */
struct dkim_key *dkim_key_load(const char *pem, size_t len, const char *selector,
                               const char *domain, char **err);

/* dkim_key_alg - the signing algorithm of KEY (from its type). */
enum dkim_alg dkim_key_alg(const struct dkim_key *key);

/* dkim_key_public - append the p= value of KEY to OUT; 0, or -1 if OpenSSL fails. */
int dkim_key_public(const struct dkim_key *key, struct buf *out);

/* dkim_key_free - free KEY (NULL is accepted); its memory is wiped. */
void dkim_key_free(struct dkim_key *key);

/* dkim_selector_ok - true when S is one lower-case DNS label (letters, digits, inner hyphens). */
bool dkim_selector_ok(const char *s);

/* dkim_selector_default - the selector a new key of ALG gets at time NOW: postino-YYYYMM-ALGNAME. */
void dkim_selector_default(enum dkim_alg alg, time_t now, char *out, size_t outlen);

/* dkim_secret_free - wipe and free the text S (a PEM from dkim_key_generate); NULL is accepted. */
void dkim_secret_free(char *s);

/* dkim_txt_record - append "v=DKIM1; k=rsa|ed25519; s=email; p=PUBLIC" to OUT. */
void dkim_txt_record(struct buf *out, enum dkim_alg alg, const char *public);

/*
 * dkim_zone_line - append one zone-file line (no newline) publishing TXT:
 * SELECTOR._domainkey.DOMAIN. IN TXT ( "..." "..." ), TXT cut into
 * character-strings of at most 255 octets (quotes and backslashes escaped).
 */
void dkim_zone_line(struct buf *out, const char *selector, const char *domain, const char *txt);

/*
 * dkim_signer_new - a signer for DOMAIN and SELECTOR with KEY, whose
 * ownership passes to the signer (also on failure). Canonicalization is
 * relaxed/relaxed. Returns NULL only if OpenSSL cannot provide SHA-256.
 */
struct dkim_signer *dkim_signer_new(const char *domain, const char *selector, struct dkim_key *key);

/* dkim_signer_set_canon - use HEADER and BODY canonicalization (call before sharing the signer). */
void dkim_signer_set_canon(struct dkim_signer *signer, enum dkim_canon header, enum dkim_canon body);

/* dkim_signer_free - free SIGNER and its key (NULL is accepted). */
void dkim_signer_free(struct dkim_signer *signer);

/*
 * dkim_sign - sign the CRLF message MSG (LEN octets, header and body) at
 * TIMESTAMP (t=, seconds since the epoch) and append one complete
 * "DKIM-Signature:" header field, folded at 78 columns and ending with CRLF,
 * to OUT, for the caller to prepend to the message. h= names, as present in
 * the message, From (once more than it occurs: oversigned), To, Subject,
 * Date, Message-ID, MIME-Version, Content-Type, Reply-To, List-Unsubscribe,
 * List-Unsubscribe-Post and List-Id. No l= and no x= tag. To sign with two
 * keys, call it once per signer on the same unsigned message and prepend
 * both fields. Returns 0; or -1 (OUT unchanged) when the message holds more
 * than DKIM_MAX_SIGNED_FIELDS signed fields, -2 when OpenSSL fails.
 */
int dkim_sign(const struct dkim_signer *signer, const char *msg, size_t len, long long timestamp,
              struct buf *out);

/* What dkim_sign_with puts in the signature beyond the defaults. */
struct dkim_sign_opts {
    const char *const *headers; /* h= names in order; selection bottom-up (RFC 6376 5.4.2) */
    size_t nheaders;
    const char *h_separator;    /* between h= names: NULL means ":" ("from : to" is allowed) */
    const char *identity;       /* i= value, or NULL for none */
    bool query_dns_txt;         /* add q=dns/txt */
};

/*
 * dkim_sign_with - as dkim_sign, with the h= list and tags of OPTS; tags in
 * the order v a c d [i] [q] s t h bh b, as the published examples have them.
 * Returns as dkim_sign (-1 also for an empty h= list).
 */
int dkim_sign_with(const struct dkim_signer *signer, const char *msg, size_t len, long long timestamp,
                   const struct dkim_sign_opts *opts, struct buf *out);

/*
 * A batch of messages has its body hashes taken together (sha256_many), then
 * each message is signed with its own: dkim_body_of describes the canonical
 * body of a message, without copying it where it is the message's own octets
 * (then at most a final CRLF added: the usual case); dkim_sign_bh signs as
 * dkim_sign does, with that body's SHA-256. The message must not change in
 * between. A copy, when one was needed, is freed with buf_free(&B->copy).
 */
struct dkim_body {
    struct sha256_in in; /* the canonical body, for sha256_many */
    unsigned char tail[SHA256_MANY_B_MAX];
    struct buf copy;
};

/* dkim_body_of - B: the canonical body (CANON) of the CRLF message MSG; B->copy starts as BUF_INIT or reused. */
void dkim_body_of(enum dkim_canon canon, const char *msg, size_t len, struct dkim_body *b);

/* dkim_signer_body_canon - the body canonicalization SIGNER signs with. */
enum dkim_canon dkim_signer_body_canon(const struct dkim_signer *signer);

/* dkim_sign_bh - as dkim_sign, the body's SHA-256 BH given (of dkim_body_of for the signer's body canonicalization). */
int dkim_sign_bh(const struct dkim_signer *signer, const char *msg, size_t len, long long timestamp,
                 const unsigned char bh[32], struct buf *out);

/* dkim_thread_cleanup - free the calling thread's digest contexts (they come back on next use). */
void dkim_thread_cleanup(void);

/*
 * dkim_sign_cpu - how long the private-key operation of a signature takes
 * in this process, on the signing thread's CPU clock (so time off the CPU
 * is not counted): every DKIM_SIGN_SAMPLE-th operation of each thread is
 * timed. That is a prime, so the sample does not beat with OpenSSL's own
 * periods: an RSA key's blinding is renewed every 32nd use, and with 1 in 16
 * timed, half the samples were renewals (422 us where the mean is 308).
 * *TIMED gets how many were timed, *NS their CPU time in all. What is
 * "postino besides the signature" is the rest of a sender's CPU.
 */
#define DKIM_SIGN_SAMPLE 17
void dkim_sign_cpu(unsigned long *timed, unsigned long long *ns);

#endif
