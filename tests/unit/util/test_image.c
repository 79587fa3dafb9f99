/* test_image - image types and sizes from their headers, and the rule for an upload (image_check). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "engine/util/image.h"

/* a PNG's signature and IHDR for W x H (the rest of the file is not read) */
static size_t png(unsigned char *b, unsigned w, unsigned h)
{
    static const unsigned char head[] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0, 0, 0, 13, 'I', 'H', 'D', 'R' };
    memcpy(b, head, sizeof(head));
    unsigned char *p = b + sizeof(head);
    p[0] = (unsigned char)(w >> 24), p[1] = (unsigned char)(w >> 16), p[2] = (unsigned char)(w >> 8), p[3] = (unsigned char)w;
    p[4] = (unsigned char)(h >> 24), p[5] = (unsigned char)(h >> 16), p[6] = (unsigned char)(h >> 8), p[7] = (unsigned char)h;
    memcpy(p + 8, "\x08\x02\x00\x00\x00", 5);
    return sizeof(head) + 13;
}

/* SOI, an APP0 (JFIF) and a COM segment, then a frame header SOFn of W x H */
static size_t jpeg(unsigned char *b, unsigned sof, unsigned w, unsigned h)
{
    static const unsigned char head[] = { 0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 'J', 'F', 'I', 'F', 0, 1, 1, 0, 0, 1, 0, 1, 0, 0,
                                          0xff, 0xfe, 0x00, 0x05, 'h', 'i', '!', 0xff, 0xff };
    memcpy(b, head, sizeof(head));
    unsigned char *p = b + sizeof(head);
    unsigned char sofseg[] = { 0xff, (unsigned char)sof, 0x00, 0x11, 8, (unsigned char)(h >> 8), (unsigned char)h,
                               (unsigned char)(w >> 8), (unsigned char)w, 3 };
    memcpy(p, sofseg, sizeof(sofseg));
    return sizeof(head) + sizeof(sofseg);
}

static void test_image_sniff_types_and_sizes(void **state)
{
    (void)state;
    unsigned char b[256];
    struct image_info i;
    size_t n = png(b, 640, 480);
    assert_int_equal(image_sniff(b, n, &i), 0);
    assert_int_equal(i.type, IMAGE_PNG);
    assert_int_equal(i.width, 640);
    assert_int_equal(i.height, 480);

    n = jpeg(b, 0xc0, 1024, 768);
    assert_int_equal(image_sniff(b, n, &i), 0);
    assert_int_equal(i.type, IMAGE_JPEG);
    assert_int_equal(i.width, 1024);
    assert_int_equal(i.height, 768);
    n = jpeg(b, 0xc2, 33, 44);   /* progressive */
    assert_int_equal(image_sniff(b, n, &i), 0);
    assert_int_equal(i.width, 33);
    assert_int_equal(i.height, 44);
    n = jpeg(b, 0xc4, 33, 44);   /* DHT is not a frame: no size before the end */
    assert_int_equal(image_sniff(b, n, &i), -1);
    assert_int_equal(i.type, IMAGE_JPEG);

    static const unsigned char gif[] = "GIF89a\x02\x01\x03\x00\x80\x00\x00";
    assert_int_equal(image_sniff(gif, sizeof(gif) - 1, &i), 0);
    assert_int_equal(i.type, IMAGE_GIF);
    assert_int_equal(i.width, 258);
    assert_int_equal(i.height, 3);

    /* WebP: lossy (VP8 key frame), lossless (VP8L), extended (VP8X) */
    static const unsigned char vp8[] = "RIFF\x24\x00\x00\x00WEBPVP8 \x18\x00\x00\x00"
                                       "\x30\x01\x00\x9d\x01\x2a\x90\x01\x2c\x01\x00\x00";
    assert_int_equal(image_sniff(vp8, sizeof(vp8) - 1, &i), 0);
    assert_int_equal(i.type, IMAGE_WEBP);
    assert_int_equal(i.width, 400);
    assert_int_equal(i.height, 300);
    /* 14 bits each of width-1 (99) and height-1 (49): 99 | 49 << 14 */
    static const unsigned char vp8l[] = "RIFF\x1a\x00\x00\x00WEBPVP8L\x0d\x00\x00\x00\x2f\x63\x40\x0c\x00\x00\x00\x00\x00\x00";
    assert_int_equal(image_sniff(vp8l, sizeof(vp8l) - 1, &i), 0);
    assert_int_equal(i.width, 100);
    assert_int_equal(i.height, 50);
    static const unsigned char vp8x[] = "RIFF\x1a\x00\x00\x00WEBPVP8X\x0a\x00\x00\x00\x10\x00\x00\x00\xff\x03\x00\xc7\x00\x00";
    assert_int_equal(image_sniff(vp8x, sizeof(vp8x) - 1, &i), 0);
    assert_int_equal(i.width, 1024);
    assert_int_equal(i.height, 200);

    static const char svg[] = "\xef\xbb\xbf  <?xml version=\"1.0\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\"/>";
    assert_int_equal(image_sniff(svg, sizeof(svg) - 1, &i), -1);
    assert_int_equal(i.type, IMAGE_SVG);
    static const char svg2[] = "<!-- x --><SVG onload=alert(1)>";
    assert_int_equal(image_sniff(svg2, sizeof(svg2) - 1, &i), -1);
    assert_int_equal(i.type, IMAGE_SVG);
    assert_int_equal(image_sniff("hello, world", 12, &i), -1);
    assert_int_equal(i.type, IMAGE_NONE);
    assert_int_equal(image_sniff("", 0, &i), -1);
    /* a header cut short: the type, no size */
    n = png(b, 5, 5);
    assert_int_equal(image_sniff(b, 20, &i), -1);
    assert_int_equal(i.type, IMAGE_PNG);
    assert_int_equal(i.width, 0);
}

