/*
 * base64 - RFC 4648 base64 with the standard alphabet and padding.
 */
#include <stdint.h>

#include "engine/util/base64.h"

static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* base64_encoded_len - the length of the encoding of LEN bytes, without line breaks. */
size_t base64_encoded_len(size_t len)
{
    return (len + 2) / 3 * 4;
}

/* base64_encode_lines - encode, breaking with CRLF every LINE output characters (0: never). */
void base64_encode_lines(struct buf *out, const void *data, size_t len, size_t line)
{
    const unsigned char *p = data;
    size_t col = 0;
    buf_reserve(out, base64_encoded_len(len) + (line ? base64_encoded_len(len) / line * 2 + 2 : 0));
    char *o = out->data + out->len;
    for (size_t i = 0; i < len; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16;
        if (i + 1 < len)
            v |= (uint32_t)p[i + 1] << 8;
        if (i + 2 < len)
            v |= p[i + 2];
        *o++ = alphabet[(v >> 18) & 63];
        *o++ = alphabet[(v >> 12) & 63];
        *o++ = i + 1 < len ? alphabet[(v >> 6) & 63] : '=';
        *o++ = i + 2 < len ? alphabet[v & 63] : '=';
        col += 4;
        if (line && col >= line && i + 3 < len) {
            *o++ = '\r';
            *o++ = '\n';
            col = 0;
        }
    }
    out->len = (size_t)(o - out->data);
    out->data[out->len] = 0;
}

/* base64_encode - encode LEN bytes at DATA onto OUT. */
void base64_encode(struct buf *out, const void *data, size_t len)
{
    base64_encode_lines(out, data, len, 0);
}

static int decode_char(unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

/* base64_decode - decode LEN characters of TEXT onto OUT; 0, or -1 when malformed (OUT then undefined). */
int base64_decode(struct buf *out, const char *text, size_t len)
{
    uint32_t acc = 0;
    int bits = 0, pad = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)text[i];
        if (c == ' ' || c == '\t' || c == '\r' || c == '\n')
            continue;
        if (c == '=') {
            pad++;
            continue;
        }
        int v = decode_char(c);
        if (v < 0 || pad)
            return -1;
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            buf_appendc(out, (char)((acc >> bits) & 0xff));
        }
    }
    if (pad > 2 || bits >= 6 || (acc & ((1u << bits) - 1)) != 0)
        return -1;
    return 0;
}
