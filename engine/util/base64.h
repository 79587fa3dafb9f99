/*
 * base64 - RFC 4648 base64 encoding and decoding.
 *
 * base64_encode         append the encoding of LEN bytes to OUT (no line breaks)
 * base64_encode_lines   the same, with CRLF after every LINE characters (MIME: 76)
 * base64_decode         append the decoding to OUT; -1 on a bad character or length
 *
 * Decoding skips ASCII whitespace (folded DNS records and headers contain it).
 */
#ifndef POSTINO_UTIL_BASE64_H
#define POSTINO_UTIL_BASE64_H

#include <stddef.h>

#include "engine/util/buf.h"

void base64_encode(struct buf *out, const void *data, size_t len);
void base64_encode_lines(struct buf *out, const void *data, size_t len, size_t line);
int base64_decode(struct buf *out, const char *text, size_t len);
size_t base64_encoded_len(size_t len);

#endif
