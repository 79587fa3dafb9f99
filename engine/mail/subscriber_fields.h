/*
 * subscriber_fields - the rules for what a subscriber's name and attributes
 * may hold, wherever they come in (subscriber add and set, the API, imports).
 *
 * subscriber_name_check     a name: valid UTF-8, at most SUBSCRIBER_NAME_MAX bytes, no control
 *                           character but line breaks and tabs (mime_name_check)
 * subscriber_attr_key_check an attribute's key: 1 to SUBSCRIBER_ATTR_KEY_MAX bytes
 *                           of UTF-8, no control character
 * subscriber_attribs_check  a whole attributes object (or, for an edit, one whose
 *                           null members remove their keys)
 *
 * Each returns 0, or -1 with *WHY a static reason that follows the field's
 * name ("is longer than 1000 bytes"); they hold no state.
 */
#ifndef POSTINO_MAIL_SUBSCRIBER_FIELDS_H
#define POSTINO_MAIL_SUBSCRIBER_FIELDS_H

#include <stdbool.h>

struct json_t;   /* jansson's; this header does not bring jansson's names in (the importer has its own json_string) */

#define SUBSCRIBER_NAME_MAX 1000      /* bytes */
#define SUBSCRIBER_ATTR_KEY_MAX 200   /* bytes; the API's attr.KEY filter takes as much */
#define SUBSCRIBER_ATTRS_MAX 200      /* keys in one object */

/* subscriber_name_check - may NAME be a subscriber's name. */
int subscriber_name_check(const char *name, const char **why);

/* subscriber_attr_key_check - may KEY name an attribute. */
int subscriber_attr_key_check(const char *key, const char **why);

/*
 * subscriber_attribs_check - may ATTRIBS be a subscriber's attributes: an
 * object of at most SUBSCRIBER_ATTRS_MAX keys, each checked by
 * subscriber_attr_key_check; with REMOVALS a member may be null (an edit
 * removing that key). On -1, *KEY is the key at fault (a pointer into
 * ATTRIBS) or NULL when the object as a whole is.
 */
int subscriber_attribs_check(struct json_t *attribs, bool removals, const char **key, const char **why);

#endif
