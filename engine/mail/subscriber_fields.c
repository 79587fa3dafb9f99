/*
 * subscriber_fields - what a subscriber's name and attribute keys may be.
 *
 * Keys appear in templates ({{ attribs.KEY }}), in filters (attr.KEY=VALUE)
 * and as column names of exports, so they are short, printable text.
 */
#include <string.h>

#include <jansson.h>

#include "engine/mail/mime.h"
#include "engine/mail/subscriber_fields.h"
#include "engine/util/str.h"

/* subscriber_name_check - see subscriber_fields.h. */
int subscriber_name_check(const char *name, const char **why)
{
    size_t n = strlen(name);
    if (n > SUBSCRIBER_NAME_MAX) {
        *why = "is longer than 1000 bytes";
        return -1;
    }
    if (!str_utf8_valid(name, n, NULL)) {
        *why = "is not valid UTF-8";
        return -1;
    }
    /* line breaks and tabs from messy exports are kept (rendered as spaces); no other control character */
    return mime_name_check(name, true, why) < 0 ? -1 : 0;
}

/* subscriber_attr_key_check - see subscriber_fields.h. */
int subscriber_attr_key_check(const char *key, const char **why)
{
    size_t n = strlen(key);
    if (n == 0) {
        *why = "is empty";
        return -1;
    }
    if (n > SUBSCRIBER_ATTR_KEY_MAX) {
        *why = "is longer than 200 bytes";
        return -1;
    }
    if (!str_utf8_valid(key, n, NULL)) {
        *why = "is not valid UTF-8";
        return -1;
    }
    for (const unsigned char *p = (const unsigned char *)key; *p; p++) {
        if (*p < 0x20 || *p == 0x7f) {
            *why = "holds a control character";
            return -1;
        }
    }
    return 0;
}

/* subscriber_attribs_check - see subscriber_fields.h. */
int subscriber_attribs_check(json_t *attribs, bool removals, const char **key, const char **why)
{
    const char *k;
    json_t *v;
    *key = NULL;
    if (!json_is_object(attribs)) {
        *why = "must be an object";
        return -1;
    }
    if (json_object_size(attribs) > SUBSCRIBER_ATTRS_MAX) {
        *why = "has more than 200 keys";
        return -1;
    }
    json_object_foreach(attribs, k, v) {
        if (subscriber_attr_key_check(k, why) < 0) {
            *key = k;
            return -1;
        }
        if (json_is_null(v) && !removals) {
            *key = k;
            *why = "is null (a value is needed)";
            return -1;
        }
    }
    return 0;
}
