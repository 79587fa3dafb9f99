/*
 * image - image types and sizes from their headers (see image.h).
 *
 * PNG: the signature, then IHDR's width and height. GIF: "GIF87a" or
 * "GIF89a", then the screen's width and height. JPEG: SOI, then the
 * segments up to the first start-of-frame (SOF0-SOF15 but DHT, JPG and
 * DAC), which holds the height and width. WebP: RIFF/WEBP, then the first
 * chunk: VP8 (lossy), VP8L (lossless) or VP8X (extended canvas). Every
 * read is bounds-checked against LEN.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "engine/util/image.h"

static unsigned be16(const unsigned char *p)
{
    return (unsigned)p[0] << 8 | p[1];
}

static unsigned le16(const unsigned char *p)
{
    return (unsigned)p[1] << 8 | p[0];
}

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint32_t le24(const unsigned char *p)
{
    return (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
}

static uint32_t le32(const unsigned char *p)
{
    return (uint32_t)p[3] << 24 | le24(p);
}

/* PNG: 0 with the size from IHDR, -1 when IHDR is not where it must be */
static int sniff_png(const unsigned char *d, size_t len, struct image_info *out)
{
    if (len < 24 || be32(d + 8) != 13 || memcmp(d + 12, "IHDR", 4) != 0)
        return -1;
    uint32_t w = be32(d + 16), h = be32(d + 20);
    out->width = w > 0xffffff ? 0xffffff : w;
    out->height = h > 0xffffff ? 0xffffff : h;
    return 0;
}

/* JPEG: walk the segments to the first frame header */
static int sniff_jpeg(const unsigned char *d, size_t len, struct image_info *out)
{
    size_t i = 2;
    while (i + 4 <= len) {
        if (d[i] != 0xff)
            return -1;
        unsigned m = d[i + 1];
        if (m == 0xff) {            /* fill byte */
            i++;
            continue;
        }
        if (m == 0x01 || (m >= 0xd0 && m <= 0xd8)) {   /* no length: TEM, RSTn, SOI */
            i += 2;
            continue;
        }
        if (m == 0xd9 || m == 0xda) /* EOI or SOS before any frame */
            return -1;
        unsigned seglen = be16(d + i + 2);
        if (seglen < 2)
            return -1;
        if (m >= 0xc0 && m <= 0xcf && m != 0xc4 && m != 0xc8 && m != 0xcc) {
            if (seglen < 7 || i + 9 > len)
                return -1;
            out->height = be16(d + i + 5);
            out->width = be16(d + i + 7);
            return 0;
        }
        i += 2 + seglen;
    }
    return -1;
}

/* WebP: the size from the first chunk */
static int sniff_webp(const unsigned char *d, size_t len, struct image_info *out)
{
    if (len < 30)
        return -1;
    const unsigned char *c = d + 12, *p = d + 20;
    if (memcmp(c, "VP8 ", 4) == 0) {
        /* a key frame: 3 bytes of frame tag, the start code, 14-bit width and height */
        if (p[3] != 0x9d || p[4] != 0x01 || p[5] != 0x2a)
            return -1;
        out->width = le16(p + 6) & 0x3fff;
        out->height = le16(p + 8) & 0x3fff;
        return 0;
    }
    if (memcmp(c, "VP8L", 4) == 0) {
        if (p[0] != 0x2f)
            return -1;
        uint32_t bits = le32(p + 1);
        out->width = (bits & 0x3fff) + 1;
        out->height = ((bits >> 14) & 0x3fff) + 1;
        return 0;
    }
    if (memcmp(c, "VP8X", 4) == 0) {
        out->width = le24(p + 4) + 1;
        out->height = le24(p + 7) + 1;
        return 0;
    }
    return -1;
}

/* does the text at D look like SVG (or any XML, which an SVG may start as) */
static bool looks_svg(const unsigned char *d, size_t len)
{
    size_t i = len >= 3 && memcmp(d, "\xef\xbb\xbf", 3) == 0 ? 3 : 0;
    while (i < len && (d[i] == ' ' || d[i] == '\t' || d[i] == '\r' || d[i] == '\n'))
        i++;
    if (i >= len || d[i] != '<')
        return false;
    size_t n = len - i < 4096 ? len - i : 4096;
    for (size_t k = 0; k + 4 <= n; k++)
        if (strncasecmp((const char *)d + i + k, "<svg", 4) == 0)
            return true;
    return len - i >= 5 && memcmp(d + i, "<?xml", 5) == 0;
}

/*
 * image_sniff - the type of the LEN bytes at DATA and, for a raster type,
 * its size. Returns 0 with OUT filled; -1 with OUT->type IMAGE_NONE when the
 * bytes are no type known, or with OUT->type set and no size when that
 * type's header cannot be read (SVG always: it has no size to read here).
 */
int image_sniff(const void *data, size_t len, struct image_info *out)
{
    const unsigned char *d = data;
    int rc = -1;
    memset(out, 0, sizeof(*out));
    if (len >= 8 && memcmp(d, "\x89PNG\r\n\x1a\n", 8) == 0) {
        out->type = IMAGE_PNG;
        rc = sniff_png(d, len, out);
    } else if (len >= 3 && d[0] == 0xff && d[1] == 0xd8 && d[2] == 0xff) {
        out->type = IMAGE_JPEG;
        rc = sniff_jpeg(d, len, out);
    } else if (len >= 10 && (memcmp(d, "GIF87a", 6) == 0 || memcmp(d, "GIF89a", 6) == 0)) {
        out->type = IMAGE_GIF;
        out->width = le16(d + 6);
        out->height = le16(d + 8);
        rc = 0;
    } else if (len >= 12 && memcmp(d, "RIFF", 4) == 0 && memcmp(d + 8, "WEBP", 4) == 0) {
        out->type = IMAGE_WEBP;
        rc = sniff_webp(d, len, out);
    } else if (looks_svg(d, len)) {
        out->type = IMAGE_SVG;
    }
    if (rc < 0)
        out->width = out->height = 0;
    return rc;
}

