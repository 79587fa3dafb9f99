/*
 * fuzz_image - image headers (image_sniff, image_check) on arbitrary bytes.
 *
 * Every declared type is tried; a type and size are only ever read from
 * within the bytes, and image_check's answer agrees with image_sniff's.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "engine/util/image.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const declared[] = { NULL, "image/png", "image/jpeg", "image/gif", "image/webp",
                                            "image/svg+xml", "text/plain" };
    struct image_info a, b;
    char why[256];
    /* a copy of exactly SIZE bytes: a read past the end is caught */
    unsigned char *copy = malloc(size ? size : 1);
    memcpy(copy, data, size);
    int rc = image_sniff(copy, size, &a);
    for (size_t i = 0; i < sizeof(declared) / sizeof(declared[0]); i++) {
        enum image_refusal r = image_check(copy, size, declared[i], 1 << 20, &b, why, sizeof(why));
        if (r == IMAGE_OK && (rc < 0 || b.type != a.type || b.width != a.width || b.height != a.height ||
                              b.width == 0 || b.width > IMAGE_SIDE_MAX || a.type == IMAGE_SVG))
            abort();
        if (r != IMAGE_OK && strlen(why) == 0)
            abort();
    }
    free(copy);
    return 0;
}