/* each refusal of image_check, with its words and its kind (413, 415, 400) */
static void test_image_check_refusals(void **state)
{
    (void)state;
    unsigned char b[256], jp[256];
    struct image_info i;
    char why[256];
    size_t n = png(b, 120, 80), nj = jpeg(jp, 0xc0, 10, 10);
    const struct {
        const void *data;
        size_t *len;
        const char *declared;
        size_t max;
        enum image_refusal want;
        const char *why;
    } cases[] = {
        { b, &n, "image/png", 1000, IMAGE_OK, "" },
        { b, &n, "IMAGE/PNG; charset=binary", 1000, IMAGE_OK, "" },
        { b, &n, NULL, 1000, IMAGE_OK, "" },
        { jp, &nj, "image/jpeg", 1000, IMAGE_OK, "" },
        { b, &n, "image/png", 20, IMAGE_TOO_LARGE, "the image is 29 bytes; at most 20 are taken" },
        { b, &n, "image/jpeg", 1000, IMAGE_MISMATCH, "the file is a PNG image, not image/jpeg as declared" },
        { jp, &nj, "image/gif", 1000, IMAGE_MISMATCH, "the file is a JPEG image, not image/gif as declared" },
        { b, &n, "image/svg+xml", 1000, IMAGE_UNSUPPORTED,
          "SVG images are refused (they can hold scripts); upload a PNG, JPEG, GIF or WebP" },
        { b, &n, "text/html", 1000, IMAGE_UNSUPPORTED,
          "the content type must be image/png, image/jpeg, image/gif or image/webp, not \"text/html\"" },
        { b, &n, "", 1000, IMAGE_UNSUPPORTED,
          "the content type must be image/png, image/jpeg, image/gif or image/webp, not \"\"" },
    };
    for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
        why[0] = 0;
        assert_int_equal(image_check(cases[k].data, *cases[k].len, cases[k].declared, cases[k].max, &i, why,
                                     sizeof(why)),
                         cases[k].want);
        if (cases[k].want != IMAGE_OK)
            assert_string_equal(why, cases[k].why);
    }
    static const char text[] = "just some text, not a picture\n";
    assert_int_equal(image_check(text, sizeof(text) - 1, "image/png", 1000, &i, why, sizeof(why)), IMAGE_MISMATCH);
    assert_string_equal(why, "the file is not a PNG, JPEG, GIF or WebP image as declared");
    assert_int_equal(image_check(text, sizeof(text) - 1, NULL, 1000, &i, why, sizeof(why)), IMAGE_UNSUPPORTED);
    assert_string_equal(why, "the file is not a PNG, JPEG, GIF or WebP image");
    static const char svg[] = "<svg xmlns=\"http://www.w3.org/2000/svg\"><script>alert(1)</script></svg>";
    assert_int_equal(image_check(svg, sizeof(svg) - 1, "image/png", 1000, &i, why, sizeof(why)), IMAGE_UNSUPPORTED);
    assert_string_equal(why, "SVG images are refused (they can hold scripts); upload a PNG, JPEG, GIF or WebP");
    n = png(b, 10001, 20);
    assert_int_equal(image_check(b, n, "image/png", 1000, &i, why, sizeof(why)), IMAGE_DAMAGED);
    assert_string_equal(why, "the image is 10001x20 pixels; at most 10000x10000 are taken");
    n = png(b, 0, 20);
    assert_int_equal(image_check(b, n, "image/png", 1000, &i, why, sizeof(why)), IMAGE_DAMAGED);
    assert_string_equal(why, "the PNG image's header is damaged: no size can be read from it");
}

static void test_image_names(void **state)
{
    (void)state;
    assert_int_equal(image_from_ext("logo.PNG"), IMAGE_PNG);
    assert_int_equal(image_from_ext("a.b.jpeg"), IMAGE_JPEG);
    assert_int_equal(image_from_ext("x.jpg"), IMAGE_JPEG);
    assert_int_equal(image_from_ext("x.webp"), IMAGE_WEBP);
    assert_int_equal(image_from_ext("x.svg"), IMAGE_SVG);
    assert_int_equal(image_from_ext("x.png.exe"), IMAGE_NONE);
    assert_int_equal(image_from_ext("png"), IMAGE_NONE);
    assert_string_equal(image_mime(IMAGE_JPEG), "image/jpeg");
    assert_string_equal(image_ext(IMAGE_JPEG), "jpg");
    assert_string_equal(image_ext(IMAGE_NONE), "");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_image_sniff_types_and_sizes),
        cmocka_unit_test(test_image_check_refusals),
        cmocka_unit_test(test_image_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