static const struct {
    enum image_type type;
    const char *mime, *ext, *name;
} types[] = {
    { IMAGE_PNG, "image/png", "png", "PNG" },
    { IMAGE_JPEG, "image/jpeg", "jpg", "JPEG" },
    { IMAGE_GIF, "image/gif", "gif", "GIF" },
    { IMAGE_WEBP, "image/webp", "webp", "WebP" },
    { IMAGE_SVG, "image/svg+xml", "svg", "SVG" },
};

#define NTYPES (sizeof(types) / sizeof(types[0]))

/* image_mime - the MIME type of T ("" for IMAGE_NONE). */
const char *image_mime(enum image_type t)
{
    for (size_t i = 0; i < NTYPES; i++)
        if (types[i].type == t)
            return types[i].mime;
    return "";
}

/* image_ext - the file extension of T, without the dot ("" for IMAGE_NONE). */
const char *image_ext(enum image_type t)
{
    for (size_t i = 0; i < NTYPES; i++)
        if (types[i].type == t)
            return types[i].ext;
    return "";
}

static const char *type_name(enum image_type t)
{
    for (size_t i = 0; i < NTYPES; i++)
        if (types[i].type == t)
            return types[i].name;
    return "unknown";
}

/* image_from_ext - the type NAME's extension names (.png .jpg .jpeg .gif .webp .svg), or IMAGE_NONE. */
enum image_type image_from_ext(const char *name)
{
    const char *dot = strrchr(name, '.');
    if (!dot)
        return IMAGE_NONE;
    if (strcasecmp(dot + 1, "jpeg") == 0)
        return IMAGE_JPEG;
    for (size_t i = 0; i < NTYPES; i++)
        if (strcasecmp(dot + 1, types[i].ext) == 0)
            return types[i].type;
    return IMAGE_NONE;
}

#define SVG_REFUSED "SVG images are refused (they can hold scripts); upload a PNG, JPEG, GIF or WebP"
#define TYPES_TAKEN "PNG, JPEG, GIF or WebP"

/*
 * image_type_parse - the type MIME declares (parameters ignored, case
 * ignored). Returns 0 with *TYPE, or -1 with WHY for SVG and for any
 * other type than image/png, image/jpeg, image/gif, image/webp.
 */
int image_type_parse(const char *mime, enum image_type *type, char *why, size_t whylen)
{
    size_t n = mime ? strcspn(mime, "; ") : 0;
    *type = IMAGE_NONE;
    for (size_t i = 0; i < NTYPES; i++)
        if (n == strlen(types[i].mime) && strncasecmp(mime, types[i].mime, n) == 0)
            *type = types[i].type;
    if (*type == IMAGE_SVG) {
        snprintf(why, whylen, SVG_REFUSED);
        return -1;
    }
    if (*type == IMAGE_NONE) {
        snprintf(why, whylen, "the content type must be image/png, image/jpeg, image/gif or image/webp, not \"%.*s\"",
                 (int)(n > 60 ? 60 : n), mime ? mime : "");
        return -1;
    }
    return 0;
}

/*
 * image_check - may the LEN bytes at DATA, declared as DECLARED (a MIME
 * type, or NULL when nothing was declared), be taken as an image of at most
 * MAX_BYTES? Returns IMAGE_OK with OUT (type and size), or the refusal with
 * WHY.
 */
enum image_refusal image_check(const void *data, size_t len, const char *declared, size_t max_bytes,
                               struct image_info *out, char *why, size_t whylen)
{
    enum image_type want = IMAGE_NONE;
    if (len > max_bytes) {
        snprintf(why, whylen, "the image is %zu bytes; at most %zu are taken", len, max_bytes);
        return IMAGE_TOO_LARGE;
    }
    if (declared && image_type_parse(declared, &want, why, whylen) < 0)
        return IMAGE_UNSUPPORTED;
    int rc = image_sniff(data, len, out);
    if (out->type == IMAGE_SVG) {
        snprintf(why, whylen, SVG_REFUSED);
        return IMAGE_UNSUPPORTED;
    }
    if (out->type == IMAGE_NONE) {
        snprintf(why, whylen, "the file is not a " TYPES_TAKEN " image%s", declared ? " as declared" : "");
        return declared ? IMAGE_MISMATCH : IMAGE_UNSUPPORTED;
    }
    if (declared && out->type != want) {
        snprintf(why, whylen, "the file is a %s image, not %s as declared", type_name(out->type), image_mime(want));
        return IMAGE_MISMATCH;
    }
    if (rc < 0 || out->width == 0 || out->height == 0) {
        snprintf(why, whylen, "the %s image's header is damaged: no size can be read from it", type_name(out->type));
        return IMAGE_DAMAGED;
    }
    if (out->width > IMAGE_SIDE_MAX || out->height > IMAGE_SIDE_MAX) {
        snprintf(why, whylen, "the image is %ux%u pixels; at most %ux%u are taken", out->width, out->height,
                 IMAGE_SIDE_MAX, IMAGE_SIDE_MAX);
        return IMAGE_DAMAGED;
    }
    return IMAGE_OK;
}
