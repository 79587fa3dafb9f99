/*
 * qp - quoted-printable content transfer encoding (RFC 2045 section 6.7).
 *
 * qp_encode   append the quoted-printable form of a text body (lines <= 76)
 * qp_decode   append the decoding of a quoted-printable body; -1 on a bad escape
 *
 * The encoder treats its input as text: a line break (LF or CRLF) becomes a
 * CRLF hard break, every other control byte, "=" and 8-bit byte becomes =XX,
 * whitespace at the end of a line is encoded, long lines get "=" soft breaks,
 * and a "." or "From " at the start of an output line is encoded so that
 * neither SMTP dot-stuffing nor mbox quoting can touch it. Nothing here fails
 * except qp_decode on malformed input.
 */
#ifndef POSTINO_UTIL_QP_H
#define POSTINO_UTIL_QP_H

#include <stddef.h>

#include "engine/util/buf.h"

#define QP_LINE_MAX 76

void qp_encode(struct buf *out, const void *data, size_t len);
int qp_decode(struct buf *out, const char *text, size_t len);

/* 1 for the bytes quoted-printable copies as they are in mid-line (printable ASCII but "=", SP, TAB). */
extern const unsigned char qp_plain[256];

/* qp__plain_run - how many of the LIM bytes at S are plain (qp_plain) before the first that is not. */
size_t qp__plain_run(const unsigned char *s, size_t lim);

#endif
