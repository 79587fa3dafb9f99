/*
 * image - what an image's bytes say it is, and whether to take it.
 *
 * image_sniff       the type (PNG, JPEG, GIF, WebP; SVG recognised) and the size
 *                   in pixels, read from the bytes' own headers
 * image_type_parse  a declared MIME type ("image/png; …") to a type; -1 with WHY
 *                   for SVG and for any type not taken
 * image_check       the rule for an upload: at most MAX bytes, a raster type
 *                   taken, its bytes that type (the one declared, when one is),
 *                   a header that reads, at most IMAGE_SIDE_MAX pixels a side
 * image_mime        "image/png" …     image_ext   "png", "jpg", "gif", "webp"
 * image_from_ext    the type a file name's extension names (IMAGE_NONE: none)
 *
 * SVG is refused: it is a document that can hold scripts and load other
 * resources, not a picture. Only the headers are read (no decoding), so a
 * hostile file costs nothing but the bytes looked at. Reasons are one line,
 * in words the CLI and the API both show as they are.
 */
#ifndef POSTINO_UTIL_IMAGE_H
#define POSTINO_UTIL_IMAGE_H

#include <stdbool.h>
#include <stddef.h>

#define IMAGE_SIDE_MAX 10000   /* pixels, width and height */

enum image_type { IMAGE_NONE, IMAGE_PNG, IMAGE_JPEG, IMAGE_GIF, IMAGE_WEBP, IMAGE_SVG };

struct image_info {
    enum image_type type;
    unsigned width, height;     /* 0 when the header gave none */
};

/* why image_check refused: the HTTP answer that fits */
enum image_refusal {
    IMAGE_OK = 0,
    IMAGE_TOO_LARGE = -1,    /* more bytes than allowed (413) */
    IMAGE_UNSUPPORTED = -2,  /* not a type taken, or SVG (415) */
    IMAGE_MISMATCH = -3,     /* the bytes are another type than declared (415) */
    IMAGE_DAMAGED = -4,      /* the header cannot be read, or too many pixels (400) */
};

int image_sniff(const void *data, size_t len, struct image_info *out);
int image_type_parse(const char *mime, enum image_type *type, char *why, size_t whylen);
enum image_refusal image_check(const void *data, size_t len, const char *declared, size_t max_bytes,
                               struct image_info *out, char *why, size_t whylen);
const char *image_mime(enum image_type t);
const char *image_ext(enum image_type t);
enum image_type image_from_ext(const char *name);

#endif
